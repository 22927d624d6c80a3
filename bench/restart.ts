// npm run bench:restart — a daemon killed with -9 and started again while N containers run,
// each publishing a port and answering on it (busybox httpd), each with a name on a user
// network (issue 17): berthd beside dockerd 20.10, with and without --live-restore (the
// engines: bench/lib/restart-berth.ts, bench/anchors/dockerd-restart.ts). Ready = the API
// answers (/_ping), every published port forwards (a TCP connection from the host to
// host-uplink:PORT reaches the container), every name resolves (the embedded resolver,
// asked from inside a container on every network). Both probes run beside the restart
// (bench/lib/restart-probes.ts), so that their own rounds add nothing to what they time.
// Runs inside scripts/in-lab.sh. Writes bench/results/restart.md (and restart.json, which a
// later run of some systems or sizes adds to: bench/lib/restart-report.ts).
// BENCH_PROF=1: the last berthd start of each size is profiled (berthd's main thread, until
// the lab stops it), written to bench/results/restart-profile.md.
// Knobs: BENCH_RESTART_N (comma list, default 100,1000), BENCH_RESTART_ROUNDS (default 3),
// BENCH_RESTART_SYSTEMS (comma list of berth, dockerd-live, dockerd; default all three),
// BENCH_RESTART_GIVE_UP_S (how long a start may take to be ready, default 900),
// BENCH_RESTART_NAMED and BENCH_RESTART_PUBLISHED (bench/lib/restart-berth.ts).
// Ports: every one must have its DNAT entry, and PROBED of them (spread evenly) must take a
// connection: the host's neighbour table is one for all namespaces (1,024 entries here; the
// lab may not raise the machine's), so the host cannot talk to 1,000 containers at once.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeDockerd, type DockerdVariant } from './anchors/dockerd-restart.js';
import { renderProfile } from './lib/cpuprofile.js';
import { loadavg } from './lib/host.js';
import { log } from './lib/lab-api.js';
import { makeBerth, NODE_ENV } from './lib/restart-berth.js';
import { merged, render, SYSTEM_ORDER, writeJson, type Measured, type Round } from './lib/restart-report.js';
import { FIRST_PORT, namesDown, PER_NETWORK, portsDown, type RestartTarget } from './lib/restart-target.js';
import { nowMs } from './lib/timing.js';

const SIZES = (process.env.BENCH_RESTART_N ?? '100,1000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_RESTART_ROUNDS ?? 3);
const SYSTEMS = (process.env.BENCH_RESTART_SYSTEMS ?? SYSTEM_ORDER.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(process.env.BENCH_OUT ?? join(REPO, 'bench', 'results'), 'restart.md');
const PROBED = 300;
const PROBES = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'restart-probes.js');
const PORT_TAIL_MS = 500;
/** dockerd without --live-restore brings 1,000 containers back in minutes, not seconds (BENCH_RESTART_GIVE_UP_S) */
const BACK_WITHIN_MS = Number(process.env.BENCH_RESTART_GIVE_UP_S ?? 900) * 1000;
const PROBE_ENV = { ...NODE_ENV, RESTART_PROBE_DEADLINE_MS: String(BACK_WITHIN_MS) };

/** Every probed port forwarding and every name answered, or an error after timeoutMs. */
async function allAnswer(t: RestartTarget, probed: number[], timeoutMs: number): Promise<void> {
  for (const start = nowMs(); ;) {
    const ns = await t.proberNs();
    const [p, m] = [[...(await t.unmapped(t.ports)), ...(await portsDown(t.lab, probed))], await namesDown(t.lab, ns, t.names)];
    if (!p.length && !m.length) return;
    if (nowMs() - start > timeoutMs) throw new Error(`${p.length} ports (${p.slice(0, 5).join(' ')}) and ${m.length} names (${m.slice(0, 5).join(' ')}) do not answer`);
  }
}

/** One kill and start, both probes running beside it. */
async function round(t: RestartTarget, probed: number[]): Promise<Round> {
  const { lab, names } = t;
  const n = names.length;
  // the port probe runs from before the kill to after every port forwards again, the name
  // probe from just before the start (or, when the start restarts the prober, from when it
  // runs again): neither adds a round of its own to the figures
  const portProbe = lab.spawnIn(lab.hostNs, ['node', PROBES, 'ports', lab.hostUplinkAddr, ...probed.map(String)], NODE_ENV);
  await portProbe.waitForOutput('ready\n');
  const ns = await t.proberNs();
  await t.kill();
  const nameProbeIn = (where: string) => lab.spawnIn(where, ['node', PROBES, 'names', '127.0.0.11', ...names], PROBE_ENV);
  let nameProbe = t.containersRestart ? undefined : nameProbeIn(ns);
  await nameProbe?.waitForOutput('ready\n');
  const startEpoch = Date.now();
  const start = nowMs();
  await t.start(); // resolves once /_ping answers
  const pingMs = nowMs() - start;
  nameProbe ??= nameProbeIn(await t.proberNs());
  // a start may leave containers down for good (dockerd 20.10 does not retry a start that
  // failed while it came up): the round is then not ready, with what never came back
  await nameProbe.waitForOutput('\nall ', BACK_WITHIN_MS + 10_000).catch(() => undefined);
  const said = nameProbe.output();
  const unanswered = Number(/^unanswered (\d+)/m.exec(said)?.[1] ?? 0);
  if (!unanswered && !/^all \d+$/m.test(said)) throw new Error(`${n}: the name probe said nothing: ${said.trim()}`);
  const namesMs = unanswered ? NaN : Number(/^all (\d+)$/m.exec(said)?.[1]) - startEpoch;
  const missing = await t.unmapped(t.ports);
  // the names may be back before the ports (dockerd restarting its containers): the probe runs on until they are
  let down = await portsDown(lab, probed);
  for (const deadline = Date.now() + (unanswered || missing.length ? 0 : BACK_WITHIN_MS); down.length && Date.now() < deadline;) down = await portsDown(lab, probed);
  await sleep(PORT_TAIL_MS); // a probe round or two past readiness
  await portProbe.stop('SIGTERM');
  const summary = JSON.parse(/^summary (.*)$/m.exec(portProbe.output())?.[1] ?? 'null') as { probes: number; failures: [number, number][] } | null;
  if (!summary) throw new Error(`${n}: the port probe said nothing: ${portProbe.output().trim()}`);
  // a port that never failed forwarded throughout: ready at 0
  const portsMs = down.length ? NaN : Math.max(0, ...summary.failures.map(([, at]) => at - startEpoch));
  const notBack = unanswered || missing.length || down.length
    ? `${unanswered} of ${n} names never resolved, ${missing.length} ports without a DNAT entry, ${down.length} of ${probed.length} probed ports not forwarding${(await t.notRunning?.()) ?? ''}`
    : undefined;
  return { pingMs, portsMs, namesMs, readyMs: notBack ? NaN : Math.max(pingMs, portsMs, namesMs), probes: summary.probes, failed: summary.failures.length, said: t.said(), notBack };
}

/** The systems of one engine, measured on one set of n containers (dockerd's two share theirs). */
async function engine(systems: string[], n: number, write: (m: Measured) => void): Promise<void> {
  const t0 = nowMs();
  const dockerd = systems[0] !== 'berth';
  const t = dockerd ? await makeDockerd(n) : await makeBerth(n);
  const madeS = (nowMs() - t0) / 1000;
  try {
    const probed = t.ports.filter((_, i) => i % Math.max(1, Math.floor(t.ports.length / PROBED)) === 0).slice(0, PROBED);
    const footprint = await t.footprint();
    if (footprint) log(`${n}: ${footprint}`);
    for (const system of systems) {
      if (dockerd) (t as Awaited<ReturnType<typeof makeDockerd>>).use(system as DockerdVariant);
      const loadBefore = loadavg();
      const rounds: Round[] = [];
      for (let r = 0; r < ROUNDS && !rounds.at(-1)?.notBack; r++) {
        // every server listening and every name served before each kill
        await allAnswer(t, probed, BACK_WITHIN_MS);
        const x = await round(t, probed);
        rounds.push(x);
        log(`${system} ${n} round ${r + 1}: /_ping ${x.pingMs.toFixed(0)} ms, names ${x.namesMs.toFixed(0)} ms, ports ${x.portsMs.toFixed(0)} ms (${x.probes} probes, ${x.failed} failed)${x.notBack ? `; NOT READY: ${x.notBack}` : ''}; said: ${x.said.join('; ')}`);
      }
      // written after every system: a run cut short keeps what it measured
      write({ system, n, date: new Date().toISOString(), loadBefore, loadAfter: loadavg(), madeS, rounds, footprint, note: t.note });
      // the state a start left broken is no ground for the next system's rounds
      if (rounds.at(-1)?.notBack) break;
    }
  } finally {
    await t.destroy();
    collectProfile(n, dockerd);
  }
}

const profiles: string[] = [];

function collectProfile(n: number, dockerd: boolean): void {
  const dir = process.env.BENCH_PROF_DIR;
  if (dockerd || !dir || !existsSync(dir)) return;
  // the killed starts wrote nothing; the last one, stopped by the lab, wrote its profile
  // berthd-<pid>.cpuprofile (bench/lib/profiled-daemon.ts): the newest process's
  const last = readdirSync(dir).filter((f) => /^berthd-\d+\.cpuprofile$/.test(f)).sort((a, b) => Number(a.slice(7, -11)) - Number(b.slice(7, -11))).at(-1);
  if (last) profiles.push(renderProfile(join(dir, last), `berthd's start with ${n} containers running (after a kill -9), profiled until the lab stopped it.`));
}

async function main(): Promise<void> {
  if (process.env.BERTH_LAB_WORLD !== '1') throw new Error('run inside a lab world: bash scripts/bench.sh bench/restart.js');
  const unknown = SYSTEMS.filter((s) => !SYSTEM_ORDER.includes(s));
  if (unknown.length) throw new Error(`BENCH_RESTART_SYSTEMS: ${unknown.join(',')} (known: ${SYSTEM_ORDER.join(', ')})`);
  const groups = [SYSTEMS.filter((s) => s === 'berth'), SYSTEM_ORDER.filter((s) => s !== 'berth' && SYSTEMS.includes(s))].filter((g) => g.length);
  const json = OUT.replace(/\.md$/, '.json');
  const write = (fresh: Measured) => {
    const all = merged(json, [fresh]);
    writeJson(json, all);
    const machine = `${cpus().length} × ${cpus()[0]?.model.trim().split(' ').slice(0, 2).join(' ')}`;
    writeFileSync(OUT, render(all, { machine, node: process.version, perNetwork: PER_NETWORK, firstPort: FIRST_PORT, probed: PROBED }));
  };
  for (const n of SIZES) {
    for (const g of groups) {
      await engine(g, n, (m) => {
        write(m);
        log(`wrote ${OUT}`);
      });
    }
  }
  if (profiles.length) writeFileSync(OUT.replace(/\.md$/, '-profile.md'), profiles.join('\n'));
}

main().catch((err) => {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
