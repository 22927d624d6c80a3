import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { hostIdentity, type MetaStore } from './host-identity.js';
import { keys, type HostRecord } from './keys.js';
import { HostLease } from './lease.js';
import type { ClusterStoreConfig } from './options.js';
import { ClusterStore } from './store.js';

// This berthd as a member of the cluster: its store client, its id, its lease and its
// host record (hosts/<id> on the lease). Started by the controller when --cluster-store is
// set; a store that is down does not hold berthd up: the lease keeps trying in the
// background (one line in the log per outage) and the record appears when etcd answers.

export interface ClusterSettings {
  store: ClusterStoreConfig;
  /** --cluster-advertise, resolved to IP[:PORT] */
  advertise: string;
}

export interface MembershipOptions {
  /** berth's version, for the host record (default: package.json's) */
  version?: string;
  ttlSeconds?: number;
  timeoutMs?: number;
  log?: (msg: string) => void;
}

const LEASE_KEY = 'cluster-lease';

export class ClusterMembership {
  readonly store: ClusterStore;
  readonly lease: HostLease;
  readonly hostId: string;

  private constructor(readonly settings: ClusterSettings, private readonly meta: MetaStore, private readonly opts: MembershipOptions) {
    this.hostId = hostIdentity(meta);
    this.store = ClusterStore.connect(settings.store, { timeoutMs: opts.timeoutMs });
    // the lease of the last run, if etcd still has it: a quick restart keeps this host's keys in place
    this.lease = new HostLease(this.store, { ttlSeconds: opts.ttlSeconds, resume: meta.getMeta(LEASE_KEY), log: opts.log });
    this.lease.onGranted(async (lease) => {
      this.meta.setMeta(LEASE_KEY, lease);
      await this.store.put(keys.host(this.hostId), JSON.stringify(this.record()), lease);
      this.opts.log?.(`cluster store ${this.store.name}: host ${this.hostId} (${this.settings.advertise}) registered on lease ${lease}`);
    });
  }

  static start(settings: ClusterSettings, meta: MetaStore, opts: MembershipOptions): ClusterMembership {
    const m = new ClusterMembership(settings, meta, opts);
    m.lease.start();
    return m;
  }

  record(): HostRecord {
    return { advertise: this.settings.advertise, hostname: hostname(), version: this.opts.version ?? berthVersion() };
  }

  /** Stops keeping the lease alive (the record goes within the TTL unless berthd is back first) and closes the client. */
  async stop(): Promise<void> {
    await this.lease.stop();
    this.store.close();
  }
}

/** package.json's version (dist/src/cluster/ → the repository root), 'unknown' elsewhere. */
function berthVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
