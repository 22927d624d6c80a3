import { readdir, readFile } from 'node:fs/promises';
import type { ContainerRecord } from '../store/records.js';
import type { EngineObserver } from './observer.js';

// The limits a host with thousands of containers meets before berth's own (issue 17), said
// before they bite: berthd's open files (each sandbox holds sockets and a netns handle),
// the system's tasks (every container runs a shim and its processes: kernel.pid_max and
// kernel.threads-max), and the connection tracking table of berthd's netns (every flow
// through a published port or out of a container holds an entry). Checked every CHECK_EVERY
// interfaces that come up, at most once per CHECK_GAP_MS and never awaited by the start that
// asked (counting berthd's fds is a readdir as long as the fd table, and a restart brings a
// thousand interfaces up at once); each limit is reported once per level
// (80 %, 90 %, 100 %) with what to raise, and while over 80 % as a warning in GET /info.
// The neighbour table has its own observer (neighbour-limit.ts).

const CHECK_EVERY = 16;
const CHECK_GAP_MS = 1000;
const LEVELS = [0.8, 0.9, 1];

export interface LimitReading {
  /** what the limit is ("open files of berthd"), its name to raise, and how */
  what: string;
  used: number;
  limit: number;
  raise: string;
}

/** Where readings come from; a fake in unit tests. */
export type LimitSource = () => Promise<LimitReading[]>;

export class ProcessLimits implements EngineObserver {
  /** interfaces up per running container, to speak of containers */
  private readonly perContainer = new Map<string, number>();
  private ups = 0;
  private readonly said = new Map<string, number>();
  private last: LimitReading[] = [];
  private checking: Promise<void> | undefined;

  private lastCheck = -Infinity;

  constructor(
    private readonly log: (msg: string) => void,
    private readonly read: LimitSource = readProcessLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  endpointUp(c: ContainerRecord): void {
    this.perContainer.set(c.id, (this.perContainer.get(c.id) ?? 0) + 1);
    if (++this.ups < CHECK_EVERY || this.now() - this.lastCheck < CHECK_GAP_MS) return;
    this.ups = 0;
    this.lastCheck = this.now();
    void this.check();
  }

  endpointDown(c: ContainerRecord): void {
    const n = (this.perContainer.get(c.id) ?? 1) - 1;
    if (n > 0) this.perContainer.set(c.id, n);
    else this.perContainer.delete(c.id);
  }

  /** Reads every limit and says what crossed a new level; never throws (a warning must not fail a start). */
  check(): Promise<void> {
    this.checking ??= this.readAndTell().catch(() => undefined).finally(() => (this.checking = undefined));
    return this.checking;
  }

  /** For GET /info: a Docker-style warning for each limit over 80 % now. */
  async warnings(): Promise<string[]> {
    await this.check();
    return this.last.filter((r) => r.used >= r.limit * LEVELS[0]!).map((r) => `WARNING: ${this.message(r)}`);
  }

  private async readAndTell(): Promise<void> {
    this.last = await this.read();
    for (const r of this.last) {
      const level = LEVELS.filter((l) => r.used >= r.limit * l).at(-1) ?? 0;
      const before = this.said.get(r.what) ?? 0;
      if (level > before) this.log(this.message(r));
      // re-armed only well below, so a host hovering at a level does not repeat itself
      if (level > before || r.used < r.limit * 0.7) this.said.set(r.what, level);
    }
  }

  private message(r: LimitReading): string {
    const n = this.perContainer.size;
    const per = n > 0 ? `; with ${n} container${n === 1 ? '' : 's'}` : '';
    return `${r.what}: ${r.used.toLocaleString('en-US')} of ${r.limit.toLocaleString('en-US')} in use (${Math.round((r.used / r.limit) * 100)} %)${per}; raise it before it runs out: ${r.raise}`;
  }
}

/**
 * berthd's open files, the system's tasks, the conntrack table of berthd's netns (from
 * /proc), and the inotify watches berthd holds (`watches`: one per container adopted after a
 * restart; the kernel's limit is per user, so other processes of root's count against it too).
 */
export async function readProcessLimits(watches?: () => number): Promise<LimitReading[]> {
  const out: LimitReading[] = [];
  const maxWatches = watches && (await numberIn('/proc/sys/fs/inotify/max_user_watches'));
  if (watches && maxWatches) {
    out.push({ what: 'inotify watches of berthd (fs.inotify.max_user_watches, shared with the other processes of its user)', used: watches(), limit: maxWatches, raise: `sysctl -w fs.inotify.max_user_watches=${maxWatches * 4}` });
  }
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const nofile = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
  if (Number.isFinite(nofile) && nofile > 0) {
    const used = (await readdir('/proc/self/fd').catch(() => [])).length;
    out.push({ what: 'open files of berthd', used, limit: nofile, raise: `LimitNOFILE=${Math.max(nofile * 4, 1 << 20)} in berthd.service, or ulimit -n before starting berthd` });
  }
  const tasks = Number(/\d+\/(\d+)/.exec(await readFile('/proc/loadavg', 'utf8').catch(() => ''))?.[1]);
  const [pidMax, threadsMax] = await Promise.all([numberIn('/proc/sys/kernel/pid_max'), numberIn('/proc/sys/kernel/threads-max')]);
  const taskLimit = Math.min(pidMax ?? Infinity, threadsMax ?? Infinity);
  if (Number.isFinite(tasks) && Number.isFinite(taskLimit)) {
    const key = taskLimit === pidMax ? 'kernel.pid_max' : 'kernel.threads-max';
    out.push({ what: `tasks of the host (${key})`, used: tasks, limit: taskLimit, raise: `sysctl -w ${key}=${key === 'kernel.pid_max' ? 4194304 : taskLimit * 4}` });
  }
  const [count, max] = await Promise.all([numberIn('/proc/sys/net/netfilter/nf_conntrack_count', 0), numberIn('/proc/sys/net/netfilter/nf_conntrack_max')]);
  if (count !== undefined && max) {
    out.push({ what: 'connection tracking entries (net.netfilter.nf_conntrack_max)', used: count, limit: max, raise: `sysctl -w net.netfilter.nf_conntrack_max=${max * 4}` });
  }
  return out;
}

/** The number in a /proc file, undefined when it is absent or below `least`. */
async function numberIn(path: string, least = 1): Promise<number | undefined> {
  const text = (await readFile(path, 'utf8').catch(() => '')).trim();
  const n = Number(text);
  return text !== '' && Number.isFinite(n) && n >= least ? n : undefined;
}
