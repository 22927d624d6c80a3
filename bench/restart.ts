// npm run bench:restart — berthd killed with -9 and started again while N containers run,
// each publishing a port and answering on it (busybox httpd), each with a name on a user
// network (issue 17). Ready = the API answers (/_ping), every published port forwards (a
// TCP connection from the host to host-uplink:PORT reaches the container), every name
// resolves (the embedded resolver, asked from inside a container). The data path needs no
// berthd (the nftables tables and the veths stay), the names do: the resolver is berthd's.
// Both probes run beside the restart (bench/lib/restart-probes.ts), so that their own
// rounds add nothing to what they time. Runs inside scripts/in-lab.sh. Writes
// bench/results/restart.md.
// BENCH_PROF=1: the last start of each size is profiled (berthd's main thread, until the
// lab stops it), written to bench/results/restart-profile.md.
// Knobs: BENCH_RESTART_N (comma list, default 100,1000), BENCH_RESTART_ROUNDS (default 3).
// Ports: every one must be in berth's DNAT map, and PROBED of them (spread evenly) must
// take a connection: the host's neighbour table is one for all namespaces (1,024 entries
// here; the lab may not raise the machine's), so the host cannot talk to 1,000 containers
// at once.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../test/lab/lab.js';
import { renderProfile } from './lib/cpuprofile.js';
import { loadavg } from './lib/host.js';
import { apiOk, log } from './lib/lab-api.js';
import { median } from './lib/stats.js';
import { nowMs } from './lib/timing.js';
import { setTimeout as sleep } from 'node:timers/promises';

const SIZES = (process.env.BENCH_RESTART_N ?? '100,1000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_RESTART_ROUNDS ?? 3);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(process.env.BENCH_OUT ?? join(REPO, 'bench', 'results'), 'restart.md');
/** containers per user network (a bridge holds 1,023) */
const PER_NETWORK = 500;
const FIRST_PORT = 20000;
const PROBED = 300;
const PROBES = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'restart-probes.js');
const PORT_TAIL_MS = 500;
/** This sandbox sets NODE_EXTRA_CA_CERTS, which costs every node start tens of ms reading certificates berthd never uses (the CLI benches spare it too). */
const DAEMON_ENV: Record<string, string> = { NODE_EXTRA_CA_CERTS: '' };


/** The ports of addr not forwarding yet, probed from the lab host's netns (where the host uplink is), 50 at a time, 1 s each. */
async function portsDown(lab: Lab, addr: string, ports: number[]): Promise<number[]> {
  const probe = `const net=require('net');const [addr,...ports]=process.argv.slice(1);const down=[];
(async()=>{for(let i=0;i<ports.length;i+=50){const c=ports.slice(i,i+50);const ok=await Promise.all(c.map(p=>new Promise(r=>{const s=net.connect({host:addr,port:+p,timeout:1000});const d=v=>{s.destroy();r(v)};s.once('connect',()=>d(true)).once('error',()=>d(false)).once('timeout',()=>d(false))})));c.forEach((p,k)=>ok[k]||down.push(p))}console.log(down.join(' '))})()`;
  const r = await lab.inHost(['node', '-e', probe, addr, ...ports.map(String)], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`port probe failed: ${r.stderr.trim()}`);
  return r.stdout.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** The names the resolver does not answer yet, asked by dig from the prober's netns (one batch). */
async function namesDown(lab: Lab, ns: string, names: string[]): Promise<string[]> {
  const r = await lab.inNetns(ns, ['dig', '@127.0.0.11', '+tries=1', '+time=1', '+noall', '+answer', ...names.flatMap((n) => [n, 'A'])], { timeoutMs: 120_000 });
  const answered = new Set(r.stdout.split('\n').map((l) => l.split(/\s+/)[0]?.replace(/\.$/, '')).filter(Boolean));
  return names.filter((n) => !answered.has(n));
}

/** The published ports missing from berth's DNAT map (ip berth published_any), listed in the lab host. */
async function unmapped(lab: Lab, ports: number[]): Promise<number[]> {
  const r = await lab.inHost(['nft', '-j', 'list', 'map', 'ip', 'berth', 'published_any']);
  if (r.code !== 0) return ports;
  const have = new Set(r.stdout.match(/"tcp", \d+/g)?.map((m) => Number(m.split(', ')[1])) ?? []);
  return ports.filter((p) => !have.has(p));
}

interface Round {
  n: number;
  pingMs: number;
  portsMs: number;
  namesMs: number;
  readyMs: number;
  /** port connections tried from before the kill to after ready, and how many failed */
  probes: number;
  failed: number;
  /** berthd's own lines: containers adopted in …, ready in … */
  said: string[];
}

async function size(n: number): Promise<Round[]> {
  const lab = await Lab.create();
  try {
    const networks = Math.ceil(n / PER_NETWORK);
    for (let k = 0; k < networks; k++) await apiOk(lab, 'POST', '/networks/create', { Name: `rnet${k}` });
    const names: string[] = [];
    const ports: number[] = [];
    const t0 = nowMs();
    for (let i = 0; i < n; i++) {
      const name = `web${i}`;
      const port = FIRST_PORT + i;
      const c = await apiOk(lab, 'POST', `/containers/create?name=${name}`, {
        // its home a read-only directory of the container's own /sys: nothing is ever fetched, only connected to
        Cmd: ['busybox', 'httpd', '-f', '-p', '80', '-h', '/sys/fs'],
        ExposedPorts: { '80/tcp': {} },
        HostConfig: { NetworkMode: `rnet${i % networks}`, PortBindings: { '80/tcp': [{ HostPort: String(port) }] } },
      });
      await apiOk(lab, 'POST', `/containers/${(c.body as { Id: string }).Id}/start`);
      names.push(name);
      ports.push(port);
      if ((i + 1) % 250 === 0) log(`${n}: ${i + 1} running`);
    }
    log(`${n}: made in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
    // the prober: a container on every network, so each name is asked where it resolves
    const prober = await apiOk(lab, 'POST', '/containers/create?name=prober', { Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'rnet0' } });
    await apiOk(lab, 'POST', `/containers/${(prober.body as { Id: string }).Id}/start`);
    for (let k = 1; k < networks; k++) await apiOk(lab, 'POST', `/networks/rnet${k}/connect`, { Container: 'prober' });
    const ns = ((await apiOk(lab, 'GET', '/containers/prober/json')).body as { NetworkSettings: { SandboxKey: string } }).NetworkSettings.SandboxKey;
    const probed = ports.filter((_, i) => i % Math.max(1, Math.floor(ports.length / PROBED)) === 0).slice(0, PROBED);
    // every server listening and every name served before the first kill
    for (const t = nowMs(); ;) {
      const [p, m] = [[...(await unmapped(lab, ports)), ...(await portsDown(lab, lab.hostUplinkAddr, probed))], await namesDown(lab, ns, names)];
      if (!p.length && !m.length) break;
      if (nowMs() - t > 60_000) throw new Error(`before the first kill, ${p.length} ports (${p.slice(0, 5).join(' ')}) and ${m.length} names (${m.slice(0, 5).join(' ')}) do not answer`);
    }
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // the port probe runs from before the kill to after the new berthd is ready, the name
      // probe from just before its start: neither adds a round of its own to the figures
      const portProbe = lab.spawnIn(lab.hostNs, ['node', PROBES, 'ports', lab.hostUplinkAddr, ...probed.map(String)], DAEMON_ENV);
      await portProbe.waitForOutput('ready\n');
      await lab.killDaemon();
      const nameProbe = lab.spawnIn(ns, ['node', PROBES, 'names', '127.0.0.11', ...names], DAEMON_ENV);
      await nameProbe.waitForOutput('ready\n');
      const startEpoch = Date.now();
      const start = nowMs();
      await lab.startDaemon(undefined, DAEMON_ENV); // returns once /_ping answers
      const pingMs = nowMs() - start;
      await nameProbe.waitForOutput('all ', 120_000).catch(() => {
        throw new Error(`${n}: names do not resolve after the restart: ${nameProbe.output().trim()}`);
      });
      const namesMs = Number(/^all (\d+)$/m.exec(nameProbe.output())?.[1]) - startEpoch;
      const missing = await unmapped(lab, ports);
      if (missing.length) throw new Error(`${n}: ${missing.length} published ports (${missing.slice(0, 5).join(' ')}) missing from the DNAT map after the restart`);
      await sleep(PORT_TAIL_MS); // a probe round or two past readiness
      await portProbe.stop('SIGTERM');
      const summary = JSON.parse(/^summary (.*)$/m.exec(portProbe.output())?.[1] ?? 'null') as { probes: number; failures: [number, number][] } | null;
      if (!summary) throw new Error(`${n}: the port probe said nothing: ${portProbe.output().trim()}`);
      // a port that never failed forwarded throughout: ready at 0
      const portsMs = Math.max(0, ...summary.failures.map(([, at]) => at - startEpoch));
      const said = lab.daemonLog().split('\n').filter((l) => / adopted in | ready in /.test(l)).slice(-2).map((l) => l.replace(/^\S+ berthd: /, ''));
      rounds.push({ n, pingMs, portsMs, namesMs, readyMs: Math.max(pingMs, portsMs, namesMs), probes: summary.probes, failed: summary.failures.length, said });
      log(`${n} round ${r + 1}: /_ping ${pingMs.toFixed(0)} ms, names ${namesMs.toFixed(0)} ms, ports ${summary.probes} probes, ${summary.failures.length} failed; berthd: ${said.join('; ')}`);
    }
    return rounds;
  } finally {
    await lab.destroy();
    const dir = process.env.BENCH_PROF_DIR;
    if (dir && existsSync(dir)) {
      // the killed starts wrote nothing; the last one, stopped by the lab, wrote its profile
      // berthd-<pid>.cpuprofile (bench/lib/profiled-daemon.ts): the newest process's
      const last = readdirSync(dir).filter((f) => /^berthd-\d+\.cpuprofile$/.test(f)).sort((a, b) => Number(a.slice(7, -11)) - Number(b.slice(7, -11))).at(-1);
      if (last) profiles.push(renderProfile(join(dir, last), `berthd's start with ${n} containers running (after a kill -9), profiled until the lab stopped it.`));
    }
  }
}

const profiles: string[] = [];

async function main(): Promise<void> {
  if (process.env.BERTH_LAB_WORLD !== '1') throw new Error('run inside a lab world: bash scripts/bench.sh bench/restart.js');
  const loadBefore = loadavg();
  const all: Round[] = [];
  for (const n of SIZES) all.push(...(await size(n)));
  const fmt = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
  const lines = [
    '# berthd restart after kill -9: ready again with N containers running',
    '',
    `Run ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model.trim().split(' ').slice(0, 2).join(' ')}, node ${process.version}; load before \`${loadBefore}\`, after \`${loadavg()}\`.`,
    `Each container runs busybox httpd on port 80, publishes it (-p ${FIRST_PORT}+i:80) and has a name on a user network (${PER_NETWORK} per network). berthd is killed with SIGKILL and started again, ${ROUNDS} times per size; timed from the start of the new berthd.`,
    'Produced by `npm run bench:restart` (bench/restart.ts) in a lab world. Both probes run beside the restart, not after it (bench/lib/restart-probes.ts): the ports one from the host to its uplink address, from before the kill until 0.5 s after ready, a round of connections every 0.2 s; the names one from a container on every network, asking the last name until it answers and then every name until all have (c-ares, one try of 250 ms). berthd runs without this sandbox\'s NODE_EXTRA_CA_CERTS.',
    '',
    '| containers | /_ping answers (ms) | every name resolves (ms) | published ports: connections during the restart, failed | every port forwarding (ms) | ready: all three (ms) |',
    '|---:|---:|---:|---:|---:|---:|',
    ...SIZES.map((n) => {
      const rs = all.filter((r) => r.n === n);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      return `| ${n} | ${fmt(rs.map((r) => r.pingMs))} | ${fmt(rs.map((r) => r.namesMs))} | ${sum(rs.map((r) => r.probes)).toLocaleString('en-US')}, ${sum(rs.map((r) => r.failed))} failed | ${fmt(rs.map((r) => r.portsMs))} | ${fmt(rs.map((r) => r.readyMs))} |`;
    }),
    '',
    ...SIZES.map((n) => `- berthd's log, last round with ${n}: ${all.filter((r) => r.n === n).at(-1)?.said.join('; ') ?? ''}`),
    '',
    `Medians (min-max) over the rounds. Ports: all N in berth's DNAT map after each restart, and up to ${PROBED} of them (spread evenly) connected to throughout; a port counts as forwarding from the last failed connection on (0 when none failed: the data path needs no berthd).`,
    '',
  ];
  writeFileSync(OUT, lines.join('\n'));
  if (profiles.length) writeFileSync(OUT.replace(/\.md$/, '-profile.md'), profiles.join('\n'));
  log(`wrote ${OUT}`);
}

main().catch((err) => {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
