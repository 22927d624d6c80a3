// RangeSet's twin for 128-bit members (IPv6 addresses): sorted, disjoint, non-adjacent
// closed runs of bigints, so a /64 (2^64 addresses) costs nothing until used and a
// thousand serial allocations are one run. Kept apart from RangeSet so the IPv4 path
// never pays for bigint arithmetic. Runs sit in two flat arrays: IPv6 networks hold as
// many endpoints as IPv4 ones, where a splice of a few thousand entries is cheap.

export class RangeSet6 {
  private readonly s: bigint[] = [];
  private readonly e: bigint[] = [];
  private count = 0;

  /** number of members (a plain number: endpoints, not addresses, are counted) */
  get size(): number { return this.count; }

  get runs(): number { return this.s.length; }

  has(x: bigint): boolean {
    const i = this.locate(x);
    return i >= 0 && this.e[i] >= x;
  }

  /** Adds x; returns false when it was already present. */
  add(x: bigint): boolean {
    const i = this.locate(x);
    if (i >= 0 && this.e[i] >= x) return false;
    const joinsLeft = i >= 0 && this.e[i] === x - 1n;
    const joinsRight = i + 1 < this.s.length && this.s[i + 1] === x + 1n;
    if (joinsLeft && joinsRight) {
      this.e[i] = this.e[i + 1];
      this.s.splice(i + 1, 1);
      this.e.splice(i + 1, 1);
    } else if (joinsLeft) {
      this.e[i] = x;
    } else if (joinsRight) {
      this.s[i + 1] = x;
    } else {
      this.s.splice(i + 1, 0, x);
      this.e.splice(i + 1, 0, x);
    }
    this.count++;
    return true;
  }

  /** Removes x; returns false when it was not present. */
  remove(x: bigint): boolean {
    const i = this.locate(x);
    if (i < 0 || this.e[i] < x) return false;
    const s = this.s[i];
    const e = this.e[i];
    if (s === e) {
      this.s.splice(i, 1);
      this.e.splice(i, 1);
    } else if (x === s) {
      this.s[i] = x + 1n;
    } else if (x === e) {
      this.e[i] = x - 1n;
    } else {
      this.e[i] = x - 1n;
      this.s.splice(i + 1, 0, x + 1n);
      this.e.splice(i + 1, 0, e);
    }
    this.count--;
    return true;
  }

  /** Smallest non-member y with from <= y <= to, or undefined. */
  nextFree(from: bigint, to: bigint): bigint | undefined {
    if (from > to) return undefined;
    const i = this.locate(from);
    // runs never touch, so the number after a run is free
    const y = i >= 0 && this.e[i] >= from ? this.e[i] + 1n : from;
    return y <= to ? y : undefined;
  }

  /** Members in ascending order (for tests; never call it on a huge run). */
  *values(): IterableIterator<bigint> {
    for (let i = 0; i < this.s.length; i++) {
      for (let x = this.s[i]; x <= this.e[i]; x++) yield x;
    }
  }

  /** Index of the last run whose start is <= x, or -1. */
  private locate(x: bigint): number {
    let lo = 0;
    let hi = this.s.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.s[mid] <= x) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }
}
