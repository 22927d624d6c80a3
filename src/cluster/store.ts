import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { ConsecutiveBreaker, ConstantBackoff, circuitBreaker, handleWhen, noop, retry } from 'cockatiel';
import { createRequire } from 'node:module';
import type * as Etcd3Module from 'etcd3';
import type { Etcd3, ICompare, IKeyValue, IRequestOp, ITxnResponse, Watcher } from 'etcd3';
import { ClusterStoreCompactedError, ClusterStoreError, ClusterStoreUnavailableError } from './errors.js';
import type { ClusterStoreConfig } from './options.js';

/** etcd3 and its gRPC stack, loaded when a cluster store is first made: without --cluster-store they cost every berthd start 0.2 s. */
let etcd3: typeof Etcd3Module | undefined;
const lib = (): typeof Etcd3Module => (etcd3 ??= createRequire(import.meta.url)('etcd3') as typeof Etcd3Module);

// berth's one door to etcd (v3, through the npm etcd3 client over gRPC). Every call has a
// deadline (default 3 s) covering etcd3's own retries: a blackholed etcd would otherwise
// keep a call pending for ever (measured: > 30 s). A call that cannot reach etcd fails
// with ClusterStoreUnavailableError naming the store. The store says when it goes down and
// comes back ('down'/'up' events, from the outcome of calls), so the owners of leases and
// watches learn of a reconnect even while they are idle.

export const DEFAULT_CALL_TIMEOUT_MS = 3_000;
const ROOT_PROBE = '/berth/v1/';

/** A key and its value as read from etcd (value as UTF-8 text: every berth value is JSON). */
export interface StoredKey {
  key: string;
  value: string;
  createRevision: string;
  modRevision: string;
  /** the lease it hangs on, '0' for none */
  lease: string;
}

export interface Listing {
  /** the store's revision the listing is a snapshot of: watch from revision + 1 */
  revision: string;
  items: StoredKey[];
}

export interface ClusterStoreOptions {
  timeoutMs?: number;
}

export interface ClusterStoreEvents {
  down: [error: Error];
  up: [];
}

export class ClusterStore extends EventEmitter<ClusterStoreEvents> {
  /** "etcd://10.99.0.2:2379" (every member, comma-separated): the name errors carry */
  readonly name: string;
  readonly timeoutMs: number;
  private readonly client: Etcd3;
  private reachable: boolean | undefined;
  private closed = false;

  private constructor(config: ClusterStoreConfig, opts: ClusterStoreOptions) {
    super();
    this.name = `etcd://${config.endpoints.join(',')}`;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const scheme = config.tls ? 'https' : 'http';
    this.client = new (lib().Etcd3)({
      hosts: config.endpoints.map((e) => `${scheme}://${e}`),
      credentials: config.tls && {
        rootCertificate: readFileSync(config.tls.caFile),
        certChain: config.tls.certFile ? readFileSync(config.tls.certFile) : undefined,
        privateKey: config.tls.keyFile ? readFileSync(config.tls.keyFile) : undefined,
      },
      faultHandling: {
        // With several members, a failed call is tried on the next one, within the same
        // deadline. No circuit breaker: it would refuse calls for seconds after etcd is back.
        global: config.endpoints.length > 1 ? retry(handleWhen(lib().isRecoverableError), { maxAttempts: config.endpoints.length - 1, backoff: new ConstantBackoff(20) }) : noop,
        host: () => (config.endpoints.length > 1 ? circuitBreaker(handleWhen(lib().isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }) : noop),
      },
      grpcOptions: {
        // a watch on an etcd that stopped answering is found dead in ~10 s (etcd's default
        // --grpc-keepalive-min-time is 5 s; it refuses pings with no stream open, so none then:
        // unary calls have their deadline)
        'grpc.keepalive_time_ms': 6_000,
        'grpc.keepalive_timeout_ms': 4_000,
        'grpc.keepalive_permit_without_calls': 0,
        // reconnect soon after etcd is back, not after grpc's default backoff of up to 120 s
        'grpc.initial_reconnect_backoff_ms': 200,
        'grpc.max_reconnect_backoff_ms': 1_000,
      },
    });
  }

  /** No I/O: the first call connects. A store that is down fails calls, never this. */
  static connect(config: ClusterStoreConfig, opts: ClusterStoreOptions = {}): ClusterStore {
    return new ClusterStore(config, opts);
  }

  /** Whether the last call reached etcd (undefined before the first). */
  get isReachable(): boolean | undefined {
    return this.reachable;
  }

  async get(key: string): Promise<StoredKey | undefined> {
    const res = await this.call(`get ${key}`, (options) => this.client.kv.range({ key: Buffer.from(key) }, options));
    return res.kvs[0] && storedKey(res.kvs[0]);
  }

  /** Every key under prefix, at one revision. */
  async list(prefix: string): Promise<Listing> {
    const res = await this.call(`list ${prefix}`, (options) => this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) }, options));
    return { revision: res.header.revision, items: res.kvs.map(storedKey) };
  }

  async put(key: string, value: string, lease?: string): Promise<void> {
    await this.call(`put ${key}`, (options) => this.client.kv.put({ key: Buffer.from(key), value: Buffer.from(value), lease }, options));
  }

  /** Removes key (or every key under it, with prefix: true); returns how many went. */
  async delete(key: string, opts: { prefix?: boolean } = {}): Promise<number> {
    const res = await this.call(`delete ${key}`, (options) => this.client.kv.deleteRange({ key: Buffer.from(key), range_end: opts.prefix ? prefixEnd(key) : undefined }, options));
    return Number(res.deleted);
  }

  /** One etcd transaction: if every compare holds, success runs, else failure. */
  txn(what: string, compare: ICompare[], success: IRequestOp[], failure: IRequestOp[] = []): Promise<ITxnResponse> {
    return this.call(what, (options) => this.client.kv.txn({ compare, success, failure }, options));
  }

  async grantLease(ttlSeconds: number): Promise<string> {
    const res = await this.call('grant a lease', (options) => this.client.leaseClient.leaseGrant({ TTL: ttlSeconds }, options));
    return res.ID;
  }

  /** Renews the lease once; returns its remaining TTL in seconds, 0 when etcd no longer has it. */
  async keepAlive(lease: string): Promise<number> {
    return this.call(`keep lease ${lease} alive`, async (options) => {
      const stream = await this.client.leaseClient.leaseKeepAlive(options);
      try {
        const res = await new Promise<{ TTL: string }>((resolve, reject) => {
          stream.on('data', resolve);
          stream.on('error', reject);
          stream.on('end', () => reject(new (lib().GRPCCancelledError)('keep-alive stream ended')));
          stream.write({ ID: lease });
        });
        return Number(res.TTL);
      } finally {
        stream.end();
      }
    });
  }

  async revokeLease(lease: string): Promise<void> {
    await this.call(`revoke lease ${lease}`, (options) => this.client.leaseClient.leaseRevoke({ ID: lease }, options)).catch((err: Error) => {
      if (!(err.cause instanceof lib().EtcdLeaseInvalidError)) throw err; // gone already: what revoking wanted
    });
  }

  /** Whether etcd has compacted away revision (a watch from it was canceled for that). */
  async compactedSince(revision: string): Promise<boolean> {
    try {
      await this.call(`read at revision ${revision}`, (options) => this.client.kv.range({ key: Buffer.from(ROOT_PROBE), revision, count_only: true }, options));
      return false;
    } catch (err) {
      if (/compacted/i.test(String((err as Error).message))) return true;
      throw err;
    }
  }

  /** Compacts the store's history up to revision (tests and maintenance). */
  async compact(revision: string): Promise<void> {
    await this.call(`compact to ${revision}`, (options) => this.client.kv.compact({ revision, physical: true }, options));
  }

  /**
   * A watch of every key under prefix from revision on, attached within the deadline.
   * ClusterStoreCompactedError when etcd no longer has that revision.
   */
  async watch(prefix: string, fromRevision: string): Promise<Watcher> {
    const builder = this.client.watch().prefix(prefix).startRevision(fromRevision).withPreviousKV();
    return this.call(`watch ${prefix}`, async () => {
      const watcher = builder.watcher();
      const attached = new Promise<Watcher>((resolve, reject) => {
        watcher.once('connected', () => resolve(watcher));
        watcher.once('error', reject);
      });
      try {
        return await withTimeout(attached, this.timeoutMs);
      } catch (err) {
        void watcher.cancel().catch(() => undefined);
        if (/compacted/i.test((err as Error).message)) throw new ClusterStoreCompactedError(`cluster store ${this.name}: watch ${prefix} from revision ${fromRevision}: compacted`);
        throw err;
      }
    });
  }

  close(): void {
    this.closed = true;
    this.client.close();
  }

  /** Runs one etcd call under the deadline, naming the store in any error. */
  private async call<T>(what: string, fn: (options: { deadline: Date }) => Promise<T>): Promise<T> {
    if (this.closed) throw new ClusterStoreError(`cluster store ${this.name}: ${what}: closed`);
    const deadline = new Date(Date.now() + this.timeoutMs);
    try {
      const result = await withTimeout(fn({ deadline }), this.timeoutMs);
      this.markReachable(true);
      return result;
    } catch (err) {
      if (err instanceof ClusterStoreError) throw err;
      // a stream's errors come raw from grpc: cast them as etcd3 casts a unary call's
      const e = err instanceof TimeoutError ? err : lib().castGrpcError(err as Error);
      if (e instanceof TimeoutError || e instanceof lib().GRPCDeadlineExceededError || lib().isRecoverableError(e)) {
        const down = new ClusterStoreUnavailableError(`cluster store ${this.name} unreachable: ${what}: ${shortMessage(e, this.timeoutMs)}`);
        this.markReachable(false, down);
        throw down;
      }
      this.markReachable(true);
      throw new ClusterStoreError(`cluster store ${this.name}: ${what}: ${e.message}`, { cause: e });
    }
  }

  private markReachable(ok: boolean, err?: Error): void {
    const was = this.reachable;
    this.reachable = ok;
    if (was === ok || this.closed) return;
    if (ok && was === false) this.emit('up');
    if (!ok) this.emit('down', err ?? new Error('unreachable'));
  }
}

class TimeoutError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function shortMessage(e: Error, ms: number): string {
  if (e instanceof lib().GRPCDeadlineExceededError) return `no answer within ${ms} ms`;
  // grpc's "14 UNAVAILABLE: No connection established. Last error: Error: connect
  // ECONNREFUSED 127.0.0.1:2379. Resolution note: " says its cause at the end
  const m = e.message.replace(/^\d+ [A-Z_]+: /, '').replace(/\s*Resolution note:.*$/s, '');
  const cause = /Last error: (?:Error: )?(.*?)\.?$/s.exec(m)?.[1] ?? m;
  // OpenSSL's "…:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/…"
  const ssl = /SSL routines:[^:]*:([^:]+)/.exec(cause);
  return ssl ? `TLS: ${ssl[1]}` : cause;
}

function storedKey(kv: IKeyValue): StoredKey {
  return { key: kv.key.toString(), value: kv.value.toString(), createRevision: kv.create_revision, modRevision: kv.mod_revision, lease: kv.lease };
}

/** The end of etcd's range for a prefix: the prefix with its last byte plus one. */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i] += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
