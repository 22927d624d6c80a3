import type { Watcher } from 'etcd3';
import { ClusterStoreCompactedError, ClusterStoreUnavailableError } from './errors.js';
import type { ClusterStore, StoredKey } from './store.js';

// Keeps an owner in step with every key under a prefix: list once (at one revision),
// hand the whole set to reconcile(all), then watch from that revision + 1 and hand each
// change over, in revision order. When the watch cannot be trusted to have seen every
// change since — etcd compacted the revision it resumes from, the watch stream dropped,
// the store went down and came back — it lists again and reconciles with the full set,
// so the owner removes whatever nobody owns any more (the stale-entry bug class of
// Docker's and flannel's overlays). The start is the same list → reconcile.

export interface SyncHandlers {
  /** the full set under the prefix, at start and after every re-list */
  reconcile(all: StoredKey[], why: ResyncReason): void | Promise<void>;
  put(kv: StoredKey): void | Promise<void>;
  /** prev: the key as it was before (when etcd still had it) */
  delete(key: string, prev: StoredKey | undefined): void | Promise<void>;
}

export type ResyncReason = 'start' | 'compacted' | 'watch dropped' | 'reconnected';

export interface PrefixSyncOptions {
  log?: (msg: string) => void;
  /** wait between tries while the store cannot be reached */
  retryMs?: number;
}

interface RawKv {
  key: Buffer;
  value: Buffer;
  create_revision: string;
  mod_revision: string;
  lease: string;
}

export class PrefixSync {
  /** the revision the owner's view is at: every change up to it was handed over */
  revision: string | undefined;
  /** how many times the full set was handed over (start included) */
  resyncs = 0;
  private stopped = false;
  /** the last list or watch failed: said once, until one succeeds */
  private failing = false;
  private loop: Promise<void> | undefined;
  private queue: Promise<void> = Promise.resolve();
  private interrupt: ((why: ResyncReason) => void) | undefined;
  private readonly onUp = () => this.interrupt?.('reconnected');
  private firstSync: { promise: Promise<void>; resolve: () => void };

  constructor(
    private readonly store: ClusterStore,
    readonly prefix: string,
    private readonly handlers: SyncHandlers,
    private readonly opts: PrefixSyncOptions = {},
  ) {
    let resolve!: () => void;
    this.firstSync = { promise: new Promise<void>((r) => (resolve = r)), resolve };
  }

  /** Starts syncing in the background; never throws (a store that is down is retried). */
  start(): void {
    if (this.loop) return;
    this.store.on('up', this.onUp);
    this.loop = this.run();
  }

  /** Resolves once the first full set was reconciled. */
  synced(): Promise<void> {
    return this.firstSync.promise;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.store.off('up', this.onUp);
    this.interrupt?.('watch dropped');
    await this.loop;
    await this.queue;
  }

  private async run(): Promise<void> {
    let why: ResyncReason = 'start';
    while (!this.stopped) {
      let listing;
      try {
        listing = await this.store.list(this.prefix);
      } catch (err) {
        this.failed(err as Error);
        await this.pause();
        continue;
      }
      this.failing = false;
      if (this.stopped) break;
      const all = listing.items;
      await this.enqueue(() => this.handlers.reconcile(all, why));
      this.revision = listing.revision;
      this.resyncs += 1;
      this.firstSync.resolve();
      why = await this.follow();
    }
  }

  /** Watches from revision + 1 until the watch can no longer be trusted; says why. */
  private async follow(): Promise<ResyncReason> {
    let watcher: Watcher;
    try {
      watcher = await this.store.watch(this.prefix, (BigInt(this.revision!) + 1n).toString());
    } catch (err) {
      if (err instanceof ClusterStoreCompactedError) return 'compacted';
      this.failed(err as Error);
      await this.pause();
      return 'watch dropped';
    }
    const ended = new Promise<ResyncReason>((resolve) => {
      this.interrupt = resolve;
      watcher.on('disconnected', () => resolve('watch dropped'));
      // etcd cancels a watch it cannot serve: a compacted revision (it does not always say so)
      watcher.on('error', () => resolve(this.whyCanceled()));
    });
    watcher.on('data', (res: { header: { revision: string }; events: { type: string; kv: RawKv; prev_kv?: RawKv }[] }) => {
      for (const ev of res.events) {
        if (ev.type === 'Put') void this.enqueue(() => this.handlers.put(stored(ev.kv)));
        else void this.enqueue(() => this.handlers.delete(ev.kv.key.toString(), ev.prev_kv && stored(ev.prev_kv)));
        this.revision = ev.kv.mod_revision;
      }
      // a progress notice (no events) moves the view up to the store's revision too
      if (res.events.length === 0 && BigInt(res.header.revision) > BigInt(this.revision!)) this.revision = res.header.revision;
    });
    if (this.stopped) this.interrupt?.('watch dropped');
    const why = await ended;
    this.interrupt = undefined;
    watcher.removeAllListeners('data');
    // a watch etcd already canceled may never confirm our cancel: do not wait on it for long
    await Promise.race([watcher.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 1_000).unref())]);
    if (!this.stopped) this.opts.log?.(`sync of ${this.prefix}: ${why}: listing it again`);
    return why;
  }

  /** A failure is said once until a try succeeds; a store that cannot be reached not at all: the host's lease says that, once per outage. */
  private failed(err: Error): void {
    if (!this.failing && !(err instanceof ClusterStoreUnavailableError)) this.opts.log?.(`sync of ${this.prefix}: ${err.message} (trying again in the background)`);
    this.failing = true;
  }

  private async whyCanceled(): Promise<ResyncReason> {
    const next = (BigInt(this.revision!) + 1n).toString();
    return (await this.store.compactedSince(next).catch(() => false)) ? 'compacted' : 'watch dropped';
  }

  /** Handlers run one at a time, in the order etcd gave the changes. */
  private enqueue(fn: () => void | Promise<void>): Promise<void> {
    this.queue = this.queue.then(fn).catch((err: Error) => this.opts.log?.(`sync of ${this.prefix}: a handler failed: ${err.message}`));
    return this.queue;
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, this.opts.retryMs ?? 1_000);
      this.interrupt = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

function stored(kv: RawKv): StoredKey {
  return { key: kv.key.toString(), value: kv.value.toString(), createRevision: kv.create_revision, modRevision: kv.mod_revision, lease: kv.lease };
}
