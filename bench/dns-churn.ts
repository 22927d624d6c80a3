// bench:dns's real-churn condition (issue 17: p99 while 200 real containers start and stop
// through berthd ≤ 2x at rest). A real berthd in a lab of its own, a user-defined bridge
// network, STABLE named containers and a client container on it; the closed-loop latency
// client (dns-latency.ts) runs in the client's netns against 127.0.0.11, as a container
// asks. Each round measures at rest, then with CHURN containers (other names, the same
// network) created, started and removed through berthd's API in a loop, INFLIGHT at a
// time, for the whole measurement. Rounds alternate the two, so that both see the same
// machine (it is shared); the figures are medians across rounds.
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { loadavg } from './lib/host.js';
import { apiOk, log } from './lib/lab-api.js';
import { NODE_ENV } from './lib/restart-berth.js';
import { median } from './lib/stats.js';
import { medianDist } from './lib/latency-svg.js';
import { Lab } from '../test/lab/lab.js';

const LATENCY_CLIENT = fileURLToPath(new URL('./dns-latency.js', import.meta.url));
const STABLE = 200;
const CHURN = 200;
const INFLIGHT = Number(process.env.BENCH_DNS_CHURN_INFLIGHT ?? 4);
const ROUNDS = Number(process.env.BENCH_DNS_CHURN_ROUNDS ?? 5);
const QUERIES = Number(process.env.BENCH_DNS_CHURN_QUERIES ?? 20_000);
/** churn runs this long before a measurement starts, so that it is in full swing */
const WARM_MS = 1000;
const NETWORK = 'churnnet';
/** a name the lab's internet DNS holds: forwarded once, then answered from the cache */
const FORWARDED = 'echo.internet.test';

export interface ChurnRow {
  names: string;
  condition: 'at rest' | 'churn';
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  /** each round's lost queries (no answer within 1 s) */
  lost: string;
  /** [percentile, µs], the median of each over the rounds */
  dist: [number, number][];
}

export interface ChurnResult {
  rows: ChurnRow[];
  /** container starts and removals completed while the churn latency clients ran, summed over rounds */
  starts: number;
  stops: number;
  /** seconds the churn latency clients ran, summed over rounds */
  seconds: number;
  loadBefore: string;
  loadAfter: string;
  /** the machine's CPU during the churn runs, % of all CPUs: user (and nice), system (and irq, softirq), idle (and iowait) */
  cpuShare: { user: number; system: number; idle: number };
  /** mean API call times of the churn, ms */
  meanMs: { create: number; start: number; remove: number };
}

interface Latency extends Record<'p50' | 'p90' | 'p99' | 'p999' | 'lost', number> {
  /** [percentile, µs] (bench/dns-latency.ts) */
  dist: [number, number][];
}

/** Creates, starts and removes containers through the API, `inflight` loops side by side, until stopped. */
class Churn {
  starts = 0;
  stops = 0;
  /** time spent in each API call, summed (ms) */
  readonly ms = { create: 0, start: 0, remove: 0 };
  private running = true;
  private seq = 0;
  private readonly loops: Promise<void>[];

  constructor(private readonly lab: Lab) {
    this.loops = Array.from({ length: INFLIGHT }, () => this.loop());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      // names cycle through CHURN; INFLIGHT < CHURN loops cannot hold one name twice
      const name = `churn${this.seq++ % CHURN}`;
      const id = await this.timed('create', async () => {
        const c = await apiOk(this.lab, 'POST', `/containers/create?name=${name}`, { Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: NETWORK } });
        return (c.body as { Id: string }).Id;
      });
      await this.timed('start', () => apiOk(this.lab, 'POST', `/containers/${id}/start`));
      this.starts++;
      await this.timed('remove', () => apiOk(this.lab, 'DELETE', `/containers/${id}?force=1`));
      this.stops++;
    }
  }

  private async timed<T>(op: keyof Churn['ms'], fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const out = await fn();
    this.ms[op] += performance.now() - t0;
    return out;
  }

  /** Lets every loop finish its container (nothing of the churn is left). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** The machine's CPU time so far, by kind (USER_HZ ticks, /proc/stat's first line). */
function cpuTicks(): number[] {
  return (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
}

async function latency(lab: Lab, sandbox: string, names: string[]): Promise<Latency> {
  const r = await lab.inNetns(sandbox, ['node', LATENCY_CLIENT, '127.0.0.11', '53', String(QUERIES), ...names], { timeoutMs: 600_000, env: NODE_ENV });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`latency client failed (${r.code}): ${r.stdout}${r.stderr}`);
  return JSON.parse(line) as Latency;
}

async function runSleeper(lab: Lab, name: string): Promise<string> {
  const c = await apiOk(lab, 'POST', `/containers/create?name=${name}`, { Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: NETWORK } });
  const id = (c.body as { Id: string }).Id;
  await apiOk(lab, 'POST', `/containers/${id}/start`);
  return id;
}

export async function measureChurn(): Promise<ChurnResult> {
  const lab = await Lab.create({ startDaemon: false });
  try {
    await lab.startDaemon(['--dns', lab.internetDns], NODE_ENV);
    await apiOk(lab, 'POST', '/networks/create', { Name: NETWORK });
    const stable = Array.from({ length: STABLE }, (_, i) => `ctr${i}`);
    for (const n of stable) await runSleeper(lab, n);
    const client = await runSleeper(lab, 'client');
    const sandbox = ((await apiOk(lab, 'GET', `/containers/${client}/json`)).body as { NetworkSettings: { SandboxKey: string } }).NetworkSettings.SandboxKey;
    const workloads: [string, string[]][] = [['local', stable], ['forwarded (cached)', [FORWARDED]]];
    const loadBefore = loadavg();
    const cells = new Map<string, Latency[]>();
    const keep = (key: string, l: Latency) => cells.set(key, [...(cells.get(key) ?? []), l]);
    let starts = 0;
    let stops = 0;
    let seconds = 0;
    /** the machine's CPU ticks by kind during the churn runs, and the churn's API calls over every churn (its warm-up and wind-down too) */
    const cpu: number[] = [];
    const opMs = { create: 0, start: 0, remove: 0 };
    const opCount = { starts: 0, stops: 0 };
    for (const [, names] of workloads) await latency(lab, sandbox, names); // warm up: the upstream answer cached
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [kind, names] of workloads) keep(`${kind}|at rest`, await latency(lab, sandbox, names));
      const churn = new Churn(lab);
      try {
        await new Promise((r) => setTimeout(r, WARM_MS));
        const [c0, t0, at] = [churn.starts, churn.stops, performance.now()];
        const cpu0 = cpuTicks();
        for (const [kind, names] of workloads) keep(`${kind}|churn`, await latency(lab, sandbox, names));
        cpuTicks().forEach((t, i) => (cpu[i] = (cpu[i] ?? 0) + t - (cpu0[i] ?? 0)));
        starts += churn.starts - c0;
        stops += churn.stops - t0;
        seconds += (performance.now() - at) / 1000;
      } finally {
        await churn.stop();
      }
      for (const k of ['create', 'start', 'remove'] as const) opMs[k] += churn.ms[k];
      opCount.starts += churn.starts;
      opCount.stops += churn.stops;
      const last = (k: string) => cells.get(k)?.at(-1)?.p99;
      log(`dns churn round ${round}: local p99 ${last('local|at rest')} µs at rest, ${last('local|churn')} µs under churn; ${starts} starts, ${stops} stops so far`);
    }
    const rows: ChurnRow[] = [];
    for (const [kind] of workloads) {
      for (const condition of ['at rest', 'churn'] as const) {
        const runs = cells.get(`${kind}|${condition}`) ?? [];
        const m = (k: Exclude<keyof Latency, 'dist'>) => median(runs.map((r) => r[k]));
        rows.push({ names: kind, condition, p50: m('p50'), p90: m('p90'), p99: m('p99'), p999: m('p999'), lost: runs.map((r) => r.lost).join('/'), dist: medianDist(runs.map((r) => r.dist)) });
      }
    }
    const total = cpu.reduce((a, b) => a + b, 0);
    const share = (i: number) => Math.round(((cpu[i] ?? 0) * 100) / total);
    return {
      rows, starts, stops, seconds, loadBefore, loadAfter: loadavg(),
      cpuShare: { user: share(0) + share(1), system: share(2) + share(5) + share(6), idle: share(3) + share(4) },
      meanMs: { create: opMs.create / opCount.starts, start: opMs.start / opCount.starts, remove: opMs.remove / opCount.stops },
    };
  } catch (err) {
    log(`berthd log (tail):\n${lab.daemonLog().slice(-4000)}`);
    throw err;
  } finally {
    await lab.destroy();
  }
}

/** The report's section: what was done, the table, and the ratio against the target. */
export function churnSection(r: ChurnResult): string {
  const head = '| names | condition | p50 (µs) | p90 | p99 | p99.9 | lost |\n|---|---|---|---|---|---|---|';
  const lines = r.rows.map((x) => `| ${x.names} | ${x.condition} | ${x.p50} | ${x.p90} | ${x.p99} | ${x.p999} | ${x.lost} |`);
  const ratio = (names: string) => {
    const rest = r.rows.find((x) => x.names === names && x.condition === 'at rest')?.p99 ?? NaN;
    const churn = r.rows.find((x) => x.names === names && x.condition === 'churn')?.p99 ?? NaN;
    return `${names} ${(churn / rest).toFixed(2)}x`;
  };
  return [
    '## Real churn through berthd',
    '',
    `A real berthd in a lab of its own (upstream: the lab's internet DNS), one user-defined bridge network, ${STABLE} named containers (sleep) and a client container on it. ` +
      `The closed-loop client (bench/dns-latency.ts, ${QUERIES.toLocaleString('en-US')} queries a run, one at a time) runs inside the client container's netns against 127.0.0.11: the ${STABLE} names (A), and ${FORWARDED} (forwarded once, then from the cache). ` +
      `"churn": meanwhile ${CHURN} other containers (names churn0…churn${CHURN - 1}, the same network) are created, started and removed (force) through berthd's API in a loop, ${INFLIGHT} at a time, as fast as it goes, from ${WARM_MS / 1000} s before the run to its end. ` +
      `${ROUNDS} rounds, each an at-rest run then a churn run; every cell the median across rounds ("lost" lists each round). ` +
      `During the churn runs: ${r.starts.toLocaleString('en-US')} container starts and ${r.stops.toLocaleString('en-US')} removals in ${r.seconds.toFixed(1)} s (${(r.starts / r.seconds).toFixed(0)} starts/s). Mean API times with ${INFLIGHT} in flight: create ${r.meanMs.create.toFixed(1)} ms, start ${r.meanMs.start.toFixed(1)} ms, remove ${r.meanMs.remove.toFixed(1)} ms. ` +
      `The machine's CPUs during the churn runs: user ${r.cpuShare.user} %, system ${r.cpuShare.system} %, idle ${r.cpuShare.idle} % (/proc/stat). Load ${r.loadBefore.split(' ').slice(0, 3).join(' ')} before / ${r.loadAfter.split(' ').slice(0, 3).join(' ')} after.`,
    '',
    head,
    ...lines,
    '',
    `p99 under churn / at rest: ${ratio('local')}, ${ratio('forwarded (cached)')} (target ≤ 2x).`,
    '',
    'What was measured about where the churn\'s tail comes from (scheduling, the resolver\'s own work): README, "Embedded DNS", under real churn.',
    '',
  ].join('\n');
}
