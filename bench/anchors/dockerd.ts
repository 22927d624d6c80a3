// dockerd 20.10 (Debian docker.io) run as an anchor inside a named lab netns: its own
// data-root, exec-root, pidfile, socket and cgroup parent; a busybox-static image imported
// (no registry). Used by the set-up bench (docker.ts), the overlay bench (one per host) and
// the restart bench (killed with -9 and started again, its containerd left running).
import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiRequest } from '../../test/lab/api-client.js';
import { run, runOk, sleep } from '../../test/lab/exec.js';
import { LabProcess } from '../../test/lab/process.js';
import { EngineClient } from '../lib/engine-client.js';
import { inNetns } from '../lib/netns.js';

const CGROUP_V1 = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'];

/**
 * Inside `ip netns exec` (fresh mount ns, fresh /sys without cgroups): mount the cgroup
 * hierarchies dockerd expects and a lab resolv.conf, then run "$@". Cgroups land under
 * PARENT; the cleanup mode SIGKILLs whatever is still in them (a container whose shim
 * died) and removes them. A hostname is only ever set under `unshare --uts` (start()).
 */
function wrapperScript(resolv: string, parent: string, hostname: string | undefined): string {
  const mounts = CGROUP_V1.map((c) => `mkdir -p /sys/fs/cgroup/${c}; mount -t cgroup -o ${c} cgroup /sys/fs/cgroup/${c}`).join('\n');
  return `#!/bin/sh
set -e
mount -t tmpfs -o mode=0755 cgroup_root /sys/fs/cgroup
${mounts}
mkdir -p /sys/fs/cgroup/systemd; mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
mkdir -p /sys/fs/cgroup/unified; mount -t cgroup2 none /sys/fs/cgroup/unified
mount --bind ${resolv} /etc/resolv.conf
if [ "$1" = cleanup ]; then
  for f in $(find /sys/fs/cgroup/pids/${parent} -name cgroup.procs 2>/dev/null); do
    for p in $(cat "$f"); do kill -9 "$p" 2>/dev/null || true; done
  done
  sleep 0.2
  for d in /sys/fs/cgroup/*/${parent}; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \\; 2>/dev/null || true; done
  exit 0
fi
${hostname ? `hostname ${hostname}` : ''}
exec "$@"
`;
}

/** A busybox-static rootfs (one link per applet) tarred for `docker import`; made once per dir. */
export async function busyboxTar(dir: string): Promise<string> {
  const tar = join(dir, 'bb.tar');
  if (existsSync(tar)) return tar;
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const applets = (await runOk(['/bin/busybox', '--list'])).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
  for (const d of ['etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  await runOk(['tar', '-C', root, '-cf', tar, '.']);
  return tar;
}

/** Imports the busybox rootfs as bb:latest (PATH=/bin, CMD sh), the way a user would: `docker import`. */
export async function importBusybox(engine: EngineClient, dir: string): Promise<void> {
  await engine.cli(['import', '-c', 'ENV PATH=/bin', '-c', 'CMD ["/bin/sh"]', await busyboxTar(dir), 'bb:latest']);
}

export interface DockerdOptions {
  /** a named netns (`ip netns exec NAME`) */
  netns: string;
  /** its state goes here */
  dir: string;
  /** the upstream resolver its containers' DNS forwards to (written as its resolv.conf) */
  nameserver: string;
  /** a hostname of its own (under `unshare --uts`): serf, in the classic overlay mode, quits when two hosts share one */
  hostname?: string;
  /** extra dockerd flags */
  args?: string[];
  /**
   * containerd as a process of its own, which dockerd is pointed at (--containerd), as
   * Debian's docker.service runs it beside containerd.service: then it outlives a dockerd
   * killed with -9. Without it dockerd 20.10 starts containerd as its child, with a parent
   * death signal: a killed dockerd takes its containerd along (the shims survive either way).
   */
  ownContainerd?: boolean;
}

export class LabDockerd {
  /** from spawn to the first answered /_ping (the last start's) */
  startMs = 0;
  /** what the dockerds killed before this one printed */
  private history = '';

  private constructor(
    readonly client: EngineClient,
    private daemon: LabProcess,
    private readonly opts: DockerdOptions,
    private readonly wrapper: string,
    /** the standalone containerd (ownContainerd), whose mount namespace dockerd joins */
    private readonly containerd: LabProcess | undefined,
  ) {}

  /** Starts it and waits for /_ping (or throws with its output, having stopped it). */
  static async start(o: DockerdOptions): Promise<LabDockerd> {
    mkdirSync(o.dir, { recursive: true });
    const resolv = join(o.dir, 'resolv.conf');
    writeFileSync(resolv, `nameserver ${o.nameserver}\n`);
    const wrapper = join(o.dir, 'wrapper.sh');
    writeFileSync(wrapper, wrapperScript(resolv, cgroupParent(o.netns), o.hostname), { mode: 0o755 });
    const sock = join(o.dir, 'docker.sock');
    const containerd = o.ownContainerd ? await startContainerd(o, wrapper) : undefined;
    const d = new LabDockerd(new EngineClient(`dockerd(${o.hostname ?? o.netns})`, sock), spawnDockerd(o, wrapper, containerd, o.args), o, wrapper, containerd);
    try {
      await d.waitForPing();
    } catch (err) {
      await d.stop();
      throw err;
    }
    return d;
  }

  /** SIGKILL to dockerd alone (by its pid): containers, shims and an own containerd stay. */
  async kill(): Promise<void> {
    await this.daemon.stop('SIGKILL');
    this.history += `${this.daemon.output()}\n[bench] dockerd ${this.daemon.describeExit()}\n`;
  }

  /** A new dockerd on the same state after kill(), with these extra flags; waits for /_ping. */
  async startAgain(args: string[], timeoutMs = 60_000): Promise<void> {
    if (this.daemon.running) throw new Error('dockerd is still running');
    this.daemon = spawnDockerd(this.opts, this.wrapper, this.containerd, args);
    await this.waitForPing(timeoutMs);
  }

  private async waitForPing(timeoutMs = 60_000): Promise<void> {
    const t0 = Date.now();
    const deadline = t0 + timeoutMs;
    for (;;) {
      const r = await apiRequest(this.client.sock, 'GET', '/_ping', undefined, 1000).catch(() => undefined);
      if (r?.status === 200) {
        this.startMs = Date.now() - t0;
        return;
      }
      if (!this.daemon.running || Date.now() > deadline) throw new Error(`dockerd did not come up:\n${this.daemon.output().slice(-3000)}`);
      await sleep(200);
    }
  }

  get pid(): number | undefined {
    return this.daemon.child.pid;
  }

  /** what this dockerd printed */
  output(): string {
    return this.daemon.output();
  }

  /** what every dockerd on this state printed, oldest first */
  outputAll(): string {
    return this.history + this.daemon.output();
  }

  /**
   * SIGTERM to dockerd (our child, by pid), then SIGKILL to whatever is left in its netns
   * (containerd, shims) by pid, then its cgroups emptied and removed.
   */
  async stop(): Promise<void> {
    await this.daemon.stop('SIGTERM', 20_000);
    await this.containerd?.stop('SIGTERM', 10_000);
    const left = (await run(['ip', 'netns', 'pids', this.opts.netns])).stdout.split('\n').filter(Boolean).map(Number);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await run(inNetns(this.opts.netns, [this.wrapper, 'cleanup']));
  }
}

/** dockerd in the lab netns: under the wrapper, or in the mount namespace of its own containerd (which sees the overlay mounts dockerd makes). */
function spawnDockerd(o: DockerdOptions, wrapper: string, containerd: LabProcess | undefined, args: string[] | undefined): LabProcess {
  const flags = ['--data-root', join(o.dir, 'data'), '--exec-root', join(o.dir, 'exec'), '--pidfile', join(o.dir, 'dockerd.pid'),
    '-H', `unix://${join(o.dir, 'docker.sock')}`, '--storage-driver', 'overlay2', '--cgroup-parent', cgroupParent(o.netns),
    '--exec-opt', 'native.cgroupdriver=cgroupfs', '--log-level', 'warn', ...(containerd ? ['--containerd', containerdSock(o)] : []), ...(args ?? [])];
  if (containerd) {
    if (o.hostname) throw new Error('dockerd: a hostname of its own is not made beside an own containerd');
    return new LabProcess(['setsid', 'nsenter', '-t', String(containerd.child.pid), '-m', '-n', '--', '/usr/sbin/dockerd', ...flags]);
  }
  const uts = o.hostname ? ['unshare', '--uts'] : [];
  return new LabProcess(['setsid', ...inNetns(o.netns, [...uts, wrapper, '/usr/sbin/dockerd', ...flags])]);
}

function containerdSock(o: DockerdOptions): string {
  return join(o.dir, 'containerd', 'containerd.sock');
}

/** containerd under the wrapper, configured as dockerd configures its own child (no CRI), its state beside dockerd's. */
async function startContainerd(o: DockerdOptions, wrapper: string): Promise<LabProcess> {
  const dir = join(o.dir, 'containerd');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'containerd.toml');
  writeFileSync(config, `version = 2
root = "${join(dir, 'root')}"
state = "${join(dir, 'state')}"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "${containerdSock(o)}"
`);
  const p = new LabProcess(['setsid', ...inNetns(o.netns, [wrapper, '/usr/bin/containerd', '--config', config, '--log-level', 'warn'])]);
  for (const deadline = Date.now() + 30_000; !existsSync(containerdSock(o)); await sleep(50)) {
    if (!p.running || Date.now() > deadline) {
      await p.stop('SIGKILL');
      throw new Error(`containerd did not come up:\n${p.output().slice(-3000)}`);
    }
  }
  return p;
}

function cgroupParent(netns: string): string {
  return `berth-bench-docker-${netns}`;
}
