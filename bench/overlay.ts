// npm run bench:overlay — multi-host overlay networks, side by side in one run: Docker
// 20.10's classic --cluster-store overlay (the anchor) and berth's, each on a fresh
// two-host cluster lab with a real etcd (lib/overlay-systems.ts), both driven through the
// same Docker API calls over each host's unix socket. Measured:
//   - convergence (issue 14's figure): from `run` returning on host A (container ovcK
//     started on overlay network ovnet) to the first ping BY NAME answered in a container
//     on host B, seen by a prober loop running inside that container (lib/overlay-prober.ts)
//     and stamped there with CLOCK_REALTIME, the clock all namespaces share; N containers
//     one after another (plus one warm-up, reported apart);
//   - `network create -d overlay`, and how long until host B lists the network;
//   - `run -d` (API create + start) on the overlay network vs on a bridge network of the
//     same host, interleaved: what the overlay endpoint costs;
//   - cross-host ping RTT and iperf3 TCP, container→container vs underlay host→host.
// A system whose engine refuses `network create -d overlay` is skipped with its answer.
// Env: BENCH_N (100), BENCH_N_NSLOOKUP (30: the nslookup pass), BENCH_SYSTEMS (docker,berth), BENCH_PINGS (500), BENCH_IPERF_S (5;
// 0 skips iperf3), BENCH_BRIDGE_EVERY (3: a bridge-network run after every 3rd overlay
// run), BENCH_OUT (bench/results). Runs inside scripts/bench.sh (its own lab world).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '../test/lab/exec.js';
import { importBusybox } from './anchors/dockerd.js';
import { envInt } from './lib/budget.js';
import { iperfGbps, mtuOf, netnsOfPid, pingRtt } from './lib/datapath.js';
import { EngineError, type EngineClient } from './lib/engine-client.js';
import { cpuModel, loadavg } from './lib/host.js';
import { leftovers } from './lib/leftovers.js';
import { renderOverlayReport, type ConvergencePass, type OverlayFigures } from './lib/overlay-report.js';
import { parseSighting, proberScript, SIGHTING, type Lookup, type Sighting } from './lib/overlay-prober.js';
import { BERTH_LABEL, DOCKER_LABEL, startBerthOverlay, startDockerOverlay, type OverlaySystem } from './lib/overlay-systems.js';
import { nowMs, realtimeClock } from './lib/timing.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const N = envInt('BENCH_N', 100);
const PINGS = envInt('BENCH_PINGS', 500);
const IPERF_S = envInt('BENCH_IPERF_S', 5);
const BRIDGE_EVERY = Math.max(1, envInt('BENCH_BRIDGE_EVERY', 3));
const OVERLAY = { name: 'ovnet', subnet: '10.210.0.0/20' };
const BRIDGE = { name: 'ovbr', subnet: '10.211.0.0/20' };
/** the convergence passes: how the prober looks names up, the containers' name prefix, how many (after one warm-up) */
const PASSES: [Lookup, string, number][] = [
  ['getaddrinfo', 'ovc', N],
  ['nslookup', 'ovn', envInt('BENCH_N_NSLOOKUP', 30)],
];
/** longer than this from `run` to a sighting, and the prober is taken as stuck */
const SIGHTING_TIMEOUT_MS = 15_000;
/** a bound on every API call: Docker 20.10 can deadlock in libnetwork (anchors-recipes.md) */
const API_TIMEOUT_MS = 30_000;
const clock = realtimeClock();

function log(line: string): void {
  process.stderr.write(`[overlay ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

const SYSTEMS: Record<string, { label: string; start: (l: typeof log) => Promise<OverlaySystem> }> = {
  docker: { label: DOCKER_LABEL, start: startDockerOverlay },
  berth: { label: BERTH_LABEL, start: () => startBerthOverlay() },
};

interface Started {
  id: string;
  /** API create + start, ms */
  ms: number;
  /** CLOCK_REALTIME (µs) when start returned: `run` returning */
  atUs: number;
}

/** `docker run -d --name NAME --network NET bb:latest sleep 3600`, as its two API calls. */
async function runDetached(e: EngineClient, name: string, net: string, cmd = ['sleep', '3600']): Promise<Started> {
  const t0 = nowMs();
  const c = await e.api('POST', `/containers/create?name=${name}`, { Image: 'bb:latest', Cmd: cmd, HostConfig: { NetworkMode: net } }, API_TIMEOUT_MS);
  const id = (c.body as { Id: string }).Id;
  await e.api('POST', `/containers/${id}/start`, undefined, API_TIMEOUT_MS);
  const atUs = clock();
  return { id, ms: nowMs() - t0, atUs };
}

async function createNetwork(e: EngineClient, name: string, driver: string, subnet: string): Promise<number> {
  const t0 = nowMs();
  await e.api('POST', '/networks/create', { Name: name, Driver: driver, CheckDuplicate: true, IPAM: { Config: [{ Subnet: subnet }] } }, API_TIMEOUT_MS);
  return nowMs() - t0;
}

/** Polls host B every 5 ms until it lists the network; ms after `since`. */
async function visibleOn(e: EngineClient, name: string, since: number, timeoutMs = 30_000): Promise<number> {
  for (;;) {
    const r = await e.tryApi('GET', `/networks/${name}`, undefined, API_TIMEOUT_MS);
    if (r.status === 200) return nowMs() - since;
    if (nowMs() - since > timeoutMs) throw new Error(`host B does not list network ${name} after ${timeoutMs} ms (${r.status} ${r.text.trim()})`);
    await sleep(5);
  }
}

async function ipOn(e: EngineClient, id: string, net: string): Promise<string> {
  const body = (await e.api('GET', `/containers/${id}/json`)).body as { NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> } };
  const ip = body.NetworkSettings?.Networks?.[net]?.IPAddress;
  if (!ip) throw new Error(`container ${id} has no address on ${net}`);
  return ip;
}

/** Fills f as it goes: a failure part way keeps what was measured before it. */
async function measure(sys: OverlaySystem, f: OverlayFigures): Promise<void> {
  const { a, b } = sys;
  for (const h of [a, b]) await importBusybox(h.engine, sys.dir);
  // the overlay network, made on A: the one call a system may refuse
  const t0 = nowMs();
  try {
    f.netCreateMs = await createNetwork(a.engine, OVERLAY.name, 'overlay', OVERLAY.subnet);
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    f.skipped = `POST /networks/create {"Name":"${OVERLAY.name}","Driver":"overlay",…} on host A answered ${err.status}: ${err.text}`;
    return;
  }
  f.netVisibleOnBMs = await visibleOn(b.engine, OVERLAY.name, t0 + f.netCreateMs);
  log(`${sys.name}: network create -d overlay ${f.netCreateMs.toFixed(1)} ms, listed on B ${f.netVisibleOnBMs.toFixed(1)} ms later`);
  for (let k = 1; k <= 5; k++) {
    f.netCreateMore.push(await createNetwork(a.engine, `ovtmp${k}`, 'overlay', `10.212.${k}.0/24`));
    const tr = nowMs();
    await a.engine.api('DELETE', `/networks/ovtmp${k}`, undefined, API_TIMEOUT_MS);
    f.netRmMore.push(nowMs() - tr);
  }
  await createNetwork(a.engine, BRIDGE.name, 'bridge', BRIDGE.subnet);

  const ids: { engine: EngineClient; id: string }[] = [];
  try {
    let first: { prober: string; target: string } | undefined;
    for (const [lookup, prefix, n] of PASSES) {
      const pass = await convergence(sys, f, lookup, prefix, n, ids);
      first ??= pass;
    }
    if (first) await dataPath(sys, f, first.prober, first.target);
  } finally {
    // removal one at a time, each bounded in time (20.10's libnetwork deadlocks on parallel removal)
    for (const { engine, id } of ids.reverse()) {
      const tr = nowMs();
      const r = await engine.tryApi('DELETE', `/containers/${id}?force=1`, undefined, API_TIMEOUT_MS).catch((e: Error) => ({ status: 0, text: e.message }));
      if (r.status >= 300 || r.status === 0) f.notes.push(`rm ${id.slice(0, 12)}: ${r.status} ${r.text.trim()}`);
      else f.rmMs.push(nowMs() - tr);
    }
    for (const net of [OVERLAY.name, BRIDGE.name]) {
      const r = await a.engine.tryApi('DELETE', `/networks/${net}`, undefined, API_TIMEOUT_MS).catch((e: Error) => ({ status: 0, text: e.message }));
      if (r.status >= 300 || r.status === 0) f.notes.push(`network rm ${net}: ${r.status} ${r.text.trim()}`);
    }
  }
}

/**
 * One convergence pass: a prober on B (looking names up the given way), then containers
 * PREFIX0 … PREFIXn on A one after another, each timed from `run` returning to its sighting;
 * a bridge-network run on A after every BRIDGE_EVERY of them. Returns the prober and the
 * first container (for the data path), once the pass is over.
 */
async function convergence(sys: OverlaySystem, f: OverlayFigures, lookup: Lookup, prefix: string, n: number, ids: { engine: EngineClient; id: string }[]): Promise<{ prober: string; target: string } | undefined> {
  const { a, b } = sys;
  const pass: ConvergencePass = { lookup, n, convMs: [], resolvedMs: [], lookupGapMs: [], tries: [], unanswered: [] };
  f.passes.push(pass);
  const probe = await runDetached(b.engine, `probe-${prefix}`, OVERLAY.name, ['sh', '-c', proberScript(prefix, n, lookup)]);
  ids.push({ engine: b.engine, id: probe.id });
  const seen = b.engine.followLogs(probe.id);
  let first: string | undefined;
  try {
    await seen.next(/^ready$/, 10_000);
    log(`${sys.name}: prober (${lookup}) running on B`);
    for (let k = 0; k <= n; k++) {
      const run = await runDetached(a.engine, `${prefix}${k}`, OVERLAY.name);
      ids.push({ engine: a.engine, id: run.id });
      first ??= run.id;
      let s: Sighting;
      try {
        s = parseSighting(await seen.next(SIGHTING, SIGHTING_TIMEOUT_MS));
      } catch (err) {
        f.notes.push(`${prefix}${k}: not seen from host B within ${SIGHTING_TIMEOUT_MS / 1000} s of \`run\` returning (${(err as Error).message}); this pass stopped there`);
        break;
      }
      if (s.name !== `${prefix}${k}`) throw new Error(`prober saw ${s.name}, expected ${prefix}${k}`);
      const conv = (s.atUs - run.atUs) / 1000;
      const resolved = (s.resolvedUs - run.atUs) / 1000;
      if (k === 0) {
        pass.warmup = { runMs: run.ms, convMs: conv, resolvedMs: resolved };
      } else {
        f.runOverlayMs.push(run.ms);
        pass.convMs.push(conv);
        pass.resolvedMs.push(resolved);
        if (s.lastFailedUs !== undefined) pass.lookupGapMs.push((s.resolvedUs - s.lastFailedUs) / 1000);
        pass.tries.push(s.tries);
        pass.unanswered.push(s.unanswered);
      }
      if (k > 0 && k % BRIDGE_EVERY === 0) {
        const br = await runDetached(a.engine, `br${prefix}${k}`, BRIDGE.name);
        ids.push({ engine: a.engine, id: br.id });
        f.runBridgeMs.push(br.ms);
      }
      if (k % 20 === 0 || n <= 20) log(`${sys.name} (${lookup}): ${k}/${n}: run ${run.ms.toFixed(0)} ms, answered on B ${conv.toFixed(1)} ms after, name resolved at ${resolved.toFixed(1)} ms (${s.tries} tries, ${s.unanswered} unanswered)`);
      await sleep(50);
    }
  } finally {
    seen.close();
  }
  return first ? { prober: probe.id, target: first } : undefined;
}

/** RTT and iperf3 between the prober on B and the first container on A, and between the hosts. */
async function dataPath(sys: OverlaySystem, f: OverlayFigures, proberId: string, targetId: string): Promise<void> {
  const { a, b } = sys;
  const prober = netnsOfPid(await b.engine.pidOf(proberId));
  const target = netnsOfPid(await a.engine.pidOf(targetId));
  const targetIp = await ipOn(a.engine, targetId, OVERLAY.name);
  f.mtu = await mtuOf(prober, 'eth0');
  f.rttUnderlay = await pingRtt(b.ns, a.addr, PINGS);
  f.rttOverlay = await pingRtt(prober, targetIp, PINGS);
  log(`${sys.name}: RTT p50 underlay ${f.rttUnderlay.p50Us.toFixed(0)} µs, overlay ${f.rttOverlay.p50Us.toFixed(0)} µs`);
  if (IPERF_S === 0) return;
  for (let r = 0; r < 2; r++) {
    f.iperfUnderlay.push(await iperfGbps(a.ns, b.ns, a.addr, IPERF_S));
    f.iperfOverlay.push(await iperfGbps(target, prober, targetIp, IPERF_S));
  }
  log(`${sys.name}: iperf3 underlay ${f.iperfUnderlay.map((x) => x.toFixed(1)).join(', ')}, overlay ${f.iperfOverlay.map((x) => x.toFixed(1)).join(', ')} Gbit/s`);
}

async function main(): Promise<void> {
  if (process.env.BERTH_LAB_WORLD !== '1') throw new Error('run inside a lab world: npm run bench:overlay (scripts/bench.sh)');
  const wanted = (process.env.BENCH_SYSTEMS ?? 'docker,berth').split(',').map((x) => x.trim()).filter(Boolean);
  const out = process.env.BENCH_OUT || join(REPO, 'bench/results');
  const loadBefore = loadavg();
  const started = new Date();
  const t0 = nowMs();
  log(`N=${N}; systems ${wanted.join(',')}; load ${loadBefore}`);
  const results: OverlayFigures[] = [];
  for (const name of wanted) {
    const system = SYSTEMS[name];
    if (!system) throw new Error(`unknown system ${name} (docker, berth)`);
    let sys: OverlaySystem;
    try {
      sys = await system.start(log);
    } catch (err) {
      results.push({ ...emptyFigures(system.label, []), skipped: `could not start: ${(err as Error).message.split('\n')[0]}` });
      log(`${name}: could not start: ${(err as Error).stack}`);
      continue;
    }
    const f = emptyFigures(sys.name, sys.flags);
    try {
      await measure(sys, f);
    } catch (err) {
      log(`${name} failed: ${(err as Error).stack}\n${sys.logs()}`);
      f.notes.push(`FAILED part way (the figures above were taken before): ${(err as Error).message.split('\n')[0]}`);
    }
    await sys.destroy().catch((err: Error) => f.notes.push(`teardown: ${err.message.split('\n')[0]}`));
    f.leaks = await leftovers(sys.clusterName);
    log(`${name}: ${f.skipped ?? 'done'}; left behind: ${f.leaks.join(', ') || 'nothing'}`);
    results.push(f);
  }
  const text = renderOverlayReport(results, {
    date: started.toISOString(), machine: cpuModel(), loadBefore, loadAfter: loadavg(), n: N, nNslookup: PASSES[1]![2], pings: PINGS, iperfS: IPERF_S,
    bridgeEvery: BRIDGE_EVERY, wallS: (nowMs() - t0) / 1000, overlaySubnet: OVERLAY.subnet,
  });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'overlay.md'), text);
  process.stdout.write(text);
  log(`wrote ${join(out, 'overlay.md')}`);
}

function emptyFigures(system: string, flags: string[]): OverlayFigures {
  return {
    system, flags, passes: [], runOverlayMs: [], runBridgeMs: [],
    netCreateMore: [], netRmMore: [], iperfUnderlay: [], iperfOverlay: [], rmMs: [], leaks: [], notes: [],
  };
}

main().catch((err) => {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
