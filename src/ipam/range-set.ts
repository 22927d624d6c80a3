// A set of integers kept as sorted, disjoint, non-adjacent closed intervals ("runs").
// Memory and search cost follow the number of runs, not the number of members, so a
// /8 with 100k serial allocations is one run.
//
// Runs live in chunks of at most 2*CHUNK, so creating, splitting or merging a run
// moves at most a chunk's worth of entries: with k runs, every operation is
// O(log k + CHUNK), effectively O(log k). Serial allocation only grows the run it
// touches: amortised O(1).

const CHUNK = 256;

interface Chunk { s: number[]; e: number[] }
/** a run's position: chunk index and index inside the chunk */
type Pos = { c: number; i: number };

export class RangeSet {
  private chunks: Chunk[] = [];
  private count = 0;
  private runCount = 0;

  /** number of members */
  get size(): number { return this.count; }

  /** number of disjoint runs */
  get runs(): number { return this.runCount; }

  has(x: number): boolean {
    const p = this.locate(x);
    return p !== undefined && this.end(p) >= x;
  }

  /** Adds x; returns false when it was already present. */
  add(x: number): boolean {
    const p = this.locate(x);
    if (p && this.end(p) >= x) return false;
    const n = p ? this.next(p) : (this.chunks.length > 0 ? { c: 0, i: 0 } : undefined);
    const joinsLeft = p !== undefined && this.end(p) === x - 1;
    const joinsRight = n !== undefined && this.start(n) === x + 1;
    if (p && n && joinsLeft && joinsRight) {
      this.chunks[p.c].e[p.i] = this.end(n);
      this.removeRun(n);
    } else if (p && joinsLeft) {
      this.chunks[p.c].e[p.i] = x;
    } else if (n && joinsRight) {
      this.chunks[n.c].s[n.i] = x;
    } else {
      this.insertRun(p, x, x);
    }
    this.count++;
    return true;
  }

  /** Removes x; returns false when it was not present. */
  remove(x: number): boolean {
    const p = this.locate(x);
    if (!p || this.end(p) < x) return false;
    const ch = this.chunks[p.c];
    const s = ch.s[p.i];
    const e = ch.e[p.i];
    if (s === e) {
      this.removeRun(p);
    } else if (x === s) {
      ch.s[p.i] = x + 1;
    } else if (x === e) {
      ch.e[p.i] = x - 1;
    } else {
      ch.e[p.i] = x - 1;
      this.insertRun(p, x + 1, e);
    }
    this.count--;
    return true;
  }

  /** Smallest non-member y with from <= y <= to, or undefined. */
  nextFree(from: number, to: number): number | undefined {
    if (from > to) return undefined;
    const p = this.locate(from);
    // runs never touch, so the number after a run is free
    const y = p && this.end(p) >= from ? this.end(p) + 1 : from;
    return y <= to ? y : undefined;
  }

  /** Members in ascending order (for tests and inspection). */
  *values(): IterableIterator<number> {
    for (const ch of this.chunks) {
      for (let i = 0; i < ch.s.length; i++) {
        for (let x = ch.s[i]; x <= ch.e[i]; x++) yield x;
      }
    }
  }

  private start(p: Pos): number { return this.chunks[p.c].s[p.i]; }
  private end(p: Pos): number { return this.chunks[p.c].e[p.i]; }

  private next(p: Pos): Pos | undefined {
    if (p.i + 1 < this.chunks[p.c].s.length) return { c: p.c, i: p.i + 1 };
    return p.c + 1 < this.chunks.length ? { c: p.c + 1, i: 0 } : undefined;
  }

  /** The last run whose start is <= x. */
  private locate(x: number): Pos | undefined {
    const c = lastAtOrBefore(this.chunks.length, (k) => this.chunks[k].s[0], x);
    if (c < 0) return undefined;
    const ch = this.chunks[c];
    return { c, i: lastAtOrBefore(ch.s.length, (k) => ch.s[k], x) };
  }

  /** Inserts run [s, e] right after `after` (or first of all when undefined). */
  private insertRun(after: Pos | undefined, s: number, e: number): void {
    this.runCount++;
    if (this.chunks.length === 0) {
      this.chunks.push({ s: [s], e: [e] });
      return;
    }
    const c = after ? after.c : 0;
    const i = after ? after.i + 1 : 0;
    const ch = this.chunks[c];
    ch.s.splice(i, 0, s);
    ch.e.splice(i, 0, e);
    if (ch.s.length > 2 * CHUNK) {
      this.chunks.splice(c + 1, 0, { s: ch.s.splice(CHUNK), e: ch.e.splice(CHUNK) });
    }
  }

  private removeRun(p: Pos): void {
    this.runCount--;
    const ch = this.chunks[p.c];
    ch.s.splice(p.i, 1);
    ch.e.splice(p.i, 1);
    if (ch.s.length === 0) this.chunks.splice(p.c, 1);
  }
}

/** Largest k in [0, n) with key(k) <= x (keys ascending), or -1. */
function lastAtOrBefore(n: number, key: (k: number) => number, x: number): number {
  let lo = 0;
  let hi = n - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (key(mid) <= x) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
  }
  return found;
}
