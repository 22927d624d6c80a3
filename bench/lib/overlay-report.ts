// bench/results/overlay.md: the overlay bench's figures, one column per system, ratios
// berth ÷ Docker, and how each figure was taken.
import type { Rtt } from './datapath.js';
import type { Lookup } from './overlay-prober.js';
import { median, percentile } from './stats.js';
import { fmtMs } from './timing.js';

/** One convergence pass: the prober's way of looking names up, and per container (warm-up apart) what it saw. */
export interface ConvergencePass {
  lookup: Lookup;
  n: number;
  /** the first container on the network (its host's side of the overlay is made then), apart */
  warmup?: { runMs: number; convMs: number; resolvedMs: number };
  /** from `run` returning on A to the first answered ping on B */
  convMs: number[];
  /** from `run` returning to the end of the first lookup on B that found the name */
  resolvedMs: number[];
  /** from the end of the last failed lookup to the end of the first that found the name (≈ that lookup's wait) */
  lookupGapMs: number[];
  tries: number[];
  /** tries whose name resolved but whose pings went unanswered before their deadline */
  unanswered: number[];
}

export interface OverlayFigures {
  system: string;
  flags: string[];
  /** why there are no figures (an engine that refused `network create -d overlay`, a failure) */
  skipped?: string;
  netCreateMs?: number;
  /** from create returning on A until B lists the network */
  netVisibleOnBMs?: number;
  netCreateMore: number[];
  netRmMore: number[];
  passes: ConvergencePass[];
  /** `run -d` on the overlay network (every pass, warm-ups apart) and on the bridge network */
  runOverlayMs: number[];
  runBridgeMs: number[];
  rttUnderlay?: Rtt;
  rttOverlay?: Rtt;
  iperfUnderlay: number[];
  iperfOverlay: number[];
  mtu?: number;
  rmMs: number[];
  leaks: string[];
  notes: string[];
}

export interface OverlayContext {
  date: string;
  machine: string;
  loadBefore: string;
  loadAfter: string;
  n: number;
  nNslookup: number;
  pings: number;
  iperfS: number;
  bridgeEvery: number;
  wallS: number;
  overlaySubnet: string;
}

/** One table row: a label, a value per system (undefined = not measured), and how to read the ratio. */
interface Row {
  label: string;
  values: (number | undefined)[];
  fmt: (v: number) => string;
}

const ms = (v: number) => fmtMs(v);
const us = (v: number) => v.toFixed(0);
const gbps = (v: number) => v.toFixed(2);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
const pct = (xs: number[], p: number) => (xs.length ? percentile(xs, p) : undefined);

export const BERTH_CONVERGENCE_TARGET_P99_MS = 20;

const LOOKUP_LABEL: Record<Lookup, string> = {
  getaddrinfo: 'ping NAME (getaddrinfo)',
  nslookup: 'nslookup NAME, ping IP',
};

function rows(fs: OverlayFigures[]): Row[] {
  const r = (label: string, fmt: (v: number) => string, get: (f: OverlayFigures) => number | undefined): Row => ({
    label, fmt, values: fs.map((f) => (f.skipped ? undefined : get(f))),
  });
  const lookups = [...new Set(fs.flatMap((f) => f.passes.map((p) => p.lookup)))];
  const passRows = lookups.flatMap((lookup) => {
    const p = (f: OverlayFigures) => f.passes.find((x) => x.lookup === lookup);
    const on = (get: (x: ConvergencePass) => number | undefined) => (f: OverlayFigures) => {
      const x = p(f);
      return x ? get(x) : undefined;
    };
    const l = LOOKUP_LABEL[lookup];
    return [
      r(`**convergence**, ${l}: p50 (ms)`, ms, on((x) => pct(x.convMs, 50))),
      r(`**convergence**, ${l}: p90 (ms)`, ms, on((x) => pct(x.convMs, 90))),
      r(`**convergence**, ${l}: p99 (ms)`, ms, on((x) => pct(x.convMs, 99))),
      r(`**convergence**, ${l}: max (ms)`, ms, on((x) => pct(x.convMs, 100))),
      r(`${l}: containers seen (of ${lookup === 'getaddrinfo' ? 'N' : 'the pass'})`, (v) => String(v), on((x) => x.convMs.length)),
      r(`${l}: name first resolved on B, p50 (ms)`, ms, on((x) => pct(x.resolvedMs, 50))),
      r(`${l}: name first resolved on B, p99 (ms)`, ms, on((x) => pct(x.resolvedMs, 99))),
      r(`${l}: first reply after the name resolved, p50 (ms)`, ms, on((x) => pct(x.convMs.map((c, i) => c - (x.resolvedMs[i] ?? NaN)), 50))),
      r(`${l}: the lookup that first found the name, time since the last failed one, p50 (ms)`, ms, on((x) => pct(x.lookupGapMs, 50))),
      r(`${l}: the same, max (ms)`, ms, on((x) => pct(x.lookupGapMs, 100))),
      r(`${l}: containers where a try found the name but no ping was answered`, (v) => String(v), on((x) => (x.tries.length ? x.unanswered.filter((u) => u > 0).length : undefined))),
      r(`${l}: warm-up container: convergence (ms)`, ms, on((x) => x.warmup?.convMs)),
      r(`${l}: warm-up container: \`run -d\` (ms)`, ms, on((x) => x.warmup?.runMs)),
    ];
  });
  return [
    ...passRows,
    r('`network create -d overlay`, first (ms)', ms, (f) => f.netCreateMs),
    r('`network create -d overlay`, median of 5 more (ms)', ms, (f) => pct(f.netCreateMore, 50)),
    r('`network rm` (overlay, no containers), median of 5 (ms)', ms, (f) => pct(f.netRmMore, 50)),
    r('network listed on host B, after create returned (ms)', ms, (f) => f.netVisibleOnBMs),
    r('`run -d` on the overlay network, p50 (ms)', ms, (f) => pct(f.runOverlayMs, 50)),
    r('`run -d` on the overlay network, p90 (ms)', ms, (f) => pct(f.runOverlayMs, 90)),
    r('`run -d` on a bridge network, p50 (ms)', ms, (f) => pct(f.runBridgeMs, 50)),
    r('`run -d` on a bridge network, p90 (ms)', ms, (f) => pct(f.runBridgeMs, 90)),
    r('overlay endpoint cost: overlay − bridge p50 (ms)', ms, (f) => (f.runOverlayMs.length && f.runBridgeMs.length ? median(f.runOverlayMs) - median(f.runBridgeMs) : undefined)),
    r('ping RTT underlay host→host p50 (µs)', us, (f) => f.rttUnderlay?.p50Us),
    r('ping RTT underlay host→host p99 (µs)', us, (f) => f.rttUnderlay?.p99Us),
    r('ping RTT container→container across hosts p50 (µs)', us, (f) => f.rttOverlay?.p50Us),
    r('ping RTT container→container across hosts p99 (µs)', us, (f) => f.rttOverlay?.p99Us),
    r('iperf3 TCP underlay host→host, mean (Gbit/s)', gbps, (f) => mean(f.iperfUnderlay)),
    r('iperf3 TCP container→container across hosts, mean (Gbit/s)', gbps, (f) => mean(f.iperfOverlay)),
    r('overlay ÷ underlay throughput', gbps, (f) => {
      const o = mean(f.iperfOverlay);
      const u = mean(f.iperfUnderlay);
      return o !== undefined && u ? o / u : undefined;
    }),
    r('container eth0 MTU on the overlay', (v) => String(v), (f) => f.mtu),
    r('`rm -f` per container, median (ms)', ms, (f) => pct(f.rmMs, 50)),
  ];
}

export function renderOverlayReport(fs: OverlayFigures[], ctx: OverlayContext): string {
  const docker = fs.findIndex((f) => f.system.startsWith('Docker'));
  const berth = fs.findIndex((f) => f.system === 'berth');
  const both = docker >= 0 && berth >= 0;
  const header = `| figure | ${fs.map((f) => f.system).join(' | ')} |${both ? ' berth ÷ Docker |' : ''}`;
  const lines = [
    '# Multi-host overlay: convergence and the cross-host data path',
    '',
    `Run ${ctx.date}, one lab world, one run (${ctx.wallS.toFixed(0)} s). Machine: ${ctx.machine}. \`/proc/loadavg\` before \`${ctx.loadBefore}\`, after \`${ctx.loadAfter}\` (a shared, noisy machine: compare the columns of one run).`,
    '',
    `Each system on a fresh two-host cluster lab (test/lab/cluster.ts: hosts A and B as netns on an underlay bridge, 10.99.0.11 and .12; a real etcd 3.4 at 10.99.0.2:2379 on it), driven through the same Docker API calls over each host's unix socket. Overlay network \`ovnet\` (${ctx.overlaySubnet}) made on A; containers \`bb:latest\`, a busybox-static rootfs brought in with \`docker import\`.`,
    '',
    header,
    `|---|${fs.map(() => '---:').join('|')}|${both ? '---:|' : ''}`,
  ];
  for (const row of rows(fs)) {
    const cells = row.values.map((v) => (v === undefined || Number.isNaN(v) ? '—' : row.fmt(v)));
    let ratio = '';
    if (both) {
      const d = row.values[docker];
      const b = row.values[berth];
      ratio = d !== undefined && b !== undefined && d !== 0 && !row.label.includes('containers') && !row.label.includes('MTU') ? ` ${(b / d).toFixed(2)} |` : ' — |';
    }
    lines.push(`| ${row.label} | ${cells.join(' | ')} |${ratio}`);
  }
  lines.push('');
  const b = berth >= 0 ? fs[berth] : undefined;
  const main = b?.passes.find((p) => p.lookup === 'getaddrinfo');
  if (b && !b.skipped && main?.convMs.length) {
    const p99 = percentile(main.convMs, 99);
    lines.push(`berth's target, convergence (ping by name) p99 ≤ ${BERTH_CONVERGENCE_TARGET_P99_MS} ms: ${p99 <= BERTH_CONVERGENCE_TARGET_P99_MS ? 'met' : 'NOT met'} (${fmtMs(p99)} ms over ${main.convMs.length} containers).`, '');
  } else {
    lines.push(`berth's target, convergence p99 ≤ ${BERTH_CONVERGENCE_TARGET_P99_MS} ms: not measured in this run.`, '');
  }
  lines.push('## Per system', '');
  for (const f of fs) {
    lines.push(`### ${f.system}`, '');
    if (f.flags.length) lines.push(`daemon flags: \`${f.flags.join(' ')}\``);
    if (f.skipped) lines.push(`**skipped**: ${f.skipped}`);
    lines.push(`left behind after teardown (processes, netns, mounts): ${f.leaks.length ? f.leaks.join('; ') : 'nothing'}`);
    for (const n of f.notes) lines.push(`- ${n}`);
    lines.push('');
  }
  lines.push(
    '## How each figure is taken',
    '',
    `- **convergence** (issue 14): from \`run\` returning on A (API \`POST /containers/create?name=ovcK\` {Image bb:latest, Cmd sleep 3600, HostConfig.NetworkMode ovnet}, then \`POST /containers/ID/start\`; the time is CLOCK_REALTIME when start answers) to the first ping BY NAME answered in a container on B. A prober container on B (on ovnet) runs a busybox sh loop (bench/lib/overlay-prober.ts) that, for each name in turn, tries until a ping is answered and prints when, stamped by busybox \`ts %.s\` inside the container (CLOCK_REALTIME, µs; busybox \`date\` has no %N). The bench reads its lines from \`GET /containers/ID/logs?follow=1\` and sets them against its own CLOCK_REALTIME (hrtime pinned to Date.now ticks, a few µs). Two passes, each with its own prober: **ping NAME** (${ctx.n} containers ovc1…; \`ping -c 400 -i 0.005 -w 2 -W 1 NAME\`, the lookup done by busybox-static's glibc getaddrinfo: A and AAAA at once, as most programs) is the issue's figure; **nslookup NAME, ping IP** (${ctx.nNslookup} containers ovn1…; busybox nslookup -type=a, its own resolver, then the same pings to the address) shows the engine's name record apart from how a stub resolver copes with it. A try pings 5 ms apart until 2 s after it began, so a name that resolves before its peer answers is seen at the first answered ping. The prober's resolution is one try while the name does not resolve (forks of ping, ts and grep, a failed lookup, usleep 1000: ~5-10 ms) and 5 ms once it does; but a lookup may itself wait inside the engine's resolver: "the lookup that first found the name" rows give, per container, the span from the end of the last failed lookup to the end of the first that found the name (≈ that lookup's wait). "Name first resolved" is when that lookup ended: what a client sees. "A try found the name but no ping was answered" counts containers where that happened before the deadline. A figure below 0 means it happened before \`run\` returned. Containers one after another, 50 ms apart after each sighting; the first of each pass (…0, whose \`run\` in the first pass also makes A's side of the network) is the warm-up row. No \`docker exec\` is in the loop (one costs ~75 ms by itself).`,
    `- **\`run -d\` overlay vs bridge**: the same two API calls; after every ${ctx.bridgeEvery} overlay runs one container on a bridge network \`ovbr\` of host A, so both are timed at the same scale and load (the prober spinning on B included).`,
    '- **network create**: `POST /networks/create {Driver: overlay, IPAM subnet}` on A; "listed on B": `GET /networks/NAME` on B polled every 5 ms; 5 more overlay networks made and removed.',
    `- **RTT**: ${ctx.pings} pings 2 ms apart (iputils ping of the host, run by nsenter --net in the prober's netns on B to ovc0's overlay address on A; underlay: host B's netns to host A's address).`,
    ctx.iperfS > 0
      ? `- **iperf3**: TCP, ${ctx.iperfS} s per run, 2 runs each, underlay and overlay alternating; host iperf3 by nsenter --net (server in ovc0's netns bound to its overlay address, client in the prober's), so the containers need no iperf3 of their own.`
      : '- **iperf3**: skipped (BENCH_IPERF_S=0).',
    '- Removal: every container `DELETE /containers/ID?force=1` one at a time, each bounded at 30 s (Docker 20.10 deadlocks in libnetwork on parallel removal, moby#46661), then the networks; then the daemons stopped, the cluster destroyed, and the lab world searched for dockerd, containerd, shims, runc, berthd, etcd, iperf3 and container processes, the cluster\'s netns and mounts.',
    '',
    'How: `npm run bench:overlay` (scripts/bench.sh: build, snapshot dist/, run in a throwaway lab world). Env: BENCH_N, BENCH_N_NSLOOKUP, BENCH_SYSTEMS (docker,berth), BENCH_PINGS, BENCH_IPERF_S, BENCH_BRIDGE_EVERY, BENCH_OUT.',
    '',
  );
  return lines.join('\n');
}
