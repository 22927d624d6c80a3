// Best-effort removal of whatever a lab (and the daemon inside it) left behind:
// processes, mounts, named network namespaces. Every step runs; errors are collected.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { run, sleep } from './exec.js';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function readMounts(): MountEntry[] {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean);
  return lines.map((line) => {
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    return { mountPoint: unescapeMount(fields[4] ?? ''), fsType: fields[sep + 1] ?? '' };
  });
}

export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

export function mountsUnder(dir: string): MountEntry[] {
  return readMounts().filter((m) => isUnder(m.mountPoint, dir));
}

/** Network namespace inodes held by nsfs bind mounts under dir (the daemon's sandboxes). */
export function netnsInodesUnder(dir: string): Set<number> {
  const inodes = new Set<number>();
  for (const m of mountsUnder(dir)) {
    if (m.fsType !== 'nsfs') continue;
    try {
      inodes.add(statSync(m.mountPoint).ino);
    } catch {
      // Already gone.
    }
  }
  return inodes;
}

export function netnsInode(nsPath: string): number | undefined {
  try {
    return statSync(nsPath).ino;
  } catch {
    return undefined;
  }
}

interface ProcInfo {
  pid: number;
  cmdline: string;
  netInode: number | undefined;
  zombie: boolean;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    const link = readlinkSync(`/proc/${pid}/ns/net`);
    const m = /^net:\[(\d+)\]$/.exec(link);
    return { pid, cmdline, netInode: m ? Number(m[1]) : undefined, zombie: state === 'Z' };
  } catch {
    return undefined;
  }
}

function listProcs(): ProcInfo[] {
  const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  return pids.map(readProc).filter((p): p is ProcInfo => p !== undefined);
}

/** Ourselves and our ancestors: never killed, whatever their command line says. */
function protectedPids(): Set<number> {
  const keep = new Set<number>([1]);
  let pid = process.pid;
  while (pid > 1 && !keep.has(pid)) {
    keep.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return keep;
}

/** Live processes whose command line mentions dir or that live in one of the netns. */
export function labProcesses(dir: string, netns: Set<number>): number[] {
  const keep = protectedPids();
  return listProcs()
    .filter((p) => !p.zombie && !keep.has(p.pid))
    .filter((p) => p.cmdline.includes(dir) || (p.netInode !== undefined && netns.has(p.netInode)))
    .map((p) => p.pid);
}

/** SIGKILLs the lab's processes until none is left (new ones may appear while a shim dies). */
export async function killLabProcesses(dir: string, netns: Set<number>): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = labProcesses(dir, netns);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await sleep(20);
  }
  throw new Error(`processes of the lab survive SIGKILL: ${labProcesses(dir, netns).join(', ')}`);
}

/** Lazily unmounts everything under dir, deepest first. */
export async function unmountUnder(dir: string): Promise<string[]> {
  const errors: string[] = [];
  // a lazy unmount detaches the whole tree under its point: only the outermost points need
  // one (a lab with 10,000 containers has as many netns mounts under one directory)
  const all = new Set(mountsUnder(dir).map((m) => m.mountPoint));
  const under = (p: string) => [...ancestors(p)].some((a) => all.has(a));
  const points = [...all].filter((p) => !under(p));
  points.sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
  for (const point of points) {
    const r = await run(['umount', '-l', point]);
    // A stacked mount may already have gone with its parent.
    if (r.code !== 0 && mountsUnder(point).length > 0) errors.push(`umount ${point}: ${r.stderr.trim()}`);
  }
  return errors;
}

/** Every proper ancestor directory of an absolute path: /a/b/c → /a/b, /a, /. */
function* ancestors(path: string): Generator<string> {
  for (let p = path; p !== '/' && p.includes('/');) {
    p = p.slice(0, p.lastIndexOf('/')) || '/';
    yield p;
  }
}

/**
 * A best-effort teardown: every step runs, a failing one is noted, and done() throws them
 * all together at the end (so one stuck step never leaves the rest behind).
 */
export function teardownSteps(what: string): { step(name: string, fn: () => Promise<unknown>): Promise<void>; done(): void } {
  const errors: string[] = [];
  return {
    async step(name, fn) {
      try {
        await fn();
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message}`);
      }
    },
    done() {
      if (errors.length > 0) throw new Error(`${what} teardown:\n  ${errors.join('\n  ')}`);
    },
  };
}

