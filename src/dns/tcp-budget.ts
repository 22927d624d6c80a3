// How many TCP connections the resolver keeps open, per sandbox and per resolver thread,
// so that one container cannot starve the others (a container holding hundreds of idle
// connections once made TCP DNS fail for everyone).
//
// When a limit is reached, the OLDEST IDLE connection makes room rather than the new one
// being refused (RFC 7766 §6.2.3: under pressure a server closes idle connections, and
// clients must retry on a closed one). A new connection nearly always carries a query
// about to be asked; an idle old one is the likeliest to be stale. So a container that
// leaks connections still resolves, and only churns its own. At the thread-wide cap the
// room is taken from the sandbox holding the most connections: a sandbox below its fair
// share always gets in. Only when every candidate has a query in flight is the new
// connection refused.
//
// Pure bookkeeping, no sockets: the listener asks admit() and closes what it is told.

export interface TcpLimits {
  /** Connections one sandbox may hold at once. */
  perSandbox: number;
  /** Connections one resolver thread holds at once, over all its sandboxes (> perSandbox). */
  perThread: number;
  /** A connection with no query in flight for this long is closed. */
  idleMs: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = { perSandbox: 64, perThread: 1024, idleMs: 10_000 };

/** One connection as the budget sees it. */
export interface Tracked {
  /** whose it is: one sandbox (any value; compared by identity) */
  readonly owner: unknown;
  /** queries asked on it and not answered yet */
  inFlight: number;
  /** Closes it (the budget has already forgotten it). */
  evict(): void;
}

export class TcpBudget {
  /** owner -> its connections, least recently active first */
  private readonly byOwner = new Map<unknown, Set<Tracked>>();
  private total = 0;

  constructor(readonly limits: TcpLimits) {
    if (limits.perSandbox < 1 || limits.perThread < limits.perSandbox) {
      throw new Error(`invalid TCP limits: per sandbox ${limits.perSandbox}, per thread ${limits.perThread}`);
    }
  }

  /** Connections held, all owners together. */
  get size(): number {
    return this.total;
  }

  held(owner: unknown): number {
    return this.byOwner.get(owner)?.size ?? 0;
  }

  /** Makes room for `c` if it must (evicting an idle connection); false when it must be refused. */
  admit(c: Tracked): boolean {
    if (this.held(c.owner) >= this.limits.perSandbox) {
      if (!this.evictOldestIdle(c.owner)) return false;
    } else if (this.total >= this.limits.perThread) {
      if (!this.evictFromLargest()) return false;
    }
    let set = this.byOwner.get(c.owner);
    if (!set) {
      set = new Set();
      this.byOwner.set(c.owner, set);
    }
    set.add(c);
    this.total++;
    return true;
  }

  /** It asked or was answered: it becomes the owner's most recently active. */
  touch(c: Tracked): void {
    const set = this.byOwner.get(c.owner);
    if (!set?.delete(c)) return;
    set.add(c);
  }

  /** It closed (any reason); idempotent. */
  release(c: Tracked): void {
    const set = this.byOwner.get(c.owner);
    if (!set?.delete(c)) return;
    this.total--;
    if (set.size === 0) this.byOwner.delete(c.owner);
  }

  private evictOldestIdle(owner: unknown): boolean {
    for (const c of this.byOwner.get(owner) ?? []) {
      if (c.inFlight > 0) continue;
      this.release(c);
      c.evict();
      return true;
    }
    return false;
  }

  /** Takes an idle connection from the biggest holder that has one. */
  private evictFromLargest(): boolean {
    const owners = [...this.byOwner.entries()].sort((a, b) => b[1].size - a[1].size);
    return owners.some(([owner]) => this.evictOldestIdle(owner));
  }
}
