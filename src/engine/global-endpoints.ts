import { AddressAllocator } from '../cluster/addresses.js';
import { claimAll } from '../cluster/claims.js';
import { keys, type ClusterEndpointRecord } from '../cluster/keys.js';
import type { ClusterMembership } from '../cluster/membership.js';
import { advertiseIp } from '../cluster/advertise.js';
import { PrefixSync } from '../cluster/sync.js';
import type { StoredKey } from '../cluster/store.js';
import type { RemoteEndpointView } from '../driverapi/contract.js';
import type { EmbeddedDns, EndpointRecord as DnsEndpoint } from '../dns/index.js';
import { ipv4Of, staticIpv4Of, type ContainerRecord, type EndpointRecord, type NetworkRecord } from '../store/records.js';
import { ConflictError } from '../util/errors.js';
import { macFromIp } from '../util/ip.js';
import { resolvableNames } from './dns-observer.js';
import type { NetworkService } from './networks.js';
import type { EngineObserver } from './observer.js';
import type { State } from './state.js';

// Endpoints of global networks, across hosts. A local endpoint's address and record are
// claimed in one etcd transaction, on this host's lease (a dead host's vanish within the
// TTL), and only while the network is still in the store. The record says `up` once the
// endpoint's interface is in its container. Every host follows the endpoints/ prefix: an
// endpoint of another host is handed to the network's driver (its data path: VXLAN
// entries) as soon as it is claimed, and to the embedded resolver (its names) once it is
// up, so whoever resolves a name reaches an interface that answers; both are taken back
// when its key goes. A full re-list reconciles both with the store, so nothing stays programmed
// for an endpoint nobody owns. What this host claimed but no longer holds (a release cut
// by an outage, a crash between the claim and the local record) is given back when the
// store answers again; what it holds but the store lost (a lease that expired during a
// partition) is put again.

export class GlobalEndpoints implements EngineObserver {
  private readonly allocator: AddressAllocator;
  private readonly sync: PrefixSync;
  /** endpoints of other hosts, by key, as last handed over */
  private readonly remotes = new Map<string, ClusterEndpointRecord>();
  private readonly vtep: string;
  /** the first full listing was handed over */
  private listed = false;
  /** endpoints this process claimed whose interface is not in their container yet (their record says up: false) */
  private readonly joining = new Set<string>();
  /** endpoints whose address and record were given back while the local record still holds the address for a moment */
  private readonly released = new Set<string>();
  /** the store is back: what this host holds and what the store says are made to agree (a lease etcd lost is re-granted first, then this runs again) */
  private readonly onUp = () => {
    this.reconcileOwn().catch((err: Error) => this.log(`cluster store back: this host's endpoints not checked yet: ${err.message}`));
  };

  constructor(
    private readonly cluster: ClusterMembership,
    private readonly state: State,
    private readonly networks: NetworkService,
    private readonly dns: EmbeddedDns,
    private readonly log: (msg: string) => void,
  ) {
    this.allocator = new AddressAllocator(cluster.store);
    this.vtep = advertiseIp(cluster.settings.advertise);
    this.sync = new PrefixSync(cluster.store, keys.allEndpoints, {
      reconcile: (all) => this.reconcileRemotes(all),
      put: (kv) => this.remotePut(kv),
      delete: (key) => this.remoteDelete(key),
    }, { log });
  }

  /** Follows the store; this host's endpoints are put again on each new lease, and checked when the store comes back. */
  start(): void {
    this.cluster.lease.onGranted(() => this.reconcileOwn());
    this.cluster.store.on('up', this.onUp);
    this.sync.start();
  }

  synced(): Promise<void> {
    return this.sync.synced();
  }

  /** The endpoints of other hosts on global networks, as last handed over by the store (for the picture of the network). */
  remoteEndpoints(): ClusterEndpointRecord[] {
    return [...this.remotes.values()];
  }

  async stop(): Promise<void> {
    this.cluster.store.off('up', this.onUp);
    await this.sync.stop();
  }

  /** Claims an address (the one asked for with --ip, or the lowest free) and the endpoint's record; returns the address and MAC. */
  async claim(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): Promise<{ ip: string; mac: string }> {
    const cfg = net.ipamConfig[0];
    const lease = await this.cluster.lease.acquire(this.cluster.store.timeoutMs);
    const macOf = (ip: string) => ep.staticMac ?? macFromIp(ip);
    this.joining.add(ep.id);
    this.released.delete(ep.id);
    const ip = await this.allocator.allocate(
      { networkId: net.id, subnet: cfg.subnet, range: cfg.ipRange, reserved: [...(cfg.gateway ? [cfg.gateway] : []), ...Object.values(cfg.auxAddresses ?? {})] },
      ep.id,
      {
        preferred: staticIpv4Of(ep),
        lease,
        with: (ip) => [{ key: keys.endpoint(net.id, ep.id), value: JSON.stringify(this.record(c, net, ep, ip, macOf(ip), false)), what: `endpoint ${ep.id.slice(0, 12)}` }],
        requires: [{ key: keys.network(net.id), what: `network ${net.name}` }],
        touch: [{ key: keys.joins(net.id), value: JSON.stringify(ep.id) }],
      },
    ).catch((err: Error) => {
      this.joining.delete(ep.id);
      throw err;
    });
    return { ip, mac: macOf(ip) };
  }

  /**
   * The endpoint's interface is in its container: its record says so, and other hosts
   * serve its names. A store that fails now does not undo the start: the record is
   * corrected when the store answers again (reconcileOwn).
   */
  async endpointUp(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    if (net.scope !== 'global' || !this.joining.delete(ep.id)) return;
    await this.markUp(c, net, ep).catch((err: Error) => this.log(`endpoint ${ep.id.slice(0, 12)} on ${net.name}: ${err.message}; other hosts resolve its names once the store answers again`));
  }

  endpointDown(_c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): void {
    if (net.scope === 'global') this.joining.delete(ep.id);
  }

  /** Rewrites the record with up: true, on the current lease, only while it exists (a release in between wins). */
  private async markUp(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    const key = Buffer.from(keys.endpoint(net.id, ep.id));
    const value = JSON.stringify(this.record(c, net, ep, ipv4Of(ep), ep.mac, true));
    await this.cluster.store.txn(
      `mark endpoint ${ep.id.slice(0, 12)} up`,
      [{ key, target: 'Create', result: 'Greater', create_revision: 0 }],
      [{ request_put: { key, value: Buffer.from(value), lease: this.cluster.lease.current() } }],
    );
  }

  /**
   * Gives the endpoint's address and record back. A store that cannot be reached does not
   * hold the container up: they are given back when it answers again (reconcileOwn).
   */
  async release(net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    const ip = ipv4Of(ep);
    this.released.add(ep.id);
    const record = keys.endpoint(net.id, ep.id);
    try {
      if (ip) await this.allocator.release(net.id, ip, ep.id, [record]);
      else await this.cluster.store.delete(record);
    } catch (err) {
      this.log(`endpoint ${ep.id.slice(0, 12)} on ${net.name}: ${(err as Error).message}; its address goes back when the store answers again`);
    }
  }

  private record(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord, ip: string, mac: string, up: boolean): ClusterEndpointRecord {
    return { id: ep.id, networkId: net.id, containerId: c.id, host: this.cluster.hostId, vtep: this.vtep, ip, mac, names: resolvableNames(c, ep), up };
  }

  /** Endpoints of this host on global networks that hold an address now. */
  private liveOwn(): { c: ContainerRecord; net: NetworkRecord; ep: EndpointRecord }[] {
    const out = [];
    for (const ep of this.state.endpoints.values()) {
      const net = this.state.networks.get(ep.networkId);
      const c = this.state.containers.get(ep.containerId);
      if (net?.scope === 'global' && c && ipv4Of(ep) && !this.released.has(ep.id)) out.push({ c, net, ep });
    }
    return out;
  }

  /**
   * The store's view of this host made true: records of endpoints it no longer has go
   * (with their addresses), and those it has but the store lost are claimed again — the
   * same address, or a conflict said in the log (another host took it meanwhile). An
   * endpoint not being joined right now is up (restored ones were up before a restart).
   * Endpoints in the middle of a claim or a release are left to it: the listing and the
   * local records are read at different moments, and either may already show its end.
   */
  async reconcileOwn(): Promise<void> {
    // a release is over once the local record lets the address go (or the endpoint is gone)
    for (const id of this.released) {
      const ep = this.state.endpoints.get(id);
      if (!ep || !ipv4Of(ep)) this.released.delete(id);
    }
    const listing = await this.cluster.store.list(keys.allEndpoints);
    const live = new Map(this.liveOwn().map((l) => [l.ep.id, l]));
    const stored = new Set<string>();
    for (const kv of listing.items) {
      const r = JSON.parse(kv.value) as ClusterEndpointRecord;
      if (r.host !== this.cluster.hostId) continue;
      stored.add(r.id);
      const own = live.get(r.id);
      if (own) {
        if (!r.up && !this.joining.has(r.id)) await this.markUp(own.c, own.net, own.ep);
        continue;
      }
      // being claimed right now: its record is in the store before the local one holds the address
      if (this.joining.has(r.id)) continue;
      await this.allocator.release(r.networkId, r.ip, r.id, [kv.key]);
      this.log(`endpoint ${r.id.slice(0, 12)} (${r.ip}) was in the cluster store but not on this host any more: given back`);
    }
    const lease = this.cluster.lease.current();
    for (const { c, net, ep } of live.values()) {
      if (stored.has(ep.id)) continue;
      const ip = ipv4Of(ep);
      try {
        await claimAll(this.cluster.store, [
          { key: keys.address(net.id, ip), value: JSON.stringify(ep.id), what: `address ${ip} on network ${net.name}` },
          { key: keys.endpoint(net.id, ep.id), value: JSON.stringify(this.record(c, net, ep, ip, ep.mac, !this.joining.has(ep.id))), what: `endpoint ${ep.id.slice(0, 12)}` },
        ], { lease });
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        const holder = await this.cluster.store.get(keys.address(net.id, ip));
        if (holder?.value !== JSON.stringify(ep.id)) this.log(`container ${c.name}: ${err.message}: two containers hold ${ip} on ${net.name} now; restart one`);
      }
    }
  }

  // ---- endpoints of other hosts --------------------------------------------------

  private async reconcileRemotes(all: StoredKey[]): Promise<void> {
    const next = new Map<string, ClusterEndpointRecord>();
    for (const kv of all) {
      const r = JSON.parse(kv.value) as ClusterEndpointRecord;
      if (r.host !== this.cluster.hostId) next.set(kv.key, r);
    }
    for (const [key, r] of this.remotes) if (r.up && !next.get(key)?.up) this.dns.removeEndpoint(r.networkId, r.containerId);
    this.remotes.clear();
    for (const [key, r] of next) {
      this.remotes.set(key, r);
      if (r.up) this.dns.setEndpoint(dnsRecord(r));
    }
    this.listed = true;
    for (const n of this.state.networks.values()) if (n.scope === 'global') await this.programNetwork(n);
  }

  /**
   * A global network made on this host (created here, or followed from the store): its
   * driver learns the endpoints already elsewhere. Not before the first listing: a
   * restart must not empty what the kernel has programmed while the store is unknown.
   */
  async networkUp(n: NetworkRecord): Promise<void> {
    if (n.scope === 'global' && this.listed) await this.programNetwork(n);
  }

  /** The network's driver told the whole set of its remote endpoints (after a re-list, or when this host made the network). */
  async programNetwork(n: NetworkRecord): Promise<void> {
    const driver = this.networks.driverOf(n);
    const remotes = [...this.remotes.values()].filter((r) => r.networkId === n.id).map(view);
    await driver.remoteReconcile?.(this.networks.view(n), remotes).catch((err: Error) => this.log(`overlay network ${n.name}: ${err.message}`));
  }

  private async remotePut(kv: StoredKey): Promise<void> {
    const r = JSON.parse(kv.value) as ClusterEndpointRecord;
    if (r.host === this.cluster.hostId) return;
    const before = this.remotes.get(kv.key);
    this.remotes.set(kv.key, r);
    // the data path first (once per place: an update that only says `up` changes none of it), then the name
    const n = this.state.networks.get(r.networkId);
    if (n && !(before && samePlace(before, r))) {
      await this.networks.driverOf(n).remoteUp?.(this.networks.view(n), view(r)).catch((err: Error) => this.log(`overlay network ${n.name}: ${err.message}`));
    }
    if (r.up) this.dns.setEndpoint(dnsRecord(r));
    else if (before?.up) this.dns.removeEndpoint(r.networkId, r.containerId);
  }

  private async remoteDelete(key: string): Promise<void> {
    const r = this.remotes.get(key);
    if (!r) return;
    this.remotes.delete(key);
    if (r.up) this.dns.removeEndpoint(r.networkId, r.containerId);
    const n = this.state.networks.get(r.networkId);
    if (n) await this.networks.driverOf(n).remoteDown?.(this.networks.view(n), view(r)).catch((err: Error) => this.log(`overlay network ${n.name}: ${err.message}`));
  }
}

function view(r: ClusterEndpointRecord): RemoteEndpointView {
  return { id: r.id, mac: r.mac, ips: [r.ip], vtep: r.vtep };
}

function dnsRecord(r: ClusterEndpointRecord): DnsEndpoint {
  return { networkId: r.networkId, containerId: r.containerId, ip: r.ip, names: r.names };
}

/** Two records of one endpoint that the data path sees alike. */
function samePlace(a: ClusterEndpointRecord, b: ClusterEndpointRecord): boolean {
  return a.vtep === b.vtep && a.mac === b.mac && a.ip === b.ip;
}
