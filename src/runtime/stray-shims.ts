import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// Shims found by their command line, not by a recorded pid: berth-spawner titles each one
// "berth-shim --id ID --state-dir DIR …" (an exec'd shim has the same words as its argv),
// and a crash between the spawn and the record leaves nothing else that says it runs.

export interface ShimProcess {
  pid: number;
  containerId: string;
  stateDir: string;
}

const TITLE = /(?:^|\/)berth-shim --id ([0-9a-f]{64}) --state-dir (\S+)/;

/**
 * Every run-mode shim whose state dir lies under stateRoot (exec shims have none and are
 * left alone). `known`: pids that are something else for sure (the shims and processes of
 * running containers), whose command lines are not read: a restart with thousands of
 * containers would read thousands.
 */
export function shimsUnder(stateRoot: string, known: ReadonlySet<number> = new Set()): ShimProcess[] {
  const prefix = stateRoot.endsWith('/') ? stateRoot : `${stateRoot}/`;
  const out: ShimProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || known.has(Number(entry))) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0+/g, ' ');
    } catch {
      continue; // gone meanwhile
    }
    const m = TITLE.exec(cmdline);
    if (m && m[2].startsWith(prefix)) out.push({ pid: Number(entry), containerId: m[1], stateDir: m[2] });
  }
  return out;
}

/**
 * SIGKILLs a shim's container (its process group: with the host's pid namespace its
 * children do not die with it) and then the shim; waits, bounded, until the shim is gone.
 */
export async function killShim(shim: ShimProcess, timeoutMs = 3000): Promise<void> {
  for (const child of childrenOf(shim.pid)) {
    signal(-child, 'SIGKILL'); // setsid made it the leader of its own group
    signal(child, 'SIGKILL');
  }
  signal(shim.pid, 'SIGKILL');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(shim.pid) && Date.now() < deadline) await sleep(20);
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/** Alive and not a zombie (a killed shim whose new parent has not reaped it yet counts as gone). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}
