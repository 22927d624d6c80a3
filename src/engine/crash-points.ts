// Named instants between the steps of multi-step operations, where the crash tests kill
// berthd (BERTH_CRASH_AT=<name>: berthd SIGKILLs itself there, a real kill -9 at exactly
// that instant). A random kill rarely lands in a window of some microseconds; these make
// every window of every journaled operation tested, each run. Unset, a point costs one
// string comparison.

const AT = process.env.BERTH_CRASH_AT ?? '';

export function crashPoint(name: string): void {
  if (AT === name) process.kill(process.pid, 'SIGKILL');
}
