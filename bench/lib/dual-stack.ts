// Dual stack beside IPv4-only in berth's set-up run (issue 13): what an endpoint of a
// dual-stack network costs against one of an IPv4-only network at the same scale, and
// what "IPv6 only on interfaces that get a v6 address" buys: the ICMPv6 chatter (DAD,
// MLD, router solicitations) the containers of each kind of bridge send into it.
import type { Lab } from '../../test/lab/lab.js';
import type { SystemRun } from './results.js';
import { windowStats, type Window } from './stats.js';
import { fmtMs } from './timing.js';

/** Labels of the dual-stack series: the IPv4 ones' with this in front (the report pairs them). */
export const DUAL_PREFIX = 'berth dual stack: ';
export const V4_PREFIX = 'berth: ';
export const ROUTED_PREFIX = 'berth routed: ';
export const DEFAULT_PREFIX = 'berth default bridge: ';
/** the series the ratio is taken of, without their prefix */
const PAIRED = ['daemon-timed network set-up (X-Berth-Setup-Ms)', 'API create+start'];

/** ICMPv6 packets the containers of one bridge sent into it. */
export interface Icmp6Count {
  network: string;
  dualStack: boolean;
  bridge: string;
  containers: number;
  /** router solicitations */
  rs: number;
  /** neighbour solicitations (DAD sends them, from ::) */
  ns: number;
  /** multicast listener reports and dones (v1 and v2) */
  mld: number;
  /** every ICMPv6 packet, the two above included */
  all: number;
}

const TABLE = 'bench_icmp6';
const MLD = 'mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report';

/**
 * Counters in a netdev table of the lab host, one ingress chain per bridge device: what a
 * container sends to multicast (DAD's solicited-node NS, MLD reports, RS to all-routers)
 * is flooded by the bridge, the bridge device itself included, and so seen there whether
 * or not IPv6 is on for the bridge. The bench's own table, removed by readIcmp6.
 */
export async function countIcmp6(lab: Lab, bridges: string[]): Promise<void> {
  const script = [`add table netdev ${TABLE}`];
  bridges.forEach((b, i) => {
    script.push(
      `add chain netdev ${TABLE} in${i} { type filter hook ingress device "${b}" priority -300; policy accept; }`,
      `add rule netdev ${TABLE} in${i} icmpv6 type nd-router-solicit counter comment "${b} rs"`,
      `add rule netdev ${TABLE} in${i} icmpv6 type nd-neighbor-solicit counter comment "${b} ns"`,
      `add rule netdev ${TABLE} in${i} icmpv6 type { ${MLD} } counter comment "${b} mld"`,
      `add rule netdev ${TABLE} in${i} meta l4proto ipv6-icmp counter comment "${b} all"`,
    );
  });
  const r = await lab.inHost(['nft', '-f', '-'], { input: `${script.join('\n')}\n` });
  if (r.code !== 0) throw new Error(`nft (ICMPv6 counters): ${r.stderr.trim()}`);
}

/** The counters per bridge ("<bridge> rs|ns|mld|all" → packets); the table is removed. */
export async function readIcmp6(lab: Lab): Promise<Map<string, number>> {
  const r = await lab.inHost(['nft', '-j', 'list', 'table', 'netdev', TABLE]);
  if (r.code !== 0) throw new Error(`nft (ICMPv6 counters): ${r.stderr.trim()}`);
  await lab.inHost(['nft', 'delete', 'table', 'netdev', TABLE]);
  const out = new Map<string, number>();
  type Expr = { counter?: { packets: number } };
  for (const item of JSON.parse(r.stdout).nftables as { rule?: { comment?: string; expr: Expr[] } }[]) {
    const rule = item.rule;
    const packets = rule?.expr.find((e) => e.counter)?.counter?.packets;
    if (rule?.comment && packets !== undefined) out.set(rule.comment, packets);
  }
  return out;
}

function ratioCell(v4: (number | undefined)[], dual: (number | undefined)[], w: Window): string {
  const a = windowStats(v4, w);
  const b = windowStats(dual, w);
  if (!a.count || !b.count) return '-';
  return `${fmtMs(b.median)} / ${fmtMs(a.median)} = ${(b.median / a.median).toFixed(2)}x`;
}

/** The report's dual-stack section (empty when the run had no dual-stack half). */
export function dualStackSection(berth: SystemRun | undefined, windows: Window[]): string[] {
  if (!berth) return [];
  const pairs = PAIRED.flatMap((what) => {
    const v4 = berth.series.find((s) => s.label === V4_PREFIX + what);
    const dual = berth.series.find((s) => s.label === DUAL_PREFIX + what);
    return v4 && dual ? [{ what, v4: v4.samples, dual: dual.samples }] : [];
  });
  if (!pairs.length) return [];
  const out = [
    '## Dual stack vs IPv4-only (berth, issue 13)',
    '',
    'Containers alternate between IPv4-only and dual-stack (`--ipv6`, a /64 of the default IPv6 pool) networks in the one run above,',
    'so both kinds are measured with the same number of containers existing. Medians, dual stack / IPv4-only = ratio.',
    '',
    `| ratio of | ${windows.map((w) => `containers ${w.label}`).join(' | ')} |`,
    `|---|${windows.map(() => '---:').join('|')}|`,
    ...pairs.map((p) => `| ${p.what} | ${windows.map((w) => ratioCell(p.v4, p.dual, w)).join(' | ')} |`),
    '',
  ];
  const main = pairs[0];
  const ratios = windows.map((w) => windowStats(main.dual, w).median / windowStats(main.v4, w).median).filter(Number.isFinite);
  const first = windowStats(main.dual, windows[0]).median;
  const last = windowStats(main.dual, windows[windows.length - 1]).median;
  out.push('| target (issue 13, medians) | measured | met |', '|---|---|---|');
  out.push(`| a dual-stack endpoint ≤ 1.2x an IPv4-only one, every window | ${ratios.map((r) => `${r.toFixed(2)}x`).join(', ')} (${main.what}) | ${ratios.length && ratios.every((r) => r <= 1.2) ? 'yes' : '**no**'} |`);
  out.push(`| dual stack flat: last window within 1.5x of 1-10 | ${fmtMs(first)} → ${fmtMs(last)} ms (${(last / first).toFixed(2)}x) | ${last / first <= 1.5 ? 'yes' : '**no**'} |`);
  const icmp = berth.icmp6 ?? [];
  if (icmp.length) {
    out.push('', '### ICMPv6 the containers send into their bridge', '',
      '| network | bridge | containers | router solicitations | neighbour solicitations (DAD) | MLD reports | all ICMPv6 | per container |',
      '|---|---|---:|---:|---:|---:|---:|---:|');
    for (const c of icmp) {
      out.push(`| ${c.network} (${c.dualStack ? 'dual stack' : 'IPv4-only'}) | ${c.bridge} | ${c.containers} | ${c.rs} | ${c.ns} | ${c.mld} | ${c.all} | ${c.containers ? (c.all / c.containers).toFixed(2) : '-'} |`);
    }
    const v4 = icmp.filter((c) => !c.dualStack).reduce((s, c) => s + c.all, 0);
    out.push('', `| target | measured | met |`, '|---|---|---|',
      `| no ICMPv6 at all on an IPv4-only bridge | ${v4} packets | ${v4 === 0 ? 'yes' : '**no**'} |`);
  }
  out.push('');
  return out;
}
