// npm run bench:ports-traffic — traffic through published ports, in one lab, in one run:
//   1. connection set-up rate and connect latency from the lab host to a published port
//      (127.0.0.1:PORT and the host's uplink address), with 10 and with 10,000 ports
//      published by berth (one nftables map lookup, whatever the count), and, for contrast,
//      Docker 20.10's way without its proxy: one iptables-nft DNAT rule per port in a
//      linear nat DOCKER chain, connecting to the port whose rule is at the END of a chain
//      of 10 and of 10,000 rules (and to the first rule, as a control);
//   2. TCP throughput with iperf3: host -> published port (DNAT, plus masquerade for
//      127.0.0.1) against host -> container IP directly.
// The closed-loop client is this same file run as `node ports-traffic.js client HOST PORT N S`
// under nsenter in the lab host's netns. Writes bench/results/ports-traffic.md.
import { connect } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../test/lab/lab.js';
import { median, percentile } from './lib/stats.js';

const SELF = fileURLToPath(import.meta.url);
const REPO = join(dirname(SELF), '..', '..');
const OUT = join(process.env.BENCH_OUT ?? join(REPO, 'bench', 'results'), 'ports-traffic.md');
const SECONDS = Number(process.env.BENCH_CONN_SECONDS ?? 5);
/** in-flight connections per client run: 1 gives the bare connect latency, 8 the rate under load */
const CONCURRENCY = (process.env.BENCH_CONN_CONCURRENCY ?? '1,8').split(',').map(Number);
const HIGH = Math.max(...CONCURRENCY);
const LOW = Math.min(...CONCURRENCY);
const ROUNDS = Number(process.env.BENCH_CONN_ROUNDS ?? 2);
const IPERF_RUNS = Number(process.env.BENCH_IPERF_RUNS ?? 3);
const IPERF_SECONDS = Number(process.env.BENCH_IPERF_SECONDS ?? 5);
const TOTAL_PORTS = 10_000;
const BRIDGE = 'berth0';
const UPLINK = '198.51.100.2';
const TARGETS = ['127.0.0.1', UPLINK];
/** accept and drop at once: the client measures the handshake only */
const SERVER = "require('net').createServer(c=>{c.on('error',()=>{});c.destroy()}).listen(80,undefined,4096)";
const IPT_BASE = 40000; // the iptables chain's ports, clear of berth's (8080, 10001.., 20000..)

// ---- the client (runs inside the lab host netns) ----

interface ClientResult {
  connections: number;
  errors: number;
  seconds: number;
  latenciesUs: number[];
}

/** One connection: resolves the connect time in µs (undefined on error); closes with RST so no TIME_WAIT piles up. */
function connectOnce(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    let done = false;
    const finish = (us: number | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(us);
    };
    const s = connect({ host, port });
    const timer = setTimeout(() => { s.destroy(); finish(undefined); }, 5000);
    s.on('error', () => { s.destroy(); finish(undefined); });
    s.once('connect', () => {
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      s.resetAndDestroy();
      finish(us);
    });
  });
}

async function runClient(host: string, port: number, concurrency: number, seconds: number): Promise<void> {
  const warmEnd = performance.now() + 500;
  const out: ClientResult = { connections: 0, errors: 0, seconds: 0, latenciesUs: [] };
  let t0 = 0;
  let end = Infinity;
  const worker = async (): Promise<void> => {
    for (;;) {
      const now = performance.now();
      if (now >= end) return;
      if (now >= warmEnd && t0 === 0) { t0 = now; end = now + seconds * 1000; }
      const us = await connectOnce(host, port);
      if (t0 === 0) continue;
      if (us === undefined) out.errors++;
      else { out.connections++; out.latenciesUs.push(us); }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  out.seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify(out));
}

// ---- the lab side ----

async function ok(lab: Lab, argv: string[], input?: string): Promise<string> {
  const r = await lab.inHost(argv, { input, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`${argv.slice(0, 6).join(' ')}… failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

async function berth(lab: Lab, args: string[]): Promise<string> {
  const r = await lab.berth(args, { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`berth ${args.slice(0, 8).join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

async function client(lab: Lab, host: string, port: number, concurrency: number, seconds = SECONDS): Promise<ClientResult> {
  const out = await ok(lab, ['node', SELF, 'client', host, String(port), String(concurrency), String(seconds)]);
  return JSON.parse(out) as ClientResult;
}

/** How many TCP ports berth has published on 0.0.0.0 (elements of its published_any map). */
async function berthPublished(lab: Lab): Promise<number> {
  const text = await ok(lab, ['nft', 'list', 'map', 'ip', 'berth', 'published_any']);
  return (text.match(/tcp \. \d+ :/g) ?? []).length;
}

interface Cell {
  path: string;
  published: string;
  target: string;
  concurrency: number;
  runs: ClientResult[];
}

function pooled(c: Cell): { rate: number; p50: number; p99: number; errors: number; n: number } {
  const lat = c.runs.flatMap((r) => r.latenciesUs);
  const n = c.runs.reduce((a, r) => a + r.connections, 0);
  const secs = c.runs.reduce((a, r) => a + r.seconds, 0);
  return { rate: n / secs, p50: median(lat), p99: percentile(lat, 99), errors: c.runs.reduce((a, r) => a + r.errors, 0), n };
}

/** Rounds interleave the targets (and the given ports) so drift in the machine's load hits them alike. */
async function measure(lab: Lab, cells: Cell[], port: (c: Cell) => number): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of round % 2 ? [...cells].reverse() : cells) {
      const r = await client(lab, c.target, port(c), c.concurrency);
      c.runs.push(r);
      process.stderr.write(`${c.path} @${c.published} -> ${c.target}:${port(c)} ×${c.concurrency}: ${(r.connections / r.seconds).toFixed(0)} conn/s, p50 ${median(r.latenciesUs).toFixed(0)} µs, errors ${r.errors}\n`);
    }
  }
}

function cellsFor(path: string, published: string, port: number): { cells: Cell[]; port: (c: Cell) => number } {
  const cells = CONCURRENCY.flatMap((concurrency) => TARGETS.map((target): Cell => ({ path, published, target, concurrency, runs: [] })));
  return { cells, port: () => port };
}

async function waitReachable(lab: Lab, port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await client(lab, '127.0.0.1', port, 1, 0.2);
    if (r.connections > 0) return;
  }
  throw new Error(`127.0.0.1:${port} never answered`);
}

/** berth: the server on 8080, 9 more ports (10), then 10 containers with port ranges (10,000). */
async function benchBerth(lab: Lab, all: Cell[]): Promise<{ fillSeconds: number }> {
  await berth(lab, ['run', '-d', '--name', 'fill0', '-p', '10001-10009:10001-10009', '--', 'sleep', '3600']);
  let n = await berthPublished(lab);
  if (n !== 10) throw new Error(`expected 10 published ports, nft shows ${n}`);
  const at10 = cellsFor('berth (nftables map)', '10', 8080);
  await measure(lab, at10.cells, at10.port);
  all.push(...at10.cells);
  const t0 = performance.now();
  for (let k = 0, left = TOTAL_PORTS - 10; left > 0; k++) {
    const size = Math.min(1000, left);
    const from = 20000 + k * 1000;
    const range = `${from}-${from + size - 1}`;
    await berth(lab, ['run', '-d', '--name', `fill${k + 1}`, '-p', `${range}:${range}`, '--', 'sleep', '3600']);
    left -= size;
  }
  const fillSeconds = (performance.now() - t0) / 1000;
  n = await berthPublished(lab);
  if (n !== TOTAL_PORTS) throw new Error(`expected ${TOTAL_PORTS} published ports, nft shows ${n}`);
  const at10k = cellsFor('berth (nftables map)', '10,000', 8080);
  await measure(lab, at10k.cells, at10k.port);
  all.push(...at10k.cells);
  return { fillSeconds };
}

/** Docker 20.10 with --userland-proxy=false: nat DOCKER chain jumped from PREROUTING and OUTPUT for local addresses. */
function dockerChain(count: number, serverIp: string): string {
  const rules: string[] = [];
  for (let i = 0; i < count; i++) {
    // the first and the last rule lead to the real server; the ones between to other (absent) containers
    const to = i === 0 || i === count - 1 ? `${serverIp}:80` : `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${(i & 255) || 1}:80`;
    rules.push(`-A DOCKER ! -i ${BRIDGE} -p tcp -m tcp --dport ${IPT_BASE + i} -j DNAT --to-destination ${to}`);
  }
  return ['*nat', '-F DOCKER', ...rules, 'COMMIT', ''].join('\n');
}

async function benchIptables(lab: Lab, serverIp: string, all: Cell[]): Promise<void> {
  await ok(lab, ['iptables-nft', '-t', 'nat', '-N', 'DOCKER']);
  await ok(lab, ['iptables-nft', '-t', 'nat', '-A', 'PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'DOCKER']);
  await ok(lab, ['iptables-nft', '-t', 'nat', '-A', 'OUTPUT', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'DOCKER']);
  const path = "Docker 20.10's way (iptables-nft DNAT rules, linear chain)";
  await ok(lab, ['iptables-nft-restore', '--noflush'], dockerChain(10, serverIp));
  await waitReachable(lab, IPT_BASE + 9);
  const at10 = cellsFor(path, '10, port at rule 10', IPT_BASE + 9);
  await measure(lab, at10.cells, at10.port);
  all.push(...at10.cells);
  await ok(lab, ['iptables-nft-restore', '--noflush'], dockerChain(TOTAL_PORTS, serverIp));
  const last = cellsFor(path, '10,000, port at rule 10,000', IPT_BASE + TOTAL_PORTS - 1).cells;
  const first = cellsFor(path, '10,000, port at rule 1 (control)', IPT_BASE).cells;
  const both = [...last, ...first];
  await measure(lab, both, (c) => (first.includes(c) ? IPT_BASE : IPT_BASE + TOTAL_PORTS - 1));
  all.push(...both);
}

interface IperfRow {
  target: string;
  gbps: number[];
}

async function iperf(lab: Lab, host: string): Promise<number> {
  const out = await ok(lab, ['iperf3', '-c', host, '-p', '5201', '-t', String(IPERF_SECONDS), '-J']);
  const j = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
  return j.end.sum_received.bits_per_second / 1e9;
}

async function benchIperf(lab: Lab): Promise<{ rows: IperfRow[]; ip: string }> {
  await berth(lab, ['run', '-d', '--name', 'perf', '-p', '5201:5201', '--', 'iperf3', '-s']);
  const ip = await berth(lab, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'perf']);
  const rows: IperfRow[] = [
    { target: `${ip}:5201 (container IP, direct)`, gbps: [] },
    { target: '127.0.0.1:5201 (published: DNAT + masquerade)', gbps: [] },
    { target: `${UPLINK}:5201 (published: DNAT)`, gbps: [] },
  ];
  const hosts = [ip, '127.0.0.1', UPLINK];
  for (let tries = 0; ; tries++) {
    const r = await lab.inHost(['iperf3', '-c', ip, '-p', '5201', '-t', '1']);
    if (r.code === 0) break;
    if (tries > 30) throw new Error(`iperf3 server never answered: ${r.stderr}${r.stdout}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  for (let run = 0; run < IPERF_RUNS; run++) {
    const order = run % 2 ? [2, 1, 0] : [0, 1, 2];
    for (const i of order) {
      const g = await iperf(lab, hosts[i]!);
      rows[i]!.gbps.push(g);
      process.stderr.write(`iperf3 -> ${hosts[i]}: ${g.toFixed(2)} Gbit/s\n`);
    }
  }
  return { rows, ip };
}

// ---- the report ----

const fmt = (x: number, d = 0): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');

const signed = (x: number): string => `${x >= 0 ? '+' : ''}${fmt(x)}`;

function connTable(cells: Cell[]): string[] {
  const lines = [
    '| path | published ports | target | in flight | conn/s | connect p50 (µs) | connect p99 (µs) | connections | errors |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const c of [...cells].sort((a, b) => a.concurrency - b.concurrency)) {
    const p = pooled(c);
    lines.push(`| ${c.path} | ${c.published} | ${c.target} | ${c.concurrency} | ${fmt(p.rate)} | ${fmt(p.p50)} | ${fmt(p.p99)} | ${fmt(p.n)} | ${p.errors} |`);
  }
  return lines;
}

function find(cells: Cell[], path: string, published: string, target: string, concurrency: number): Cell | undefined {
  return cells.find((x) => x.path.startsWith(path) && x.published === published && x.target === target && x.concurrency === concurrency);
}

function rateOf(cells: Cell[], path: string, published: string, target: string): number {
  const c = find(cells, path, published, target, HIGH);
  return c ? pooled(c).rate : NaN;
}

function p50Of(cells: Cell[], path: string, published: string, target: string): number {
  const c = find(cells, path, published, target, LOW);
  return c ? pooled(c).p50 : NaN;
}

function summary(cells: Cell[]): string[] {
  const out: string[] = [];
  for (const t of TARGETS) {
    const b = rateOf(cells, 'berth', '10,000', t) / rateOf(cells, 'berth', '10', t);
    const d = rateOf(cells, 'Docker', '10,000, port at rule 10,000', t) / rateOf(cells, 'Docker', '10, port at rule 10', t);
    const bl = p50Of(cells, 'berth', '10,000', t) - p50Of(cells, 'berth', '10', t);
    const dl = p50Of(cells, 'Docker', '10,000, port at rule 10,000', t) - p50Of(cells, 'Docker', '10,000, port at rule 1 (control)', t);
    out.push(`- to ${t}: at ${HIGH} in flight, berth at 10,000 ports keeps ${fmt(b * 100)}% of its rate at 10 ports; the linear chain keeps ${fmt(d * 100)}% (its port at the end of 10,000 rules vs of 10). One connection at a time (p50): berth at 10,000 vs 10 ports ${signed(bl)} µs; the chain's rule 10,000 vs its rule 1 ${signed(dl)} µs per new connection.`);
  }
  return out;
}

function iperfTable(rows: IperfRow[]): string[] {
  const direct = median(rows[0]!.gbps);
  const lines = [
    `| target | ${rows[0]!.gbps.map((_, i) => `run ${i + 1}`).join(' | ')} | median Gbit/s | vs direct |`,
    `|---|${rows[0]!.gbps.map(() => '---:').join('|')}|---:|---:|`,
  ];
  for (const r of rows) {
    lines.push(`| ${r.target} | ${r.gbps.map((g) => fmt(g, 2)).join(' | ')} | ${fmt(median(r.gbps), 2)} | ${fmt((median(r.gbps) / direct) * 100)}% |`);
  }
  return lines;
}

function loadavgLine(): string {
  return readFileSync('/proc/loadavg', 'utf8').trim();
}

async function main(): Promise<void> {
  if (process.env.BERTH_LAB_WORLD !== '1') throw new Error('run inside a lab world: bash scripts/bench.sh bench/ports-traffic.js');
  const loadBefore = loadavgLine();
  const started = new Date().toISOString();
  const lab = await Lab.create();
  const cells: Cell[] = [];
  let fill: { fillSeconds: number };
  let perf: { rows: IperfRow[]; ip: string };
  try {
    await berth(lab, ['run', '-d', '--name', 'srv', '-p', '8080:80', '--', 'node', '-e', SERVER]);
    const serverIp = await berth(lab, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'srv']);
    await waitReachable(lab, 8080);
    fill = await benchBerth(lab, cells);
    await benchIptables(lab, serverIp, cells);
    perf = await benchIperf(lab);
  } catch (err) {
    process.stderr.write(`berthd log (tail):\n${lab.daemonLog().slice(-4000)}\n`);
    throw err;
  } finally {
    await lab.destroy();
  }
  const loadAfter = loadavgLine();
  const direct = median(perf.rows[0]!.gbps);
  const lines = [
    '# Traffic through published ports',
    '',
    `Run ${started}, one lab, one run. Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}. \`cat /proc/loadavg\`: before \`${loadBefore}\`, after \`${loadAfter}\` (shared, noisy machine: compare rows of one run).`,
    '',
    '## Connection set-up through a published port',
    '',
    `Closed-loop client in the lab host's netns (node, ${CONCURRENCY.join(' and ')} connections in flight, each: connect, then close with RST), ${ROUNDS} × ${SECONDS} s per row (after 0.5 s warm-up), targets interleaved. Latency = connect() to established. The server is a node accept-and-drop in one berth container.`,
    `berth: the server's port 8080 plus 9 ports of another container (10), then 9,990 more from 10 containers with \`-p A-B:A-B\` ranges (10,000; the fill took ${fmt(fill.fillSeconds, 1)} s). Docker 20.10's way (\`--userland-proxy=false\`, so 127.0.0.1 is DNATed by the chain too): \`-t nat -N DOCKER\`, \`PREROUTING/OUTPUT -m addrtype --dst-type LOCAL -j DOCKER\`, one \`! -i ${BRIDGE} -p tcp --dport P -j DNAT\` rule per port, added in the same lab host while berth's 10,000 map elements stay in place (so its rows also pay berth's map miss, a constant). Host-originated connections walk only the nat chain; traffic from the LAN would also walk the filter DOCKER chain (not measured).`,
    '',
    ...connTable(cells),
    '',
    ...summary(cells),
    '',
    '## TCP throughput: host -> published port vs host -> container IP',
    '',
    `iperf3 -s in a berth container (\`-p 5201:5201\`, IP ${perf.ip}), iperf3 -c in the lab host, ${IPERF_RUNS} runs of ${IPERF_SECONDS} s each per target, interleaved.`,
    '',
    ...iperfTable(perf.rows),
    '',
    `127.0.0.1 through berth's DNAT reaches ${fmt((median(perf.rows[1]!.gbps) / direct) * 100)}% of direct (target ≥ 90%). For reference (other machine, shared/anchors-recipes.md): Docker 20.10's userland proxy, 127.0.0.1 -> published port 12.6 Gbit/s vs 20.7 direct = 61%.`,
    '',
    'How: `bash scripts/bench.sh bench/ports-traffic.js` (npm run bench:ports-traffic). Knobs: BENCH_CONN_SECONDS, BENCH_CONN_CONCURRENCY, BENCH_CONN_ROUNDS, BENCH_IPERF_RUNS, BENCH_IPERF_SECONDS.',
    '',
  ];
  const text = lines.join('\n');
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, text);
  process.stdout.write(text);
}

if (process.argv[2] === 'client') {
  const [host, port, n, s] = process.argv.slice(3);
  await runClient(host!, Number(port), Number(n), Number(s));
} else {
  await main();
}
