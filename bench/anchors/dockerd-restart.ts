// dockerd 20.10 as bench:restart's engine (bench/lib/restart-target.ts), in the lab host's
// netns where berthd would run: the same containers (busybox httpd, -p PORT:80 through its
// default userland proxy, names on user networks), each with --restart always. Its
// containerd is a process of its own (dockerd.ts, ownContainerd), as under Debian's units,
// so a dockerd killed with -9 leaves containerd, the shims and the containers running.
// Two ways back, picked per start (use()):
//   dockerd-live  --live-restore: the containers keep running, dockerd adopts them;
//   dockerd       without it: dockerd 20.10 kills the running containers at its start, and
//                 --restart always starts them again; ready means they are all back.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { run, sleep } from '../../test/lab/exec.js';
import { Lab } from '../../test/lab/lab.js';
import { log } from '../lib/lab-api.js';
import { FIRST_PORT, HTTPD, PER_NETWORK, type RestartTarget } from '../lib/restart-target.js';
import { nowMs } from '../lib/timing.js';
import { importBusybox, LabDockerd } from './dockerd.js';

export type DockerdVariant = 'dockerd-live' | 'dockerd';

export interface DockerdTarget extends RestartTarget {
  /** how the next start comes back (the state on disk is the same for both) */
  use(variant: DockerdVariant): void;
}

/** a start without --live-restore restarts up to thousands of containers before /_ping */
const START_TIMEOUT_MS = 900_000;
/** the lines of its log (at info) that say where its start went */
const MILESTONES = [/^Loading containers: start/, /^Loading containers: done/, /^Daemon has completed initialization/, /^API listen on/];

export async function makeDockerd(n: number): Promise<DockerdTarget> {
  const lab = await Lab.create({ startDaemon: false });
  let dockerd: LabDockerd | undefined;
  try {
    let live = true;
    let staleProber: number | undefined;
    let startEpoch = 0;
    // info, for its "Loading containers" milestones
    const flags = () => ['--log-level', 'info', ...(live ? ['--live-restore'] : [])];
    const dir = join(lab.dir, 'docker');
    const d = await LabDockerd.start({ netns: basename(lab.hostNs), dir, nameserver: lab.internetDns, ownContainerd: true, args: flags() });
    dockerd = d;
    await importBusybox(d.client, dir);
    const networks = Math.ceil(n / PER_NETWORK);
    for (let k = 0; k < networks; k++) await d.client.api('POST', '/networks/create', { Name: `rnet${k}` });
    const names: string[] = [];
    const ports: number[] = [];
    const t0 = nowMs();
    // one at a time: 20.10 deadlocks on parallel work with published ports (moby#46661)
    for (let i = 0; i < n; i++) {
      const port = FIRST_PORT + i;
      const c = await d.client.api('POST', `/containers/create?name=web${i}`, {
        Image: 'bb:latest',
        Cmd: HTTPD,
        ExposedPorts: { '80/tcp': {} },
        HostConfig: { NetworkMode: `rnet${i % networks}`, PortBindings: { '80/tcp': [{ HostPort: String(port) }] }, RestartPolicy: { Name: 'always' } },
      });
      await d.client.api('POST', `/containers/${(c.body as { Id: string }).Id}/start`, undefined, 120_000);
      names.push(`web${i}`);
      ports.push(port);
      if ((i + 1) % 100 === 0) log(`dockerd ${n}: ${i + 1} running (${((nowMs() - t0) / 1000).toFixed(0)} s)`);
    }
    log(`dockerd ${n}: made in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
    const prober = await d.client.api('POST', '/containers/create?name=prober', {
      Image: 'bb:latest', Cmd: ['sleep', '86400'], HostConfig: { NetworkMode: 'rnet0', RestartPolicy: { Name: 'always' } },
    });
    await d.client.api('POST', `/containers/${(prober.body as { Id: string }).Id}/start`);
    for (let k = 1; k < networks; k++) await d.client.api('POST', `/networks/rnet${k}/connect`, { Container: 'prober' });
    const proberPid = async () => ((await d.client.tryApi('GET', '/containers/prober/json', undefined, 5000).catch(() => undefined))?.body as
      { State?: { Running?: boolean; Pid?: number } } | undefined)?.State;
    return {
      lab,
      names,
      ports,
      get containersRestart() {
        return !live;
      },
      use: (v) => (live = v === 'dockerd-live'),
      // the prober as dockerd runs it now: after a start that restarted it, not the one killed
      proberNs: async () => {
        for (const deadline = Date.now() + START_TIMEOUT_MS; Date.now() < deadline; await sleep(20)) {
          const s = await proberPid();
          if (s?.Running && s.Pid && s.Pid !== staleProber) return `/proc/${s.Pid}/ns/net`;
        }
        throw new Error('dockerd: the prober is not running again');
      },
      kill: async () => {
        staleProber = live ? undefined : (await proberPid())?.Pid;
        await d.kill();
      },
      start: async () => {
        startEpoch = Date.now();
        await d.startAgain(flags(), START_TIMEOUT_MS);
      },
      unmapped: (ps) => unmapped(lab, ps),
      said: () => milestones(d.output(), startEpoch),
      footprint: () => footprint(basename(lab.hostNs)),
      notRunning: () => notRunning(d),
      destroy: async () => {
        // BENCH_RESTART_DOCKERD_LOG=FILE: every dockerd's log of this size, for reading where its starts went
        if (process.env.BENCH_RESTART_DOCKERD_LOG) writeFileSync(`${process.env.BENCH_RESTART_DOCKERD_LOG}.${n}`, d.outputAll());
        await d.stop();
        await lab.destroy();
      },
    };
  } catch (err) {
    await dockerd?.stop().catch(() => undefined);
    await lab.destroy();
    throw err;
  }
}

/** The published ports without a DNAT rule in dockerd's nat chain DOCKER (in the lab host). */
async function unmapped(lab: Lab, ports: number[]): Promise<number[]> {
  const r = await lab.inHost(['iptables', '-w', '-t', 'nat', '-S', 'DOCKER']);
  if (r.code !== 0) return ports;
  const have = new Set([...r.stdout.matchAll(/--dport (\d+) -j DNAT/g)].map((m) => Number(m[1])));
  return ports.filter((p) => !have.has(p));
}

/** Its milestones, seconds after the start: time="…" level=info msg="…" lines. */
function milestones(output: string, startEpoch: number): string[] {
  const out: string[] = [];
  for (const line of output.split('\n')) {
    const m = /^time="([^"]+)" level=\w+ msg="([^"]*)"/.exec(line);
    if (!m?.[1] || !m[2] || !MILESTONES.some((re) => re.test(m[2] ?? ''))) continue;
    const at = Date.parse(m[1].replace(/(\.\d{3})\d*/, '$1'));
    out.push(`${m[2].replace(/ on .*/, '')} +${((at - startEpoch) / 1000).toFixed(2)} s`);
  }
  return out;
}

/** The containers not running, with their State.Error (ids and names taken out, so that alike errors count together). */
async function notRunning(d: LabDockerd): Promise<string> {
  const down = (await d.client.api('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ status: ['exited', 'created', 'dead'] }))}`)).body as { Id: string }[];
  const why = new Map<string, number>();
  for (const c of down) {
    const s = ((await d.client.api('GET', `/containers/${c.Id}/json`)).body as { State?: { Error?: string; ExitCode?: number } }).State;
    const e = `exit ${s?.ExitCode}: ${(s?.Error || '-').replace(/[0-9a-f]{12,}/g, 'ID').replace(/\bweb\d+\b/g, 'NAME')}`;
    why.set(e, (why.get(e) ?? 0) + 1);
  }
  return down.length ? `, ${down.length} containers not running (${[...why].map(([e, k]) => `${k}× "${e}"`).join(', ')})` : '';
}

/** dockerd's processes in its netns by name: how many, their tasks (threads) and RSS. */
async function footprint(netns: string): Promise<string> {
  const pids = (await run(['ip', 'netns', 'pids', netns])).stdout.split('\n').filter(Boolean);
  const by = new Map<string, { procs: number; tasks: number; mb: number }>();
  for (const pid of pids) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue;
    }
    const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '?';
    const e = by.get(name) ?? { procs: 0, tasks: 0, mb: 0 };
    e.procs += 1;
    e.tasks += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    e.mb += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024;
    by.set(name, e);
  }
  const all = [...by.values()].reduce((a, e) => ({ procs: a.procs + e.procs, tasks: a.tasks + e.tasks, mb: a.mb + e.mb }), { procs: 0, tasks: 0, mb: 0 });
  const parts = [...by.entries()].sort((a, b) => b[1].mb - a[1].mb).map(([k, e]) => `${k} ×${e.procs} (${e.tasks} tasks, ${e.mb.toFixed(0)} MB)`);
  return `${all.procs} processes, ${all.tasks} tasks, ${(all.mb / 1024).toFixed(2)} GB RSS besides the containers: ${parts.join(', ')}`;
}
