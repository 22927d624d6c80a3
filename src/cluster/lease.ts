import { ClusterStoreUnavailableError } from './errors.js';
import type { ClusterStore } from './store.js';

// The host's etcd lease: every key of this host's records hangs on it, so when the host
// dies (nothing keeps the lease alive) etcd deletes them all within the TTL. Kept alive
// every TTL/3 (as etcd's own Go client does). While etcd cannot be reached the lease is
// kept and tried again: etcd refreshes leases when it restarts, so after a short outage
// the keys are still there. Only when etcd says the lease is gone (expired during a
// partition, revoked) is a new one granted, and every owner's keys are put again on it by
// the callbacks they gave (onGranted).

export const DEFAULT_LEASE_TTL_SECONDS = 10;
const RETRY_MS = 1_000;

export interface HostLeaseOptions {
  ttlSeconds?: number;
  /** a lease of an earlier run of this host (kept in the data-root): used again while etcd still has it */
  resume?: string;
  /** a problem worth one line in the log (reported once per outage) */
  log?: (msg: string) => void;
}

type GrantedCallback = (lease: string) => Promise<void> | void;

export class HostLease {
  readonly ttlSeconds: number;
  private lease: string | undefined;
  private candidate: string | undefined;
  private readonly granted: GrantedCallback[] = [];
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private failing = false;
  /** callbacks still to run for the current lease (all of them after a grant; a late one alone) */
  private readonly due = new Set<GrantedCallback>();
  /** acquire() calls waiting for the first lease */
  private waiters: (() => void)[] = [];

  constructor(private readonly store: ClusterStore, private readonly opts: HostLeaseOptions = {}) {
    this.ttlSeconds = opts.ttlSeconds ?? DEFAULT_LEASE_TTL_SECONDS;
    this.candidate = opts.resume;
  }

  /**
   * cb runs with the lease id each time a lease is (re)granted or resumed, and again until
   * it succeeds: the owner puts its keys on that lease there (put-if-absent or overwrite
   * of its own keys). Registered before start(), it also runs for the first lease.
   */
  onGranted(cb: GrantedCallback): void {
    this.granted.push(cb);
    if (this.lease !== undefined) this.due.add(cb);
    this.wake?.();
  }

  /** Starts granting and keeping alive, in the background; never throws. */
  start(): void {
    this.loop ??= this.run();
  }

  /** The lease keys are put on now; ClusterStoreUnavailableError while there is none. */
  current(): string {
    if (this.lease === undefined) throw new ClusterStoreUnavailableError(`cluster store ${this.store.name} unreachable: this host has no lease yet`);
    return this.lease;
  }

  /** The lease, waiting for the first grant up to `timeoutMs` (a berthd just started): ClusterStoreUnavailableError after it. */
  async acquire(timeoutMs: number): Promise<string> {
    if (this.lease !== undefined) return this.lease;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, timeoutMs);
      t.unref();
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.waiters.push(done);
    });
    return this.current();
  }

  get id(): string | undefined {
    return this.lease;
  }

  /** Stops keeping the lease alive; revoke: true also deletes every key on it at once. */
  async stop(opts: { revoke?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (opts.revoke && this.lease) await this.store.revokeLease(this.lease).catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const ok = await this.step().then(() => true, (err: Error) => this.report(err));
      if (ok && this.failing) {
        this.failing = false;
        this.opts.log?.(`cluster store ${this.store.name} reachable again: lease ${this.lease} kept alive`);
      }
      await this.sleep(ok && this.due.size === 0 ? (this.ttlSeconds * 1000) / 3 : RETRY_MS);
    }
  }

  /** One round: get a lease if there is none, put the owners' keys if due, keep it alive. */
  private async step(): Promise<void> {
    if (this.lease === undefined) {
      const resumed = this.candidate !== undefined && (await this.store.keepAlive(this.candidate)) > 0;
      this.lease = resumed ? this.candidate : await this.store.grantLease(this.ttlSeconds);
      this.candidate = undefined;
      for (const cb of this.granted) this.due.add(cb);
      for (const w of this.waiters.splice(0)) w();
    } else if ((await this.store.keepAlive(this.lease)) <= 0) {
      this.opts.log?.(`cluster store ${this.store.name}: lease ${this.lease} expired; granting a new one and putting this host's keys again`);
      this.lease = undefined;
      return this.step();
    }
    // each until it succeeds once per lease; one that fails does not run the others again
    const lease = this.lease!;
    for (const cb of [...this.due]) {
      await cb(lease);
      this.due.delete(cb);
    }
  }

  private report(err: Error): false {
    if (!this.failing) this.opts.log?.(`${err.message} (berthd keeps trying in the background)`);
    this.failing = true;
    return false;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}
