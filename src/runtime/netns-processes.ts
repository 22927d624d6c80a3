import { readdirSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// The processes inside a network namespace, found by the namespace itself (the inode of
// /proc/PID/ns/net against the netns file's), not by a recorded pid: after a crash cut a
// container's start between the spawn and the record, nothing else says they are there.

function sameNs(a: { dev: number; ino: number }, b: { dev: number; ino: number }): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Pids of every process whose network namespace is the one bind-mounted at `netnsPath`. */
export function processesInNetns(netnsPath: string): number[] {
  let ns: { dev: number; ino: number };
  try {
    ns = statSync(netnsPath);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (sameNs(statSync(`/proc/${entry}/ns/net`), ns)) out.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to see
    }
  }
  return out;
}

/** SIGKILLs every process in the namespace and waits (bounded) until none is left; returns how many there were. */
export async function killProcessesInNetns(netnsPath: string, timeoutMs = 3000): Promise<number> {
  const pids = processesInNetns(netnsPath);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited already
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (processesInNetns(netnsPath).length && Date.now() < deadline) await sleep(20);
  return pids.length;
}
