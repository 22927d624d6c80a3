import type { DriverCaps, DriverNetwork, NetworkDriver } from '../driverapi/contract.js';
import type { DriverRegistry } from '../driverapi/registry.js';
import type { Ipam } from '../ipam/types.js';
import type { RemoteIpam } from '../ipam/remote.js';
import { checkUsableSubnet } from '../ipam/special-subnets.js';
import { routedSubnets } from '../kernel/routed-subnets.js';
import type { Kernel } from '../kernel/types.js';
import type { IpamConfigRecord, NetworkRecord } from '../store/records.js';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from '../util/errors.js';
import { anyCidrContains, checkAddressOf, familyOf, type IpFamily } from '../util/ip-family.js';
import { newId, validateNetworkName } from '../util/names.js';
import type { State } from './state.js';
import { crashPoint } from './crash-points.js';
import type { EventBus } from './events.js';
import type { Observers } from './observer.js';
import type { GlobalNetworks } from './global-networks.js';

// Networks: create, remove, list, prune. Everything that can be checked is checked
// before the first kernel change; a failure after it undoes what was made.

export const PREDEFINED = ['bridge', 'host', 'none'] as const;

export interface NetworkCreateRequest {
  name: string;
  driver?: string;
  internal?: boolean;
  attachable?: boolean;
  enableIPv6?: boolean;
  /** Docker 28's EnableIPv4: false makes an IPv6-only network (absent: true) */
  enableIPv4?: boolean;
  ipamDriver?: string;
  ipamConfig?: IpamConfigRecord[];
  ipamOptions?: Record<string, string> | null;
  options?: Record<string, string>;
  labels?: Record<string, string>;
}

/** One family's part of a create request, checked and split out of IPAM.Config. */
export interface FamilyRequest { family: IpFamily; cfg?: IpamConfigRecord }

export class NetworkService {
  /** networks of scope global, with --cluster-store (set by the controller) */
  global: GlobalNetworks | undefined;
  /** IPAM pool id of each network's IPv4 subnet (rebuilt at start-up by replay) */
  private readonly pools = new Map<string, string>();
  /** … and of its IPv6 subnet, on a network with IPv6 enabled */
  private readonly pools6 = new Map<string, string>();
  /** global networks whose `network rm` is asking the cluster store */
  private readonly removing = new Set<string>();
  /** IPAM plugins (`--ipam-driver NAME`), set by the controller */
  remoteIpam: RemoteIpam | undefined;
  /** names of networks being made whose IPAM plugin is being asked (a create that awaits checks these too) */
  private readonly pendingNames = new Set<string>();

  constructor(
    private readonly state: State,
    private readonly drivers: DriverRegistry,
    private readonly ipam: Ipam,
    private readonly kernel: Kernel,
    private readonly events: EventBus,
    private readonly observers: Observers,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /** The network is here and no removal of it is under way: an endpoint may be made on it. */
  checkJoinable(n: NetworkRecord): void {
    if (!this.state.networks.has(n.id) || this.removing.has(n.id)) throw new NotFoundError(`network ${n.name} not found (it is being removed)`);
  }

  driverOf(n: NetworkRecord): NetworkDriver {
    return this.drivers.find(n.driver);
  }

  capsOf(n: NetworkRecord): DriverCaps {
    return this.driverOf(n).caps;
  }

  /** What the network's driver sees of it. */
  view(n: NetworkRecord): DriverNetwork<unknown> {
    return { id: n.id, name: n.name, internal: n.internal, builtin: n.builtin, subnets: n.ipamConfig, config: n.driverConfig };
  }

  /** The networks of one driver, as it sees them. */
  viewsOf(driver: NetworkDriver): DriverNetwork<unknown>[] {
    return [...this.state.networks.values()].filter((n) => n.driver === driver.name).map((n) => this.view(n));
  }

  /** The network's IPv4 pool (where endpoints get their IPv4 address), unless it is IPv6-only. */
  poolOf(n: NetworkRecord): string | undefined {
    return this.pools.get(n.id);
  }

  /** The network's IPv6 pool, if IPv6 is enabled on it. */
  pool6Of(n: NetworkRecord): string | undefined {
    return this.pools6.get(n.id);
  }

  /** Re-makes a stored network in the kernel and tells the observers (start-up). */
  async restore(n: NetworkRecord): Promise<void> {
    // a plugin that is down now holds the start up by one deadline, not for ever; its containers' addresses are its own to recall
    await this.replayRemote(n).catch((err: Error) => this.log(`network ${n.name}: IPAM plugin ${n.ipamDriver} not replayed: ${err.message}`));
    const driver = this.driverOf(n);
    await (driver.restoreNetwork ? driver.restoreNetwork(this.view(n)) : driver.createNetwork(this.view(n)));
    await this.observers.networkUp(n);
  }

  /** Re-reserves a stored network's pool and gateway in IPAM (start-up replay); an IPAM plugin keeps its own. */
  replay(n: NetworkRecord): void {
    if (isRemoteIpam(n)) return;
    for (const cfg of n.ipamConfig) {
      const pool = this.ipam.requestPool({ pool: cfg.subnet, subPool: cfg.ipRange });
      (familyOf(cfg.subnet) === 6 ? this.pools6 : this.pools).set(n.id, pool.id);
      if (cfg.gateway && this.capsOf(n).reservesGateway) this.ipam.requestAddress(pool.id, { address: cfg.gateway, gateway: true });
      for (const a of Object.values(cfg.auxAddresses ?? {})) this.ipam.requestAddress(pool.id, { address: a });
    }
  }

  async create(req: NetworkCreateRequest, opts: { builtin?: boolean; id?: string } = {}): Promise<NetworkRecord> {
    // a plugin's driver is found and activated first (Docker's 404 when there is none)
    await this.drivers.resolve(req.driver || 'bridge');
    const remoteIpam = !!req.ipamDriver && req.ipamDriver !== 'default';
    // activated first, as the driver: "not found", or "does not implement IpamDriver"
    if (remoteIpam) await this.remote().capabilities(req.ipamDriver!);
    const global = this.globalDriver(req);
    if (global && remoteIpam) throw new InvalidParameterError(`IPAM plugin ${req.ipamDriver}: berth runs IPAM plugins for networks of scope local only (${global.name} is global); leave --ipam-driver out`);
    if (global) {
      if (!this.global) throw new InvalidParameterError(`${global.name} networks need a cluster store: start berthd with --cluster-store etcd://HOST:2379 and --cluster-advertise IFACE|IP`);
      return this.global.create(req, global);
    }
    const explicit = (req.ipamConfig ?? []).filter((c) => c.subnet).map((c) => familyOf(c.subnet));
    const wanted = [...(req.enableIPv4 === false ? [] : [4]), ...(req.enableIPv6 ? [6] : [])];
    const picksDefault = wanted.some((f) => !explicit.includes(f as IpFamily));
    const routes = picksDefault ? routedSubnets(await this.kernel.listRoutes(), wanted as IpFamily[]) : [];
    const record = this.reserve(req, routes, opts);
    const driver = this.driverOf(record);
    try {
      if (isRemoteIpam(record)) await this.requestRemotePools(record, splitFamilies(req));
      await driver.checkNew?.(this.view(record), this.viewsOf(driver));
    } catch (err) {
      await this.releaseAddressing(record);
      throw err;
    } finally {
      this.pendingNames.delete(record.name);
    }
    this.state.saveNetwork(record);
    crashPoint('network-create.recorded');
    try {
      await driver.createNetwork(this.view(record));
      await this.observers.networkUp(record);
    } catch (err) {
      await this.undo(record);
      throw err;
    }
    this.events.publish('network', 'create', record.id, { name: record.name, type: record.driver });
    return record;
  }

  /** The driver of a request for a network of scope global, after the checks every network passes; undefined for a local one. */
  private globalDriver(req: NetworkCreateRequest): NetworkDriver | undefined {
    const driver = this.drivers.get(req.driver || 'bridge');
    if (driver?.caps.scope !== 'global') return undefined;
    if ([...PREDEFINED, 'default'].includes(req.name)) throw new ForbiddenError(`operation is not permitted on predefined ${req.name} network `);
    validateNetworkName(req.name);
    if (this.byName(req.name)) throw new ConflictError(`network with name ${req.name} already exists`);
    return driver;
  }

  /**
   * A network made by another path than create (a global network, from the cluster
   * store): its pool reserved, recorded, made in the kernel. On failure nothing is left.
   */
  async adopt(n: NetworkRecord): Promise<void> {
    // a plugin's driver is found and activated first: a host without the plugin keeps out
    await this.drivers.resolve(n.driver);
    this.replay(n);
    this.state.saveNetwork(n);
    try {
      await this.driverOf(n).createNetwork(this.view(n));
      await this.observers.networkUp(n);
    } catch (err) {
      await this.undo(n);
      throw err;
    }
    this.events.publish('network', 'create', n.id, { name: n.name, type: n.driver });
  }

  /** All synchronous checks and reservations, so two concurrent creates cannot both pass. */
  private reserve(req: NetworkCreateRequest, routes: string[], opts: { builtin?: boolean; id?: string }): NetworkRecord {
    const name = req.name;
    const driverName = req.driver || 'bridge';
    // "default" is refused too: it means the default network in NetworkMode (dockerd's
    // message, trailing space and all)
    if (!opts.builtin && [...PREDEFINED, 'default'].includes(name)) {
      throw new ForbiddenError(`operation is not permitted on predefined ${name} network `);
    }
    validateNetworkName(name);
    const driver = this.drivers.get(driverName);
    if (!driver) throw new NotFoundError(`plugin "${driverName}" not found`);
    if (this.byName(name) || this.pendingNames.has(name)) throw new ConflictError(`network with name ${name} already exists`);
    if (!driver.caps.multiInstance && [...this.state.networks.values()].some((n) => n.driver === driverName)) {
      throw new ForbiddenError(`only one instance of "${driverName}" network is allowed`);
    }
    const families = splitFamilies(req);
    const id = opts.id ?? newId();
    const options = req.options ?? {};
    const builtin = !!opts.builtin;
    const driverConfig = driver.parseConfig({ id, name, internal: !!req.internal, builtin, options });
    const record: NetworkRecord = {
      id,
      name,
      driver: driverName,
      scope: driver.caps.scope,
      created: new Date().toISOString(),
      internal: !!req.internal,
      attachable: !!req.attachable,
      enableIPv6: !!req.enableIPv6,
      ipamDriver: req.ipamDriver || 'default',
      ipamConfig: [],
      ipamOptions: req.ipamOptions === undefined ? {} : req.ipamOptions,
      options,
      labels: req.labels ?? {},
      builtin,
      driverConfig,
    };
    if (req.enableIPv4 === false) record.enableIPv4 = false;
    if (!driver.caps.ipam) return record;
    // the plugin's pools are asked for after this (asynchronously): the name is held meanwhile
    if (isRemoteIpam(record)) {
      this.pendingNames.add(name);
      return record;
    }
    // IPv4 first, as dockerd lists them; a failure on the second family gives the first back
    try {
      for (const f of families) record.ipamConfig.push(this.allocatePool(record.id, f, routes, driver.caps.reservesGateway));
    } catch (err) {
      this.releasePool(record);
      throw err;
    }
    return record;
  }

  private allocatePool(networkId: string, { family, cfg }: FamilyRequest, routes: string[], reserveGateway: boolean): IpamConfigRecord {
    checkSubnetGiven(cfg);
    if (cfg?.subnet) checkUsableSubnet(cfg.subnet);
    const pool = this.ipam.requestPool({ pool: cfg?.subnet, subPool: cfg?.ipRange, exclude: routes, v6: family === 6 });
    try {
      if (cfg?.gateway) {
        checkAddressOf(family, cfg.gateway);
        if (!anyCidrContains(pool.subnet, cfg.gateway)) {
          throw new InvalidParameterError(`no matching subnet for gateway ${cfg.gateway}`);
        }
      }
      const gateway = reserveGateway ? this.ipam.requestAddress(pool.id, { address: cfg?.gateway, gateway: true }) : cfg?.gateway;
      const aux: Record<string, string> = {};
      for (const [k, a] of Object.entries(cfg?.auxAddresses ?? {})) {
        if (!anyCidrContains(pool.subnet, a)) throw new InvalidParameterError(`no matching subnet for aux-address ${a}`);
        aux[k] = this.ipam.requestAddress(pool.id, { address: a });
      }
      (family === 6 ? this.pools6 : this.pools).set(networkId, pool.id);
      const out: IpamConfigRecord = { subnet: pool.subnet };
      if (gateway) out.gateway = gateway;
      if (pool.subPool) out.ipRange = pool.subPool;
      if (Object.keys(aux).length) out.auxAddresses = aux;
      return out;
    } catch (err) {
      this.ipam.releasePool(pool.id);
      throw err;
    }
  }

  private async undo(n: NetworkRecord): Promise<void> {
    await this.observers.networkDown(n);
    await this.driverOf(n).deleteNetwork(this.view(n)).catch(() => undefined);
    await this.releaseAddressing(n);
    this.state.dropNetwork(n.id);
  }

  private remote(): RemoteIpam {
    if (!this.remoteIpam) throw new InvalidParameterError('IPAM plugins are not available in this berthd');
    return this.remoteIpam;
  }

  /**
   * A network's pools from its IPAM plugin, in dockerd's order: per family (IPv4, then
   * IPv6) RequestPool, then RequestAddress for the gateway and for each aux address. The
   * record holds each as soon as it is given, so releaseRemote gives back exactly that.
   */
  private async requestRemotePools(record: NetworkRecord, families: FamilyRequest[]): Promise<void> {
    const name = record.ipamDriver;
    record.ipamPools = {};
    if ((await this.remote().capabilities(name)).requiresReplay) record.ipamReplay = true;
    for (const { family, cfg } of families) {
      checkSubnetGiven(cfg);
      if (cfg?.gateway) checkAddressOf(family, cfg.gateway);
      const pool = await this.remote().requestPool(name, { pool: cfg?.subnet, subPool: cfg?.ipRange, options: record.ipamOptions ?? {}, v6: family === 6 });
      if (familyOf(pool.subnet.split('/')[0]!) !== family) {
        record.ipamPools[family === 6 ? 'v6' : 'v4'] = pool.id;
        throw new InvalidParameterError(`IPAM plugin ${name} answered RequestPool for IPv${family} with ${pool.subnet}`);
      }
      record.ipamPools[family === 6 ? 'v6' : 'v4'] = pool.id;
      const out: IpamConfigRecord = { subnet: pool.subnet };
      record.ipamConfig.push(out);
      if (cfg?.ipRange) out.ipRange = cfg.ipRange;
      out.gateway = plain(await this.remote().requestAddress(name, pool.id, cfg?.gateway ?? '', { gateway: true }));
      for (const [k, a] of Object.entries(cfg?.auxAddresses ?? {})) {
        const got = plain(await this.remote().requestAddress(name, pool.id, a));
        out.auxAddresses = { ...out.auxAddresses, [k]: got };
      }
    }
  }

  /** What the plugin gave the network, back in dockerd's order: gateway, aux addresses, pool; a plugin that fails is logged. */
  private async releaseRemote(n: NetworkRecord): Promise<void> {
    const name = n.ipamDriver;
    const said = (err: Error) => this.log(`network ${n.name}: IPAM plugin ${name}: ${err.message}`);
    for (const [key, poolId] of Object.entries(n.ipamPools ?? {}) as ['v4' | 'v6', string][]) {
      const cfg = n.ipamConfig.find((c) => (familyOf(c.subnet.split('/')[0]!) === 6) === (key === 'v6'));
      for (const a of [cfg?.gateway, ...Object.values(cfg?.auxAddresses ?? {})]) if (a) await this.remote().releaseAddress(name, poolId, a).catch(said);
      await this.remote().releasePool(name, poolId).catch(said);
    }
  }

  /**
   * After a daemon restart, for a plugin that keeps no state (RequiresRequestReplay): the
   * network's pools and gateways asked for again, as libnetwork replays them; the pool
   * ids it answers with are the record's from now on.
   */
  private async replayRemote(n: NetworkRecord): Promise<void> {
    if (!isRemoteIpam(n) || !n.ipamReplay) return;
    const pools: NetworkRecord['ipamPools'] = {};
    for (const cfg of n.ipamConfig) {
      const v6 = familyOf(cfg.subnet.split('/')[0]!) === 6;
      const pool = await this.remote().requestPool(n.ipamDriver, { pool: cfg.subnet, subPool: cfg.ipRange, options: n.ipamOptions ?? {}, v6 });
      pools[v6 ? 'v6' : 'v4'] = pool.id;
      if (cfg.gateway) await this.remote().requestAddress(n.ipamDriver, pool.id, cfg.gateway, { gateway: true });
    }
    n.ipamPools = pools;
    this.state.saveNetwork(n);
  }

  /** The network's addresses and pools given back: to berth's allocator, or to its IPAM plugin. */
  private async releaseAddressing(n: NetworkRecord): Promise<void> {
    if (isRemoteIpam(n)) await this.releaseRemote(n);
    else this.releasePool(n);
  }

  /**
   * Every driver's predefined network (bridge, host, none) exists from the first start on,
   * shaped by the daemon's flags; one whose shape changed is made again, if no container
   * is attached to it.
   */
  async ensurePredefined(): Promise<void> {
    for (const driver of this.drivers.all()) {
      const name = driver.predefinedName;
      if (!name || !driver.predefined) continue;
      const existing = this.byName(name);
      const takenSubnets = [...this.state.networks.values()].filter((n) => n.name !== name).flatMap((n) => n.ipamConfig.map((c) => c.subnet));
      const wanted = await driver.predefined({ existing: existing && this.view(existing), takenSubnets });
      if (!wanted) continue;
      if (existing) await this.replacePredefined(existing, wanted.subnets?.[0]?.subnet ?? '');
      await this.create({ name, driver: driver.name, ipamConfig: wanted.subnets, enableIPv6: wanted.enableIPv6, options: wanted.options }, { builtin: true });
    }
  }

  private async replacePredefined(existing: NetworkRecord, subnet: string): Promise<void> {
    if (this.state.endpointsOf({ networkId: existing.id }).length) {
      throw new InvalidParameterError(`the ${existing.name} network's settings changed (${subnet}) but containers are still attached to it; remove them first`);
    }
    this.state.dropNetwork(existing.id);
    await this.driverOf(existing).deleteNetwork(this.view(existing)).catch(() => undefined);
    await this.releaseAddressing(existing);
  }

  private releasePool(n: NetworkRecord): void {
    for (const pools of [this.pools, this.pools6]) {
      const pool = pools.get(n.id);
      if (pool) this.ipam.releasePool(pool);
      pools.delete(n.id);
    }
  }

  byName(name: string): NetworkRecord | undefined {
    for (const n of this.state.networks.values()) if (n.name === name) return n;
    return undefined;
  }

  async remove(term: string): Promise<void> {
    const n = this.state.findNetwork(term);
    if (n.builtin) throw new ForbiddenError(`${n.name} is a pre-defined network and cannot be removed`);
    const eps = this.state.endpointsOf({ networkId: n.id });
    if (eps.length) throw new ForbiddenError(`error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    if (n.scope === 'global') {
      if (!this.global) throw new InvalidParameterError(`network ${n.name} is an overlay network and this berthd has no cluster store (--cluster-store) to remove it from`);
      // the store is asked first: no endpoint may join here meanwhile (a local removal checks and drops in one step)
      this.removing.add(n.id);
      try {
        return await this.global.remove(n);
      } finally {
        this.removing.delete(n.id);
      }
    }
    await this.takeDown(n);
  }

  /** Removes a network from this host, whatever removed it from the cluster (no checks: the caller made them). */
  async takeDown(n: NetworkRecord): Promise<void> {
    // the record goes first (no new endpoint can join meanwhile); the intent keeps it, so a
    // crash before the driver is done still deletes what the driver made
    await this.state.journal.run({ op: 'network.remove', network: n }, async () => {
      this.state.dropNetwork(n.id);
      crashPoint('network-remove.dropped');
      if (!isRemoteIpam(n)) this.releasePool(n);
      await this.observers.networkDown(n);
      await this.driverOf(n).deleteNetwork(this.view(n));
      // after the driver, as dockerd: the plugin's addresses are free once nothing uses them
      if (isRemoteIpam(n)) await this.releaseRemote(n);
    });
    this.events.publish('network', 'destroy', n.id, { name: n.name, type: n.driver });
  }

  /** A removal cut by a crash (start-up, before the networks are restored): finished from the record its intent kept. */
  async settleRemove(n: NetworkRecord): Promise<void> {
    if (this.state.networks.has(n.id)) return this.remove(n.id);
    await this.driverOf(n).deleteNetwork(this.view(n));
    if (isRemoteIpam(n)) await this.releaseRemote(n);
  }

  /** Removes every user network without endpoints; returns the removed names. */
  async prune(match: (n: NetworkRecord) => boolean = () => true): Promise<string[]> {
    const removed: string[] = [];
    for (const n of [...this.state.networks.values()]) {
      // a global network is the cluster's: a prune on one host leaves it (Docker's classic mode did the same)
      if (n.builtin || n.scope === 'global' || !match(n) || this.state.endpointsOf({ networkId: n.id }).length) continue;
      await this.remove(n.id);
      removed.push(n.name);
    }
    return removed;
  }
}

/**
 * IPAM.Config split by family, in dockerd's order (IPv4, then IPv6), each family at most
 * once, each present only when enabled: a family enabled without a config gets one from
 * the default pools. A config without a subnet (gateway or ip-range alone) counts as IPv4.
 */
export function splitFamilies(req: NetworkCreateRequest): FamilyRequest[] {
  const v4 = req.enableIPv4 !== false;
  const v6 = !!req.enableIPv6;
  if (!v4 && !v6) throw new InvalidParameterError('IPv4 or IPv6 must be enabled');
  const byFamily: Record<IpFamily, IpamConfigRecord[]> = { 4: [], 6: [] };
  for (const c of req.ipamConfig ?? []) byFamily[c.subnet ? familyOf(c.subnet) : 4].push(c);
  if (byFamily[4].length > 1) throw new InvalidParameterError('berth supports one IPv4 subnet per network');
  if (byFamily[6].length > 1) throw new InvalidParameterError('berth supports one IPv6 subnet per network');
  const [c4] = byFamily[4];
  const [c6] = byFamily[6];
  if (c6 && !v6) throw new InvalidParameterError(`invalid subnet ${c6.subnet}: an IPv6 subnet needs IPv6 enabled on the network (EnableIPv6, --ipv6)`);
  if (c4 && !v4) throw new InvalidParameterError(`invalid subnet ${c4.subnet || '(none)'}: IPv4 is disabled on this network (EnableIPv4 false, --ipv4=false)`);
  const out: FamilyRequest[] = [];
  if (v4) out.push({ family: 4, cfg: c4 });
  if (v6) out.push({ family: 6, cfg: c6 });
  return out;
}

/** An ip-range or a gateway is in a subnet: one without the other is a mistake (dockerd's words). */
function checkSubnetGiven(cfg: IpamConfigRecord | undefined): void {
  if ((cfg?.ipRange || cfg?.gateway) && !cfg.subnet) throw new InvalidParameterError('every ip-range or gateway must have a corresponding subnet');
}

/** The network's addresses are an IPAM plugin's, not berth's allocator's. */
export function isRemoteIpam(n: Pick<NetworkRecord, 'ipamDriver'>): boolean {
  return !!n.ipamDriver && n.ipamDriver !== 'default';
}

/** "10.0.0.1/24" → "10.0.0.1" */
function plain(cidr: string): string {
  return cidr.split('/')[0]!;
}
