// Serialises operations on one object (a network, a container) without holding up
// operations on others: concurrent requests on different networks never wait on a
// global lock.

export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const waits = sorted.map((k) => this.tails.get(k) ?? Promise.resolve());
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    for (const k of sorted) this.tails.set(k, mine);
    try {
      await Promise.allSettled(waits);
      return await fn();
    } finally {
      release();
      for (const k of sorted) if (this.tails.get(k) === mine) this.tails.delete(k);
    }
  }
}
