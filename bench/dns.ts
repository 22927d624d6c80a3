// npm run bench:dns — berth's embedded resolver against aardvark-dns, same names, same run.
// Must run inside scripts/in-lab.sh (the npm script does that): it builds a bridge, a
// "container" netns on it that asks, and a link to the lab's internet DNS as the upstream
// for forwarded names. berth answers inside the container's netns, as berthd does: the
// default resolver (2 threads) at 127.0.0.11:53, the one-thread one at 127.0.0.12:53, both
// on sockets the kernel worker made there; aardvark-dns listens on the bridge (.254).
// For each resolver: dnsperf QPS (4 clients, 100 outstanding) and a closed-loop client's
// p50/p99, for local names (A, and AAAA of the same dual-stack containers) and forwarded ones, at rest and while this process's main thread
// is busy with control-plane-like work (synchronous SQLite writes + record churn posted
// to the resolver). Then the real-churn condition (dns-churn.ts): a real berthd, its
// containers asking, while others are started and stopped through its API
// (BENCH_DNS_CHURN=0 leaves it out, =only runs it alone). Writes bench/results/dns.md.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { DNS_PORT, EMBEDDED_DNS_ADDRESS, EmbeddedDns, type EndpointRecord } from '../src/dns/index.js';
import { openKernel } from '../src/kernel/client.js';
import type { Kernel } from '../src/kernel/types.js';
import { Lab } from '../test/lab/lab.js';
import { run } from '../test/lab/exec.js';
import { DnsTopology, inNs, ip, type ClientNs } from './dns-topology.js';
import { latencyChart, medianDist, type LatencyCurve } from './lib/latency-svg.js';
import { churnSection, measureChurn } from './dns-churn.js';

const LATENCY_CLIENT = fileURLToPath(new URL('./dns-latency.js', import.meta.url));
// scripts/bench.sh runs a snapshot of dist/: BENCH_OUT is the work tree's bench/results
const RESULTS = join(process.env.BENCH_OUT ?? fileURLToPath(new URL('../../bench/results/', import.meta.url)), 'dns.md');
const DURATION_S = Number(process.env.BENCH_DNS_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_DNS_ROUNDS ?? 3);
const LATENCY_QUERIES = Number(process.env.BENCH_DNS_LATENCY_QUERIES ?? 10_000);
const NAMES = 200;
const AARDVARK = '/usr/lib/podman/aardvark-dns';
/** BENCH_DNS_CHURN=0: without the real-churn condition (dns-churn.ts); =only: that alone */
const CHURN = process.env.BENCH_DNS_CHURN ?? '1';
/** where the one-thread resolver answers in the same netns (127/8 is all on lo) */
const SINGLE_ADDRESS = '127.0.0.12';

interface Row {
  server: string;
  names: string;
  condition: string;
  qps: number;
  avgMs: number;
  lost: string;
  /** the resolver's CPU time (its threads or process, user + system) per query dnsperf got an answer to */
  cpuUsPerQuery: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  /** [percentile, µs], the median of each over the rounds (the latency plot) */
  dist: [number, number][];
}

const localNames = Array.from({ length: NAMES }, (_, i) => `ctr${i}`);
const forwardedNames = ['echo.internet.test', 'gateway.internet.test', ...Array.from({ length: 18 }, (_, i) => `nx${i}.internet.test`)];

function endpoints(client: ClientNs): EndpointRecord[] {
  const list: EndpointRecord[] = [{ networkId: 'net1', containerId: 'client', ip: client.ip, names: ['client'] }];
  localNames.forEach((n, i) => list.push({ networkId: 'net1', containerId: `c${i}`, ip: `10.77.0.${10 + i}`, ip6: ipv6Of(i), names: [n] }));
  return list;
}

/** The IPv6 address of local container i (dual stack: AAAA has as many names as A). */
function ipv6Of(i: number): string {
  return `fd77::${(10 + i).toString(16)}`;
}

async function startAardvark(dir: string, client: ClientNs, upstream: string): Promise<void> {
  const lines = ['10.77.0.254 ' + upstream, `client ${client.ip}  client`];
  // aardvark's line: id, IPv4s, IPv6s, names
  localNames.forEach((n, i) => lines.push(`c${i} 10.77.0.${10 + i} ${ipv6Of(i)} ${n}`));
  writeFileSync(join(dir, 'net1'), `${lines.join('\n')}\n`);
  const r = await run([AARDVARK, '--config', dir, '-p', '53', 'run'], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`aardvark-dns did not start: ${r.stderr}`);
}

/** A process's CPU time (user + system of all its threads, ms): /proc/PID/task/TID/stat fields 14 and 15, USER_HZ 100. */
function processCpuMs(pid: number): number {
  let ms = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ms += (Number(fields[11]) + Number(fields[12])) * 10;
  }
  return ms;
}

function aardvarkPid(dir: string): number {
  return Number(readFileSync(join(dir, 'aardvark.pid'), 'utf8').trim());
}

function stopAardvark(dir: string): void {
  try {
    process.kill(aardvarkPid(dir), 'SIGTERM');
  } catch {
    // already gone
  }
}

async function dnsperf(client: ClientNs, server: string, file: string): Promise<{ qps: number; avgMs: number; lost: string; completed: number }> {
  const argv = ['dnsperf', '-s', server, '-d', file, '-l', String(DURATION_S), '-c', '4', '-q', '100', '-t', '2'];
  const r = await run(inNs(client, argv), { timeoutMs: (DURATION_S + 30) * 1000 });
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  const avgMs = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN) * 1000;
  const lost = /Queries lost:\s+(\d+ \([\d.]+%\))/.exec(r.stdout)?.[1] ?? '?';
  const completed = Number(/Queries completed:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN);
  if (Number.isNaN(qps) || Number.isNaN(completed)) throw new Error(`dnsperf failed: ${r.stdout}\n${r.stderr}`);
  return { qps, avgMs, lost, completed };
}

interface Latency extends Record<'n' | 'lost' | 'p50' | 'p90' | 'p99' | 'p999' | 'max', number> {
  dist: [number, number][];
}

async function latency(client: ClientNs, server: string, names: string[], count: number): Promise<Latency> {
  const r = await run(inNs(client, ['node', LATENCY_CLIENT, server, '53', String(count), ...names]), { timeoutMs: 120_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`latency client against ${server} failed (${r.code}): ${r.stdout}${r.stderr}`);
  return JSON.parse(line) as Latency;
}

/** Control-plane-like load on THIS thread: 100 ms slices of synchronous SQLite writes, with record churn. */
function startLoad(resolvers: EmbeddedDns[], dir: string): () => { inserts: number; busyShare: number } {
  const db = new Database(join(dir, 'load.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, k TEXT, v TEXT)');
  const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
  let running = true;
  let inserts = 0;
  let busy = 0;
  let churn = 0;
  const started = performance.now();
  const tick = (): void => {
    if (!running) return;
    const t0 = performance.now();
    while (performance.now() - t0 < 100) {
      insert.run(`k${inserts}`, JSON.stringify({ n: inserts, at: Date.now(), pad: 'x'.repeat(200) }));
      inserts++;
    }
    // 20 containers come and go per slice: records pushed to the resolver.
    for (let i = 0; i < 20; i++, churn++) {
      const n = churn % 200;
      for (const dns of resolvers) {
        if (churn % 400 < 200) dns.setEndpoint({ networkId: 'net1', containerId: `churn${n}`, ip: `10.77.1.${n}`, names: [`churn${n}`] });
        else dns.removeEndpoint('net1', `churn${n}`);
      }
    }
    busy += performance.now() - t0;
    setImmediate(tick);
  };
  setImmediate(tick);
  return () => {
    running = false;
    db.close();
    return { inserts, busyShare: busy / (performance.now() - started) };
  };
}

interface Server {
  label: string;
  address: string;
  /** its CPU time so far (ms): berth's resolver threads as they count it, aardvark-dns's process */
  cpuMs: () => Promise<number>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Every server, every workload, ROUNDS times interleaved (the machine is shared: medians). */
async function measure(client: ClientNs, servers: Server[], condition: string, dir: string): Promise<Row[]> {
  const cells = new Map<string, { qps: number; avgMs: number; lost: string; cpuUsPerQuery: number; lat: Latency }[]>();
  for (let round = 0; round < ROUNDS; round++) {
    const workloads = [['local', localNames, 'A'], ['local AAAA', localNames, 'AAAA'], ['forwarded', forwardedNames, 'A']] as const;
    for (const [kind, names, type] of workloads) {
      const file = join(dir, `${kind.replace(' ', '-')}.txt`);
      writeFileSync(file, names.map((n) => `${n} ${type}`).join('\n') + '\n');
      const asked = names.map((n) => `${n}/${type}`);
      for (const s of servers) {
        await latency(client, s.address, asked, names.length * 2); // warm up (fills caches)
        const cpu0 = await s.cpuMs();
        const perf = await dnsperf(client, s.address, file);
        const cpuUsPerQuery = ((await s.cpuMs()) - cpu0) * 1000 / perf.completed;
        const lat = await latency(client, s.address, asked, LATENCY_QUERIES);
        const key = `${s.label}|${kind}`;
        cells.set(key, [...(cells.get(key) ?? []), { ...perf, cpuUsPerQuery, lat }]);
        process.stderr.write(`bench:dns ${s.label} ${kind} ${condition} #${round + 1}: ${Math.round(perf.qps)} qps, ${cpuUsPerQuery.toFixed(1)} µs CPU/query, p50 ${lat.p50} µs, p99 ${lat.p99} µs\n`);
      }
    }
  }
  const rows: Row[] = [];
  for (const [key, runs] of cells) {
    const [server = '', names = ''] = key.split('|');
    const m = (f: (r: (typeof runs)[number]) => number): number => median(runs.map(f));
    rows.push({
      server, names, condition, qps: m((r) => r.qps), avgMs: m((r) => r.avgMs), cpuUsPerQuery: m((r) => r.cpuUsPerQuery),
      lost: runs.map((r) => r.lost.split(' ')[0]).join('/'),
      p50: m((r) => r.lat.p50 ?? NaN), p90: m((r) => r.lat.p90 ?? NaN), p99: m((r) => r.lat.p99 ?? NaN), p999: m((r) => r.lat.p999 ?? NaN),
      dist: medianDist(runs.map((r) => r.lat.dist ?? [])),
    });
  }
  return rows.sort((x, y) => x.names.localeCompare(y.names) * -1 || 0);
}

function table(rows: Row[]): string {
  const head = '| resolver | names | condition | dnsperf QPS | CPU µs/query | dnsperf avg (ms) | lost | p50 (µs) | p90 | p99 | p99.9 |\n|---|---|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map((r) =>
    `| ${r.server} | ${r.names} | ${r.condition} | ${Math.round(r.qps).toLocaleString('en-US')} | ${r.cpuUsPerQuery.toFixed(1)} | ${r.avgMs.toFixed(2)} | ${r.lost} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.p999} |`);
  return [head, ...lines].join('\n');
}

const PLOT = 'dns-latency.svg';

async function main(): Promise<void> {
  const curves: LatencyCurve[] = [];
  const first = CHURN === 'only' ? { text: '# DNS resolver benchmark\n', rows: [] } : await embeddedVsAardvark();
  const parts = [first.text];
  for (const r of first.rows.filter((x) => x.names === 'local')) curves.push({ label: `${r.server}, ${r.condition}`, dist: r.dist });
  if (CHURN !== '0') {
    const churn = await measureChurn();
    parts.push(churnSection(churn));
    for (const r of churn.rows.filter((x) => x.names === 'local')) curves.push({ label: `berthd (real), ${r.condition === 'churn' ? 'real churn' : 'at rest'}`, dist: r.dist });
  }
  mkdirSync(join(RESULTS, '..'), { recursive: true });
  const svg = latencyChart(curves, 'Embedded DNS: latency of local names (A), closed loop, one query at a time');
  if (svg) {
    writeFileSync(join(RESULTS, '..', PLOT), svg);
    parts.push(`![latency distribution of local names, every resolver and condition](${PLOT})\n`);
  }
  writeFileSync(RESULTS, parts.join('\n'));
  process.stdout.write(`${parts.join('\n')}\n`);
}

/** The resolvers in this process and aardvark-dns, side by side: the report's first part. */
async function embeddedVsAardvark(): Promise<{ text: string; rows: Row[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-dns-'));
  const aardDir = join(dir, 'aardvark');
  mkdirSync(aardDir);
  const lab = await Lab.create({ startDaemon: false });
  const topo = new DnsTopology('bd');
  let dns: EmbeddedDns | undefined;
  let single: EmbeddedDns | undefined;
  let kernel: Kernel | undefined;
  const load0 = loadavg()[0] ?? 0;
  try {
    const net = await topo.addBridge(1, '10.77.0');
    await ip(['addr', 'add', '10.77.0.254/24', 'dev', net.bridge]);
    const client = await topo.addClient(net, 2);
    await topo.linkTo(lab.internetNs, '192.0.2.1', '192.0.2.2', lab.internetDns);
    kernel = await openKernel();
    dns = await EmbeddedDns.start({ upstreams: [lab.internetDns], endpoints: endpoints(client) });
    await dns.openSandbox(client.path, 'client', await kernel.bindInNetns(client.path, EMBEDDED_DNS_ADDRESS, DNS_PORT));
    // The same resolver on one thread only, to show what the second buys (a sandbox is
    // served by one thread; the other shares the cache and serves other sandboxes).
    single = await EmbeddedDns.start({ upstreams: [lab.internetDns], endpoints: endpoints(client), threads: 1 });
    await single.openSandbox(client.path, 'client', await kernel.bindInNetns(client.path, SINGLE_ADDRESS, DNS_PORT));
    await startAardvark(aardDir, client, lab.internetDns);
    const [both, one] = [dns, single];
    const servers: Server[] = [
      { label: 'berth (2 threads, default)', address: EMBEDDED_DNS_ADDRESS, cpuMs: async () => (await both.stats()).cpuMs },
      { label: 'berth (1 thread)', address: SINGLE_ADDRESS, cpuMs: async () => (await one.stats()).cpuMs },
      { label: 'aardvark-dns 1.4', address: '10.77.0.254', cpuMs: async () => processCpuMs(aardvarkPid(aardDir)) },
    ];
    // the AAAA rows time real answers, not NODATA: every resolver holds the IPv6 addresses
    for (const s of servers) {
      const r = await run(inNs(client, ['dig', '+short', '+tries=1', `@${s.address}`, 'ctr7', 'AAAA']));
      if (r.stdout.trim() !== ipv6Of(7)) throw new Error(`${s.label} answers AAAA ctr7 with "${r.stdout.trim()}", not ${ipv6Of(7)}`);
    }
    const rows: Row[] = [];
    rows.push(...(await measure(client, servers, 'at rest', dir)));
    const stop = startLoad([dns, single], dir);
    let load: ReturnType<typeof stop>;
    try {
      rows.push(...(await measure(client, servers, 'main thread busy', dir)));
    } finally {
      load = stop();
    }
    const stats = await dns.stats();
    const note = [
      `# DNS resolver benchmark`,
      '',
      `Run ${new Date().toISOString()} on ${process.arch}, ${(await import('node:os')).cpus().length} cores, load average ${load0.toFixed(2)} at start / ${(loadavg()[0] ?? 0).toFixed(2)} at end.`,
      `dnsperf: 4 clients, 100 queries outstanding, ${DURATION_S} s per cell, from a container netns: berth answers inside it (127.0.0.11 and 127.0.0.12, on lo, as in berthd), aardvark-dns on the bridge's .254 (over the veth). Each cell is the median of ${ROUNDS} rounds, the resolvers taking turns within each round; "lost" lists each round.`,
      `CPU µs/query: the resolver's own CPU time (user + system, from /proc: berth's resolver threads, each reading /proc/thread-self/stat; aardvark-dns's whole process) during the dnsperf cell, over the queries answered in it; unlike QPS it does not depend on how much of the 2 cores the load generator takes.`,
      `Closed-loop client (bench/dns-latency.ts): ${LATENCY_QUERIES} queries one at a time, µs from send to answer (includes the Node client's own overhead, the same for both).`,
      `Local: ${NAMES} dual-stack container names, asked for A ("local") and for AAAA ("local AAAA"). Forwarded: 2 names that exist upstream + 18 NXDOMAIN, upstream = the lab's internet DNS (a Node server).`,
      `"main thread busy": berthd's main thread (this process) runs 100 ms slices of synchronous SQLite inserts back to back (busy ${(load.busyShare * 100).toFixed(0)} % of the time, ${load.inserts.toLocaleString('en-US')} inserts) and posts 20 endpoint changes to the resolver per slice; aardvark runs as its own process, so for it this is CPU contention only.`,
      '',
      table(rows),
      '',
      `berth resolver counters: ${JSON.stringify(stats)}`,
      '',
    ].join('\n');
    return { text: note, rows };
  } finally {
    stopAardvark(aardDir);
    await dns?.stop();
    await single?.stop();
    await kernel?.close();
    await topo.remove();
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench:dns failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
