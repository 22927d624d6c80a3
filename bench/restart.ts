// npm run bench:restart — berthd killed with -9 and started again while N containers run,
// each publishing a port and answering on it (busybox httpd), each with a name on a user
// network (issue 17). Ready = the API answers (/_ping), every published port forwards (a
// TCP connection from the host to host-uplink:PORT reaches the container), every name
// resolves (the embedded resolver, asked from inside a container). The data path needs no
// berthd (the nftables tables and the veths stay), the names do: the resolver is berthd's.
// Runs inside scripts/in-lab.sh. Writes bench/results/restart.md.
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

const SIZES = (process.env.BENCH_RESTART_N ?? '100,1000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_RESTART_ROUNDS ?? 3);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(process.env.BENCH_OUT ?? join(REPO, 'bench', 'results'), 'restart.md');
/** containers per user network (a bridge holds 1,023) */
const PER_NETWORK = 500;
const FIRST_PORT = 20000;
const PROBED = 300;


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
      await lab.killDaemon();
      const start = nowMs();
      await lab.startDaemon(); // returns once /_ping answers
      const pingMs = nowMs() - start;
      let portsMs = NaN;
      let namesMs = NaN;
      let downPorts = probed;
      let downNames = names;
      while ((downPorts.length || downNames.length) && nowMs() - start < 120_000) {
        if (downPorts.length) {
          downPorts = [...(await unmapped(lab, ports)), ...(await portsDown(lab, lab.hostUplinkAddr, downPorts))];
          if (!downPorts.length) portsMs = nowMs() - start;
        }
        if (downNames.length) {
          downNames = await namesDown(lab, ns, downNames);
          if (!downNames.length) namesMs = nowMs() - start;
        }
      }
      if (downPorts.length || downNames.length) throw new Error(`${n}: after 120 s, ${downPorts.length} ports and ${downNames.length} names still down`);
      rounds.push({ n, pingMs, portsMs, namesMs, readyMs: Math.max(pingMs, portsMs, namesMs) });
      log(`${n} round ${r + 1}: /_ping ${pingMs.toFixed(0)} ms, every port ${portsMs.toFixed(0)} ms, every name ${namesMs.toFixed(0)} ms`);
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
    'Produced by `npm run bench:restart` (bench/restart.ts) in a lab world. Ports are probed from the host to its uplink address (one node process, 50 connections at a time), names by one dig batch from a container on every network; each probe round costs its own time, so figures are upper bounds by up to a round.',
    '',
    '| containers | /_ping answers (ms) | every published port in the DNAT map, and a probed sample forwarding (ms) | every name resolves (ms) | ready: all three (ms) |',
    '|---:|---:|---:|---:|---:|',
    ...SIZES.map((n) => {
      const rs = all.filter((r) => r.n === n);
      return `| ${n} | ${fmt(rs.map((r) => r.pingMs))} | ${fmt(rs.map((r) => r.portsMs))} | ${fmt(rs.map((r) => r.namesMs))} | ${fmt(rs.map((r) => r.readyMs))} |`;
    }),
    '',
    `Medians (min-max) over the rounds. Ports: all N in the map, and up to ${PROBED} of them (spread evenly) connected to; a port that forwards at its first probe counts at the time of that probe (the data path stays up while berthd is down).`,
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
