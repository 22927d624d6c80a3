import { claimAll } from '../cluster/claims.js';
import { advertiseIp } from '../cluster/advertise.js';
import { keys, lastSegment, type HostRecord } from '../cluster/keys.js';
import type { ClusterMembership } from '../cluster/membership.js';
import { PrefixSync } from '../cluster/sync.js';
import type { StoredKey } from '../cluster/store.js';
import type { ClusterHostView, NetworkDriver } from '../driverapi/contract.js';
import { FIRST_VNI, MAX_VNI, OVERLAY_OPT, parseVni } from '../drivers/overlay/options.js';
import { findFreeDefaultPool, routeObstacles, type DefaultPoolSpec } from '../ipam/default-pools.js';
import { checkUsableSubnet } from '../ipam/special-subnets.js';
import { routedSubnets } from '../kernel/routed-subnets.js';
import type { Kernel } from '../kernel/types.js';
import type { IpamConfigRecord, NetworkRecord } from '../store/records.js';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from '../util/errors.js';
import { canonicalCidr, cidrContains, cidrInside, cidrOverlaps, firstHost } from '../util/ip.js';
import { newId } from '../util/names.js';
import { splitFamilies, type NetworkCreateRequest, type NetworkService } from './networks.js';
import type { State } from './state.js';
import { crashPoint } from './crash-points.js';

// Networks of scope global (overlay): one record in the cluster store, mirrored into every
// host's own store, so `network ls`, inspect, run and connect work on them as on any other.
// A create claims the name, the VNI and the record in one etcd transaction (two hosts
// creating the same name at once: one wins); each host follows the networks/ prefix and
// makes or removes its side of each network. A host whose own networks clash with one
// (a local network of that name, an overlapping subnet) keeps out of it and says why.

/** Default subnets of global networks: /24s of 10.0.0.0/9 (berth's local pools take 10.128.0.0/9). */
export const GLOBAL_DEFAULT_POOLS: readonly DefaultPoolSpec[] = Object.freeze([{ base: '10.0.0.0/9', size: 24 }]);

export class GlobalNetworks {
  private readonly sync: PrefixSync;
  /** networks this host is creating right now (claimed, not made yet) */
  private readonly creating = new Set<string>();

  constructor(
    private readonly cluster: ClusterMembership,
    private readonly state: State,
    private readonly networks: NetworkService,
    private readonly kernel: Kernel,
    private readonly log: (msg: string) => void,
  ) {
    this.sync = new PrefixSync(cluster.store, keys.networks, {
      reconcile: (all) => this.reconcile(all),
      put: (kv) => this.arrived(kv),
      delete: (key) => this.departed(lastSegment(key)),
    }, { log });
  }

  start(): void {
    this.sync.start();
  }

  synced(): Promise<void> {
    return this.sync.synced();
  }

  stop(): Promise<void> {
    return this.sync.stop();
  }

  /** `network create -d overlay` on this host: claimed in the store, then made here at once (the others follow the store). */
  async create(req: NetworkCreateRequest, driver: NetworkDriver): Promise<NetworkRecord> {
    if (req.enableIPv6 || req.enableIPv4 === false) throw new InvalidParameterError(`${driver.name} networks are IPv4 only in berth: --ipv6 and --ipv4=false are refused`);
    if (req.ipamDriver && req.ipamDriver !== 'default') throw new NotFoundError(`plugin "${req.ipamDriver}" not found`);
    const [{ cfg }] = splitFamilies(req);
    const listing = await this.cluster.store.list(keys.networks);
    const others = listing.items.map((kv) => JSON.parse(kv.value) as NetworkRecord);
    if (others.some((o) => o.name === req.name)) throw new ConflictError(`network with name ${req.name} already exists`);
    // a VXLAN id only for a driver that needs one (overlay); a plugin of scope global makes its own data path
    const vniless = !driver.caps.claimsVni;
    const given = vniless ? undefined : req.options?.[OVERLAY_OPT.vni];
    const lost: string[] = [];
    // a VNI or a default subnet berth chose that another host claimed at the same moment: the next free one
    for (let tries = 0, skipVni = 0; ; tries++) {
      const ipam = await this.subnet(cfg, others, lost);
      const vni = vniless ? undefined : given !== undefined ? parseVni(given) : freeVni(others, skipVni);
      try {
        return await this.createWith(req, driver, ipam, vni);
      } catch (err) {
        if (tries >= 8 || !(err instanceof ConflictError)) throw err;
        if (vni !== undefined && given === undefined && err.message.startsWith(`VNI ${vni} `)) skipVni++;
        else if (!cfg?.subnet && err.message.startsWith(`subnet ${ipam.subnet} `)) lost.push(ipam.subnet);
        else throw err;
      }
    }
  }

  private async createWith(req: NetworkCreateRequest, driver: NetworkDriver, ipam: IpamConfigRecord, vni: number | undefined): Promise<NetworkRecord> {
    const options = { ...(req.options ?? {}), ...(vni === undefined ? {} : { [OVERLAY_OPT.vni]: String(vni) }) };
    const id = newId();
    const record: NetworkRecord = {
      id,
      name: req.name,
      driver: driver.name,
      scope: 'global',
      created: new Date().toISOString(),
      internal: !!req.internal,
      attachable: !!req.attachable,
      enableIPv6: false,
      ipamDriver: 'default',
      ipamConfig: [ipam],
      ipamOptions: req.ipamOptions === undefined ? {} : req.ipamOptions,
      options,
      labels: req.labels ?? {},
      builtin: false,
      driverConfig: driver.parseConfig({ id, name: req.name, internal: !!req.internal, builtin: false, options }),
    };
    await driver.checkHosts?.(this.networks.view(record), await this.otherHosts());
    const idJson = JSON.stringify(id);
    // the store's echo of the claim may come back before this host has made it: the sync leaves it to us
    this.creating.add(id);
    try {
      await this.claimAndMake(record, idJson, vni);
    } finally {
      this.creating.delete(id);
    }
    return record;
  }

  private async claimAndMake(record: NetworkRecord, idJson: string, vni: number | undefined): Promise<void> {
    const id = record.id;
    await claimAll(this.cluster.store, [
      { key: keys.name(record.name), value: idJson, what: `network name "${record.name}"` },
      ...(vni === undefined ? [] : [{ key: keys.vni(vni), value: idJson, what: `VNI ${vni}` }]),
      { key: keys.subnet(record.ipamConfig[0].subnet), value: idJson, what: `subnet ${record.ipamConfig[0].subnet}` },
      { key: keys.network(id), value: JSON.stringify(record), what: `network ${id.slice(0, 12)}` },
    ]);
    crashPoint('overlay-network.claimed');
    try {
      await this.networks.adopt(record);
    } catch (err) {
      await this.unclaim(record).catch(() => undefined);
      throw err;
    }
  }

  /**
   * `network rm` on any host: refused while any host has an endpoint on it; removed from
   * the store in one transaction that fails if an endpoint joined after the look (its
   * joins marker moved), then taken down here (the others follow the store).
   */
  async remove(n: NetworkRecord): Promise<void> {
    const eps = await this.cluster.store.list(keys.endpoints(n.id));
    if (eps.items.length) {
      const hosts = new Set(eps.items.map((kv) => (JSON.parse(kv.value) as { host?: string }).host ?? '?'));
      throw new ForbiddenError(`error while removing network: network ${n.name} id ${n.id} has active endpoints (${eps.items.length} on ${hosts.size} host${hosts.size === 1 ? '' : 's'})`);
    }
    const res = await this.cluster.store.txn(
      `remove network ${n.name}`,
      [
        { key: Buffer.from(keys.network(n.id)), target: 'Create', result: 'Greater', create_revision: 0 },
        { key: Buffer.from(keys.joins(n.id)), target: 'Mod', result: 'Less', mod_revision: (BigInt(eps.revision) + 1n).toString() },
      ],
      [
        { request_delete_range: { key: Buffer.from(keys.network(n.id)) } },
        { request_delete_range: { key: Buffer.from(keys.name(n.name)) } },
        ...vniKeys(n),
        { request_delete_range: { key: Buffer.from(keys.subnet(n.ipamConfig[0].subnet)) } },
        { request_delete_range: { key: Buffer.from(keys.joins(n.id)) } },
        { request_delete_range: { key: Buffer.from(keys.addressCursor(n.id)) } },
      ],
      [{ request_range: { key: Buffer.from(keys.network(n.id)), count_only: true } }],
    );
    if (!res.succeeded) {
      const exists = Number(res.responses[0]?.response_range?.count ?? 0) > 0;
      if (exists) throw new ForbiddenError(`error while removing network: network ${n.name} id ${n.id} has active endpoints (one joined just now)`);
      this.log(`network ${n.name}: already removed from the cluster store by another host`);
    }
    if (this.state.networks.has(n.id)) await this.networks.takeDown(n);
  }

  /** The network's IPv4 subnet: the one asked for, checked against every network, or the first free default. */
  private async subnet(cfg: IpamConfigRecord | undefined, others: NetworkRecord[], lost: string[] = []): Promise<IpamConfigRecord> {
    if ((cfg?.gateway || cfg?.ipRange) && !cfg.subnet) throw new InvalidParameterError('every ip-range or gateway must have a corresponding subnet');
    const local = [...this.state.networks.values()].filter((n) => n.scope !== 'global');
    const taken = [
      ...others.flatMap((o) => o.ipamConfig.map((c) => ({ subnet: c.subnet, what: `overlay network ${o.name}` }))),
      ...local.flatMap((o) => o.ipamConfig.filter((c) => !c.subnet.includes(':')).map((c) => ({ subnet: c.subnet, what: `network ${o.name} on this host` }))),
    ];
    let subnet: string;
    if (cfg?.subnet) {
      checkUsableSubnet(cfg.subnet);
      if (cfg.subnet.includes(':')) throw new InvalidParameterError(`invalid subnet ${cfg.subnet}: overlay networks are IPv4 only in berth`);
      subnet = canonicalCidr(cfg.subnet);
      const clash = taken.find((t) => cidrOverlaps(t.subnet, subnet));
      if (clash) throw new ConflictError(`invalid pool request: subnet ${subnet} overlaps with ${clash.what} (${clash.subnet})`);
    } else {
      const routes = routedSubnets(await this.kernel.listRoutes(), [4]);
      subnet = findFreeDefaultPool(GLOBAL_DEFAULT_POOLS, [...routeObstacles(routes, 'host route'), ...routeObstacles([...taken.map((t) => t.subnet), ...lost], 'network pool')]);
    }
    const out: IpamConfigRecord = { subnet, gateway: cfg?.gateway ?? firstHost(subnet) };
    if (!cidrContains(subnet, out.gateway!)) throw new InvalidParameterError(`no matching subnet for gateway ${out.gateway}`);
    if (cfg?.ipRange) {
      if (!cidrInside(cfg.ipRange, subnet)) throw new InvalidParameterError(`ip-range ${cfg.ipRange} is not inside subnet ${subnet}`);
      out.ipRange = canonicalCidr(cfg.ipRange);
    }
    const aux = Object.entries(cfg?.auxAddresses ?? {});
    for (const [, a] of aux) if (!cidrContains(subnet, a)) throw new InvalidParameterError(`no matching subnet for aux-address ${a}`);
    if (aux.length) out.auxAddresses = Object.fromEntries(aux);
    return out;
  }

  /** The cluster's other hosts, as their records in the store say now. */
  private async otherHosts(): Promise<ClusterHostView[]> {
    const listing = await this.cluster.store.list(keys.hosts);
    return listing.items
      .map((kv) => ({ id: lastSegment(kv.key), record: JSON.parse(kv.value) as HostRecord }))
      .filter((h) => h.id !== this.cluster.hostId)
      .map((h) => ({ id: h.id, address: advertiseIp(h.record.advertise), hostname: h.record.hostname }));
  }

  private async unclaim(n: NetworkRecord): Promise<void> {
    await this.cluster.store.txn(`undo network ${n.name}`, [], [
      { request_delete_range: { key: Buffer.from(keys.network(n.id)) } },
      { request_delete_range: { key: Buffer.from(keys.name(n.name)) } },
      ...vniKeys(n),
      { request_delete_range: { key: Buffer.from(keys.subnet(n.ipamConfig[0].subnet)) } },
    ]);
  }

  // ---- following the store ---------------------------------------------------------

  private async reconcile(all: StoredKey[]): Promise<void> {
    const records = all.map((kv) => JSON.parse(kv.value) as NetworkRecord);
    const ids = new Set(records.map((r) => r.id));
    for (const n of [...this.state.networks.values()]) if (n.scope === 'global' && !ids.has(n.id)) await this.departed(n.id);
    for (const r of records) await this.make(r);
  }

  private arrived(kv: StoredKey): Promise<void> {
    return this.make(JSON.parse(kv.value) as NetworkRecord);
  }

  /** A network of the store made here, unless it is here already or clashes with this host's own. */
  private async make(r: NetworkRecord): Promise<void> {
    if (this.state.networks.has(r.id) || this.creating.has(r.id)) return;
    const clash = this.networks.byName(r.name);
    if (clash) return this.log(`${r.driver} network ${r.name} (${r.id.slice(0, 12)}) not made on this host: network ${clash.id.slice(0, 12)} here has that name`);
    try {
      await this.networks.adopt(r);
    } catch (err) {
      this.log(`${r.driver} network ${r.name} (${r.id.slice(0, 12)}) not made on this host: ${(err as Error).message}`);
    }
  }

  private async departed(id: string): Promise<void> {
    const n = this.state.networks.get(id);
    if (!n || n.scope !== 'global') return;
    const eps = this.state.endpointsOf({ networkId: id });
    if (eps.length) {
      // a stopped container keeps its endpoint too: its start says the network is gone from the cluster
      this.log(`overlay network ${n.name} was removed from the cluster store, but ${eps.length} container(s) here are still connected to it: kept until they are removed or disconnected`);
      this.state.whenNetworkEmpty(id, () => void this.departed(id));
      return;
    }
    await this.networks.takeDown(n).catch((err: Error) => this.log(`overlay network ${n.name}: ${err.message}`));
  }
}

function vniOf(n: NetworkRecord): number {
  return Number(n.options[OVERLAY_OPT.vni]);
}

/** The delete of the network's VNI claim, when it has one (an overlay's, not a plugin's). */
function vniKeys(n: NetworkRecord): { request_delete_range: { key: Buffer } }[] {
  return n.options[OVERLAY_OPT.vni] === undefined ? [] : [{ request_delete_range: { key: Buffer.from(keys.vni(vniOf(n))) } }];
}

/** The lowest VNI from FIRST_VNI that no network of the store holds, skipping `skip` more (lost races: the claim settles them). */
function freeVni(others: NetworkRecord[], skip = 0): number {
  const taken = new Set(others.filter((o) => o.options[OVERLAY_OPT.vni] !== undefined).map(vniOf));
  for (let v = FIRST_VNI; v <= MAX_VNI; v++) if (!taken.has(v) && skip-- <= 0) return v;
  throw new ConflictError('no free VNI left in the cluster');
}
