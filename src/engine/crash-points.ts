import { existsSync } from 'node:fs';

// Named instants between the steps of multi-step operations, where the crash tests kill
// berthd (BERTH_CRASH_AT=<name>: berthd SIGKILLs itself there, a real kill -9 at exactly
// that instant). A random kill rarely lands in a window of some microseconds; these make
// every window of every journaled operation tested, each run. Unset, a point costs one
// string comparison.

const AT = process.env.BERTH_CRASH_AT ?? '';

export function crashPoint(name: string): void {
  if (AT === name) process.kill(process.pid, 'SIGKILL');
}

// The same for a pause: BERTH_PAUSE_AT=<name> holds berthd there while the file
// BERTH_PAUSE_FILE exists, so a test sees what is true in between (e.g. reads served
// while the start-up sweep has not run). Unset, a point costs one string comparison.
const PAUSE_AT = process.env.BERTH_PAUSE_AT ?? '';

export async function pausePoint(name: string): Promise<void> {
  const file = process.env.BERTH_PAUSE_FILE;
  if (PAUSE_AT !== name || !file) return;
  while (existsSync(file)) await new Promise((r) => setTimeout(r, 20));
}
