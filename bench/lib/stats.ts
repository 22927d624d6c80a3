// Summaries of per-container timings: medians, percentiles, windows by container count.

/** The p-th percentile (0..100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

export function sum(samples: readonly number[]): number {
  return samples.reduce((a, b) => a + b, 0);
}

/** A range of container counts: samples whose index i (1-based, = containers existing incl. this one) is in [from, to]. */
export interface Window {
  label: string;
  from: number;
  to: number;
}

/**
 * The report's windows: containers 1-10, then the 50 containers up to 100, 500, 1000
 * (only those that fit in n), and the last 50 when n is not one of them.
 */
export function standardWindows(n: number): Window[] {
  const out: Window[] = [{ label: '1-10', from: 1, to: Math.min(10, n) }];
  for (const p of [100, 500, 1000]) if (p <= n) out.push({ label: `${p - 49}-${p}`, from: p - 49, to: p });
  if (n > 10 && ![100, 500, 1000].includes(n)) out.push({ label: `${Math.max(11, n - 49)}-${n}`, from: Math.max(11, n - 49), to: n });
  return out;
}

export interface WindowStats {
  window: Window;
  count: number;
  median: number;
  p99: number;
}

/** samples[i] belongs to container i+1; missing samples (undefined) are skipped. */
export function windowStats(samples: readonly (number | undefined)[], w: Window): WindowStats {
  const xs: number[] = [];
  for (let i = w.from; i <= w.to && i <= samples.length; i++) {
    const v = samples[i - 1];
    if (v !== undefined) xs.push(v);
  }
  return { window: w, count: xs.length, median: median(xs), p99: percentile(xs, 99) };
}

/** A rolling median over `width` samples, for plotting: [index (1-based), value][]. */
export function rollingMedian(samples: readonly (number | undefined)[], width: number): [number, number][] {
  const n = samples.length;
  const step = Math.max(1, Math.floor(width / 4));
  const ends: number[] = [];
  for (let e = Math.min(width, n); e < n; e += step) ends.push(e);
  if (n > 0) ends.push(n);
  const out: [number, number][] = [];
  for (const end of ends) {
    const xs = samples.slice(Math.max(0, end - width), end).filter((v): v is number => v !== undefined);
    if (xs.length) out.push([Math.max(1, end - Math.floor(Math.min(width, end) / 2)), median(xs)]);
  }
  return out;
}
