import type { Topology } from '../engine/topology.js';
import type { ElkNode } from 'elkjs/lib/elk-api.js';

// The picture of a topology, shared by `berth system graph` (Node) and the topology page
// (the browser): its boxes and edges, the elkjs graph that lays them out (layered, left to
// right: published ports → host → networks → containers), and the SVG drawn from the
// layout. No Node or DOM here: both sides run it as is. A network may be collapsed: its
// containers (those on no other shown network) become one box that says how many.

const CHAR_W = 6.6;
const LINE_H = 14;
const PAD = 8;

export interface Box {
  id: string;
  lines: string[];
  kind: 'host' | 'network' | 'container' | 'port' | 'collapsed' | 'remote';
  dashed?: boolean;
}

export interface Edge {
  id: string;
  from: string;
  to: string;
  label: string[];
  dotted?: boolean;
}

function size(lines: string[]): { width: number; height: number } {
  return { width: Math.max(...lines.map((l) => l.length), 4) * CHAR_W + 2 * PAD, height: lines.length * LINE_H + PAD };
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The boxes and edges of the picture (the same ones toDot writes); `collapsed`: network names drawn with their containers folded in. */
export function shapesOf(t: Topology, collapsed: ReadonlySet<string> = new Set()): { boxes: Box[]; edges: Edge[] } {
  const boxes: Box[] = [{ id: 'host', kind: 'host', lines: [`host ${t.host.hostname}`] }];
  const edges: Edge[] = [];
  for (const n of t.networks) {
    boxes.push({ id: `net:${n.name}`, kind: 'network', lines: [`${n.name} (${n.driver}${n.internal ? ', internal' : ''})`, ...n.subnets, ...[n.device, n.parent && `parent ${n.parent}`, n.vxlan && `vxlan ${n.vxlan}`].filter((x): x is string => !!x)] });
    if (!n.internal && n.gateways.length) edges.push({ id: `gw:${n.name}`, from: 'host', to: `net:${n.name}`, label: n.gateways });
  }
  const folded = new Map<string, number>();
  for (const c of t.containers) {
    const open = c.interfaces.filter((i) => !collapsed.has(i.network));
    if (c.interfaces.length && !open.length) {
      const net = c.interfaces[0]!.network;
      folded.set(net, (folded.get(net) ?? 0) + 1);
      continue;
    }
    boxes.push({ id: `ctr:${c.name}`, kind: 'container', lines: [`${c.name}${c.runtime === 'cni' ? ' (cni)' : ''}`, c.status], dashed: c.status !== 'running' });
    for (const i of c.interfaces) {
      edges.push({ id: `if:${c.name}:${i.ifName}`, from: `net:${i.network}`, to: `ctr:${c.name}`, label: [i.ifName, i.ipv4, i.ipv6, i.hostLink].filter((x): x is string => !!x) });
    }
    for (const l of c.links) edges.push({ id: `link:${c.name}:${l.alias}`, from: `ctr:${c.name}`, to: `ctr:${l.target}`, label: [`link ${l.alias}`], dotted: true });
  }
  for (const r of t.remote ?? []) {
    if (collapsed.has(r.network)) continue;
    boxes.push({ id: `remote:${r.host}:${r.name}`, kind: 'remote', lines: [r.name, `on host ${r.host}`], dashed: true });
    edges.push({ id: `rif:${r.host}:${r.name}:${r.network}`, from: `net:${r.network}`, to: `remote:${r.host}:${r.name}`, label: [r.ipv4], dotted: true });
  }
  for (const [net, count] of folded) {
    boxes.push({ id: `folded:${net}`, kind: 'collapsed', lines: [`${count} container${count === 1 ? '' : 's'}`, '(click the network)'] });
    edges.push({ id: `fold:${net}`, from: `net:${net}`, to: `folded:${net}`, label: [] });
  }
  const portBoxes = new Set<string>();
  for (const p of t.ports) {
    const id = `port:${p.hostIp}:${p.hostPort}/${p.proto}`;
    if (!portBoxes.has(id)) boxes.push({ id, kind: 'port', lines: [`${p.hostIp}:${p.hostPort}/${p.proto}`] });
    portBoxes.add(id);
    edges.push({ id: `dnat:${id}:${p.container}`, from: id, to: `ctr:${p.container}`, label: [`→ ${p.containerIp}:${p.containerPort}`], dotted: true });
  }
  // an edge to a box not drawn (a link to a container removed, a port of a folded one) is left out
  const ids = new Set(boxes.map((b) => b.id));
  return { boxes, edges: edges.filter((e) => ids.has(e.from) && ids.has(e.to)) };
}

/** The elkjs graph of the shapes. */
export function elkGraph(boxes: Box[], edges: Edge[]): ElkNode {
  return {
    id: 'root',
    layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.spacing.nodeNode': '24', 'elk.layered.spacing.nodeNodeBetweenLayers': '90', 'elk.edgeLabels.placement': 'CENTER' },
    children: boxes.map((b) => ({ id: b.id, ...size(b.lines) })),
    edges: edges.map((e) => ({ id: e.id, sources: [e.from], targets: [e.to], labels: e.label.length ? [{ text: e.label.join('\n'), ...size(e.label) }] : [] })),
  };
}

const STYLE: Record<Box['kind'], string> = {
  host: 'fill="#eef2ff" stroke="#4338ca"',
  network: 'fill="#ecfdf5" stroke="#047857"',
  container: 'fill="#fff7ed" stroke="#c2410c"',
  port: 'fill="#fdf2f8" stroke="#be185d"',
  collapsed: 'fill="#f1f5f9" stroke="#475569"',
  remote: 'fill="#f8fafc" stroke="#7c3aed"',
};

/** The SVG of a laid-out graph. */
export function drawSvg(layout: ElkNode, boxes: Box[], edges: Edge[]): string {
  const out: string[] = [];
  const byId = new Map(boxes.map((b) => [b.id, b]));
  const edgeById = new Map(edges.map((e) => [e.id, e]));
  for (const e of layout.edges ?? []) {
    const edge = edgeById.get(e.id)!;
    for (const s of e.sections ?? []) {
      const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
      out.push(`<polyline points="${pts}" fill="none" stroke="#64748b"${edge.dotted ? ' stroke-dasharray="3 3"' : ''}/>`);
    }
    for (const l of e.labels ?? []) out.push(text(edge.label, l.x ?? 0, l.y ?? 0, '#334155'));
  }
  for (const n of layout.children ?? []) {
    const b = byId.get(n.id)!;
    const [x, y, w, h] = [n.x ?? 0, n.y ?? 0, n.width ?? 0, n.height ?? 0];
    out.push(`<g class="${b.kind}" data-id="${esc(b.id)}"><rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${b.kind === 'container' ? 10 : 4}" ${STYLE[b.kind]}${b.dashed ? ' stroke-dasharray="4 3"' : ''}/>${text(b.lines, x, y, '#0f172a')}</g>`);
  }
  const [W, H] = [(layout.width ?? 0) + 20, (layout.height ?? 0) + 20];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="-10 -10 ${W} ${H}" font-family="monospace" font-size="11">\n${out.join('\n')}\n</svg>\n`;
}

function text(lines: string[], x: number, y: number, fill: string): string {
  return `<text fill="${fill}">${lines.map((l, i) => `<tspan x="${(x + PAD).toFixed(1)}" y="${(y + PAD / 2 + (i + 1) * LINE_H - 3).toFixed(1)}">${esc(l)}</tspan>`).join('')}</text>`;
}
