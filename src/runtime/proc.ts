import { readFileSync } from 'node:fs';

// What /proc says about a pid: is it alive, and is it still the process we started (its
// start time, in clock ticks since boot, never repeats for a reused pid).

interface ProcStat {
  state: string;
  ppid: number;
  startTime: string;
}

/** Fields of /proc/PID/stat after the command name (which may itself hold spaces or ')'). */
export function readProcStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), rest[1] field 4 (ppid); starttime is field 22
  return { state: rest[0] ?? '', ppid: Number(rest[1] ?? 0), startTime: rest[19] ?? '' };
}

export function processStartTime(pid: number): string {
  return readProcStat(pid)?.startTime ?? '';
}

/** Alive (not a zombie) and, when a start time is known, the very same process. */
export function isOurProcess(pid: number, startTime?: string): boolean {
  const st = readProcStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return !startTime || st.startTime === startTime;
}
