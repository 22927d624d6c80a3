import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { BerthError } from '../util/errors.js';
import { readProcStat } from './proc.js';
import type { ProcessState } from './types.js';

// `docker top`: the host's ps, cut down to the container's processes, as dockerd does (it
// cuts by cgroup; berth has none). A container's processes are those in its own pid
// namespace, and the descendants of its shim (the only ones there are with --pid=host or
// --pid=container:NAME, where the shim is their subreaper).

export interface TopAnswer {
  Titles: string[];
  Processes: string[][];
}

function pidNs(pid: number | 'self'): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return '';
  }
}

/**
 * Whether pid is pid 1 of its namespace (the last NSpid field): the namespace is then the
 * container's own. With --pid=container:X the container's process lives in X's namespace
 * under another number, and that namespace's processes are X's, not its.
 */
function initOfItsNamespace(pid: number): boolean {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('NSpid:'));
    return line?.trim().split(/\s+/).pop() === '1';
  } catch {
    return false;
  }
}

/** Host pids of the container whose process is state.pid (the shim itself not included). */
export function containerPids(state: Pick<ProcessState, 'pid' | 'shimPid'>): Set<number> {
  const ns = pidNs(state.pid);
  const ownNs = ns !== '' && ns !== pidNs('self') && initOfItsNamespace(state.pid);
  const root = state.shimPid > 0 ? state.shimPid : state.pid;
  const parent = new Map<number, number>();
  const pids = new Set<number>([state.pid]);
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    const stat = Number.isInteger(pid) && pid > 0 ? readProcStat(pid) : undefined;
    if (!stat) continue;
    parent.set(pid, stat.ppid);
    if (ownNs && pidNs(pid) === ns) pids.add(pid);
  }
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid), hops = 0; p !== undefined && p > 1 && hops < 4096; p = parent.get(p), hops++) {
      if (p === root) { pids.add(pid); break; }
    }
  }
  pids.delete(state.shimPid);
  return pids;
}

/** ps output → dockerd's answer: the header's words, and rows of the given pids (the last column keeps its spaces). */
export function parsePs(out: string, pids: Set<number>): TopAnswer {
  const [head = '', ...rows] = out.split('\n');
  const titles = head.trim().split(/\s+/);
  const pidAt = titles.indexOf('PID');
  if (pidAt < 0) throw new BerthError(`Couldn't find PID field in ps output`, 500);
  const processes: string[][] = [];
  for (const row of rows) {
    const fields = row.trim().split(/\s+/);
    if (!row.trim() || !pids.has(Number(fields[pidAt]))) continue;
    processes.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')]);
  }
  return { Titles: titles, Processes: processes };
}

/** Runs the host's ps with psArgs (dockerd's default -ef), split on spaces: never a shell. */
export function top(state: Pick<ProcessState, 'pid' | 'shimPid'>, psArgs = ''): Promise<TopAnswer> {
  const args = (psArgs.trim() || '-ef').split(/\s+/);
  return new Promise((resolve, reject) => {
    execFile('ps', args, { timeout: 10_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new BerthError(`ps: ${(stderr.trim().split('\n')[0] || err.message).trim()}`, 500));
      try {
        resolve(parsePs(stdout, containerPids(state)));
      } catch (e) {
        reject(e);
      }
    });
  });
}
