import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ExitStatus } from './types.js';

// The files berth-shim keeps in a container's state dir. The shim writes pid, error and exit
// atomically (tmp + rename), so a reader sees either nothing or the whole file.
//   pid     the container process's pid, once set-up succeeded
//   error   the set-up error, when it failed (the shim then exits)
//   exit    {"exitCode":N,"finishedAt":"RFC3339Nano"} when the process ended
//   log     stdout/stderr in Docker's multiplexed framing (see log-stream.ts)
//   stdin   FIFO feeding the process's stdin (--interactive only)
//   ctl     FIFO of control lines: "resize ROWS COLS", "close-stdin"

export const StateFile = {
  pid: 'pid',
  error: 'error',
  exit: 'exit',
  log: 'log',
  stdin: 'stdin',
  ctl: 'ctl',
} as const;

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function readPidFile(stateDir: string): number | undefined {
  const text = readOrUndefined(join(stateDir, StateFile.pid));
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function readErrorFile(stateDir: string): string | undefined {
  return readOrUndefined(join(stateDir, StateFile.error))?.trim();
}

export function readExitFile(stateDir: string): ExitStatus | undefined {
  const text = readOrUndefined(join(stateDir, StateFile.exit));
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Partial<ExitStatus>;
    if (typeof v.exitCode !== 'number' || typeof v.finishedAt !== 'string') return undefined;
    return { exitCode: v.exitCode, finishedAt: v.finishedAt };
  } catch {
    return undefined;
  }
}

/** Before a (re)start: the previous run's pid/error/exit must not be mistaken for this one's. */
export function clearRunFiles(stateDir: string): void {
  for (const f of [StateFile.pid, StateFile.error, StateFile.exit]) rmSync(join(stateDir, f), { force: true });
}
