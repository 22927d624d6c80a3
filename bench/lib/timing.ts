// Wall-clock timing of one step, in milliseconds.

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = nowMs();
  const value = await fn();
  return { ms: nowMs() - t0, value };
}

/** Formats ms for a table: 3 significant digits, '-' for missing. */
export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

/**
 * CLOCK_REALTIME in microseconds, with the resolution of the monotonic clock: the one clock
 * every netns (and every container) shares, so a time stamped inside a container can be
 * set against one taken here. Date.now() is only in ms; the offset between it and
 * process.hrtime is taken at the instants Date.now() ticks (the median of a few ticks),
 * which pins it to a few µs.
 */
export function realtimeClock(): () => number {
  const offsets: number[] = [];
  for (let k = 0; k < 9; k++) {
    const start = Date.now();
    let now = start;
    let mono = 0n;
    while (now === start) {
      mono = process.hrtime.bigint();
      now = Date.now();
    }
    offsets.push(now * 1000 - Number(mono / 1000n));
  }
  offsets.sort((a, b) => a - b);
  const offset = offsets[4]!;
  return () => Number(process.hrtime.bigint() / 1000n) + offset;
}
