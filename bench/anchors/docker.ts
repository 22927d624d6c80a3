// Anchor: dockerd 20.10 (Debian docker.io) in its own lab netns with its own data-root,
// exec-root and socket; containers from a busybox-static rootfs imported as an image.
// Driven sequentially through its API (20.10 deadlocks on parallel rm, moby#46661).
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiRequest, type ApiResponse } from '../../test/lab/api-client.js';
import { run, runOk, sleep } from '../../test/lab/exec.js';
import { LabProcess } from '../../test/lab/process.js';
import { Budget } from '../lib/budget.js';
import { rssMb } from '../lib/host.js';
import { added, addNetns, deleteNetns, inNetns, linkSummary } from '../lib/netns.js';
import { emptyRun, type SystemRun } from '../lib/results.js';
import { median } from '../lib/stats.js';
import { nowMs } from '../lib/timing.js';
import type { AnchorOptions } from './netavark.js';

const DOCKER_CLI = '/usr/local/bin/docker';
const CGROUP_V1 = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'];

/**
 * Inside `ip netns exec` (fresh mount ns, fresh /sys without cgroups): mount the cgroup
 * hierarchies dockerd expects and a lab resolv.conf, then run "$@". Cgroups land under
 * PARENT, which the cleanup mode removes.
 */
function wrapperScript(resolv: string, parent: string): string {
  const mounts = CGROUP_V1.map((c) => `mkdir -p /sys/fs/cgroup/${c}; mount -t cgroup -o ${c} cgroup /sys/fs/cgroup/${c}`).join('\n');
  return `#!/bin/sh
set -e
mount -t tmpfs -o mode=0755 cgroup_root /sys/fs/cgroup
${mounts}
mkdir -p /sys/fs/cgroup/systemd; mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
mkdir -p /sys/fs/cgroup/unified; mount -t cgroup2 none /sys/fs/cgroup/unified
mount --bind ${resolv} /etc/resolv.conf
if [ "$1" = cleanup ]; then
  for d in /sys/fs/cgroup/*/${parent}; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \\; 2>/dev/null || true; done
  exit 0
fi
exec "$@"
`;
}

/** A busybox-static rootfs (one link per applet) tarred for `docker import`. */
async function busyboxTar(dir: string): Promise<string> {
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const applets = (await runOk(['/bin/busybox', '--list'])).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
  for (const d of ['etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  const tar = join(dir, 'bb.tar');
  await runOk(['tar', '-C', root, '-cf', tar, '.']);
  return tar;
}

class Docker {
  constructor(readonly sock: string) {}

  async api(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<ApiResponse> {
    const r = await apiRequest(this.sock, method, path, body, timeoutMs);
    if (r.status >= 400) throw new Error(`docker ${method} ${path}: ${r.status} ${r.text.trim()}`);
    return r;
  }

  cli(args: string[]): Promise<string> {
    return runOk([DOCKER_CLI, '-H', `unix://${this.sock}`, ...args], { timeoutMs: 120_000 });
  }
}

async function waitForPing(d: Docker, p: LabProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await apiRequest(d.sock, 'GET', '/_ping', undefined, 1000).catch(() => undefined);
    if (r?.status === 200) return;
    if (!p.running || Date.now() > deadline) throw new Error(`dockerd did not come up:\n${p.output().slice(-3000)}`);
    await sleep(200);
  }
}

export async function runDocker(o: AnchorOptions): Promise<SystemRun> {
  const res = emptyRun('dockerd 20.10', 'API POST /containers/create + /start (busybox `sleep`, user bridge network, no ports), wall time');
  const host = `bdk${process.pid}`;
  const dir = join(o.dir, 'docker');
  const parent = `berth-bench-docker-${process.pid}`;
  mkdirSync(dir, { recursive: true });
  const resolv = join(dir, 'resolv.conf');
  writeFileSync(resolv, 'nameserver 192.0.2.53\n');
  const wrapper = join(dir, 'wrapper.sh');
  writeFileSync(wrapper, wrapperScript(resolv, parent), { mode: 0o755 });
  await addNetns(host);
  const d = new Docker(join(dir, 'docker.sock'));
  const pidfile = join(dir, 'dockerd.pid');
  const daemon = new LabProcess(['setsid', ...inNetns(host, [wrapper, '/usr/sbin/dockerd',
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', pidfile,
    '-H', `unix://${d.sock}`, '--storage-driver', 'overlay2', '--cgroup-parent', parent,
    '--exec-opt', 'native.cgroupdriver=cgroupfs', '--log-level', 'warn'])]);
  try {
    const ts = nowMs();
    await waitForPing(d, daemon);
    o.log(`docker: dockerd up in ${((nowMs() - ts) / 1000).toFixed(1)} s`);
    await d.cli(['import', '-c', 'ENV PATH=/bin', '-c', 'CMD ["/bin/sh"]', await busyboxTar(dir), 'bb:latest']);
    const nets: string[] = [];
    for (let k = 0; k < o.networks; k++) {
      await d.api('POST', '/networks/create', { Name: `benchnet${k}`, Driver: 'bridge', IPAM: { Config: [{ Subnet: `10.30.${k * 4}.0/22` }] } });
      nets.push(`benchnet${k}`);
    }
    await drive(o, d, nets, host, res, () => topRss(pidfile, host, res));
  } finally {
    await stopDaemon(daemon, host);
    await run(inNetns(host, [wrapper, 'cleanup']));
    await deleteNetns(host);
  }
  return res;
}

/** Set-up while the budget lasts, then the measurements at the top, then sequential removal. */
async function drive(o: AnchorOptions, d: Docker, nets: string[], host: string, res: SystemRun, atTop: () => Promise<void>): Promise<void> {
  const linksBefore = await linkSummary(host);
  const api: (number | undefined)[] = [];
  const cli: (number | undefined)[] = [];
  const ids: string[] = [];
  const budget = new Budget(o.budgetS, 0.55);
  const t0 = nowMs();
  for (let i = 1; i <= o.n && !budget.setupSpent(); i++) {
    const net = nets[(i - 1) % nets.length];
    const ts = nowMs();
    if (i % 50 === 0) {
      ids.push((await d.cli(['run', '-d', '--pull', 'never', '--network', net, 'bb:latest', 'sleep', '3600'])).trim());
      cli[i - 1] = nowMs() - ts;
      api[i - 1] = undefined;
    } else {
      const c = await d.api('POST', '/containers/create', { Image: 'bb:latest', Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: net } });
      const id = (c.body as { Id: string }).Id;
      ids.push(id);
      await d.api('POST', `/containers/${id}/start`);
      api[i - 1] = nowMs() - ts;
    }
    if (i % 100 === 0) o.log(`docker: ${i} running (${budget.elapsedS().toFixed(0)} s)`);
  }
  res.createWallMs = nowMs() - t0;
  res.reached = ids.length;
  res.series.push({ label: 'dockerd: API create+start', samples: api, plot: true });
  res.series.push({ label: 'dockerd: CLI `docker run -d` (every 50th)', samples: cli, plot: false });
  await atTop();
  const ls: number[] = [];
  for (let k = 0; k < 5; k++) {
    const ts = nowMs();
    await d.cli(['network', 'ls']);
    ls.push(nowMs() - ts);
  }
  res.networkLsMs = median(ls);
  res.networkLsWhat = '`docker network ls` (Go CLI 28.x), median of 5';
  const t1 = nowMs();
  for (const id of ids) {
    const ts = nowMs();
    await d.api('DELETE', `/containers/${id}?force=1`, undefined, 120_000);
    res.teardownMs.push(nowMs() - ts);
  }
  res.removeWallMs = nowMs() - t1;
  res.leaks = added(linksBefore, await linkSummary(host)).map((l) => `link ${l}`);
  if (res.reached < o.n) res.notes.push(`stopped at ${res.reached} containers: time budget ${o.budgetS} s (set-up ${(0.55 * o.budgetS).toFixed(0)} s of it)`);
}

/** dockerd's RSS, and in a note what containerd and the per-container shims add. */
async function topRss(pidfile: string, host: string, res: SystemRun): Promise<void> {
  res.rssMb = rssMb(Number(readFileSync(pidfile, 'utf8').trim()));
  res.rssWhat = 'dockerd VmRSS';
  const pids = (await run(['ip', 'netns', 'pids', host])).stdout.split('\n').filter(Boolean).map(Number);
  const containerd = pids.filter((p) => /(^|\/)containerd$/.test(readCmd(p).split('\0')[0]));
  const shims = pids.filter((p) => readCmd(p).includes('containerd-shim'));
  const mb = (ps: number[]) => ps.reduce((a, p) => a + (rssMb(p) ?? 0), 0);
  res.notes.push(`at the top also: containerd ${mb(containerd).toFixed(0)} MB, ${shims.length} containerd-shim processes ${mb(shims).toFixed(0)} MB`);
}

function readCmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** SIGTERM to dockerd (our child, by pid), then whatever is left in its netns (containerd, shims) by pid. */
async function stopDaemon(daemon: LabProcess, host: string): Promise<void> {
  await daemon.stop('SIGTERM', 20_000);
  const left = (await run(['ip', 'netns', 'pids', host])).stdout.split('\n').filter(Boolean).map(Number);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
