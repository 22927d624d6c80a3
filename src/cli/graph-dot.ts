import type { Topology } from '../engine/topology.js';

// `berth system graph --format dot`: the topology as Graphviz DOT, for `dot -Tsvg` or a
// report. Written by hand: DOT is a few lines of text here, and the quoting rule is one
// function (no library needed to print it).

/** A DOT string literal. */
function q(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function toDot(t: Topology): string {
  const lines = ['graph berth {', '  rankdir=LR;', '  node [fontname="monospace", fontsize=10];', `  host [shape=box3d, label=${q(`host ${t.host.hostname}`)}];`];
  for (const n of t.networks) {
    const label = [`${n.name} (${n.driver}${n.internal ? ', internal' : ''})`, ...n.subnets, n.device ?? n.parent ?? ''].filter(Boolean).join('\n');
    lines.push(`  ${q(`net:${n.name}`)} [shape=box, style=rounded, label=${q(label)}];`);
    if (!n.internal && n.gateways.length) lines.push(`  host -- ${q(`net:${n.name}`)} [label=${q(n.gateways.join(' '))}];`);
  }
  for (const c of t.containers) {
    lines.push(`  ${q(`ctr:${c.name}`)} [shape=ellipse, label=${q(`${c.name}${c.runtime === 'cni' ? ' (cni)' : ''}\n${c.status}`)}${c.status === 'running' ? '' : ', style=dashed'}];`);
    for (const i of c.interfaces) {
      const label = [i.ifName, i.ipv4, i.ipv6, i.hostLink].filter(Boolean).join('\n');
      lines.push(`  ${q(`ctr:${c.name}`)} -- ${q(`net:${i.network}`)} [label=${q(label)}];`);
    }
    for (const l of c.links) lines.push(`  ${q(`ctr:${c.name}`)} -- ${q(`ctr:${l.target}`)} [style=dotted, label=${q(`link ${l.alias}`)}];`);
  }
  for (const p of t.ports) {
    const id = `port:${p.hostIp}:${p.hostPort}/${p.proto}`;
    lines.push(`  ${q(id)} [shape=cds, label=${q(`${p.hostIp}:${p.hostPort}/${p.proto}`)}];`);
    lines.push(`  ${q(id)} -- ${q(`ctr:${p.container}`)} [label=${q(`→ ${p.containerIp}:${p.containerPort}`)}];`);
  }
  for (const r of t.remote ?? []) {
    const id = `remote:${r.host}:${r.name}`;
    lines.push(`  ${q(id)} [shape=ellipse, style=dashed, label=${q(`${r.name}\non host ${r.host}`)}];`);
    lines.push(`  ${q(id)} -- ${q(`net:${r.network}`)} [style=dotted, label=${q(r.ipv4)}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
