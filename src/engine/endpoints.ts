import { randomBytes } from 'node:crypto';
import type { Ipam } from '../ipam/types.js';
import { ipv4Of, ipv6Of, staticIpv4Of, staticIpv6Of, type ContainerRecord, type EndpointRecord, type NetworkRecord } from '../store/records.js';
import { ConflictError, InvalidParameterError } from '../util/errors.js';
import { cidrContains, isValidMac, macFromIp } from '../util/ip.js';
import { anyCidrContains, familyOf } from '../util/ip-family.js';
import { canonicalIPv6, isIPv6 } from '../util/ip6.js';
import { checkLinkLocalIps } from '../util/link-local.js';
import { newId } from '../util/names.js';
import { isUserDefined } from './container-files.js';
import { checkWord } from './file-values.js';
import { crashPoint } from './crash-points.js';
import { viewOf } from './endpoint-view.js';
import { isRemoteIpam, type NetworkService } from './networks.js';
import type { Observers } from './observer.js';
import type { GlobalEndpoints } from './global-endpoints.js';
import type { State } from './state.js';

// Endpoints: what a container asked of each network (--ip, --mac-address, aliases, links),
// checked when asked, and what it holds while it runs (addresses from IPAM, its interface
// names). Nothing here touches the kernel: sandbox.ts does.

export interface EndpointRequest {
  ipv4?: string;
  /** --ip6 / IPAMConfig.IPv6Address */
  ipv6?: string;
  mac?: string;
  linkLocalIps?: string[];
  driverOpts?: Record<string, string>;
  aliases?: string[];
  links?: string[];
}

export class EndpointService {
  /** endpoints of global networks, with --cluster-store (set by the controller) */
  global: GlobalEndpoints | undefined;

  constructor(
    private readonly state: State,
    private readonly networks: NetworkService,
    private readonly ipam: Ipam,
    private readonly observers: Observers,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /** A new endpoint record of a container on a network; every setting checked, nothing reserved yet. */
  create(containerId: string, net: NetworkRecord, r: EndpointRequest): EndpointRecord {
    // a connect looked the network up before it waited for the container's lock
    this.networks.checkJoinable(net);
    this.checkRoom(net, containerId);
    if (r.ipv4) this.checkStaticIp(net, r.ipv4, containerId);
    if (r.ipv6) this.checkStaticIp6(net, r.ipv6, containerId);
    if (r.mac && !isValidMac(r.mac)) throw new InvalidParameterError(`invalid MAC address: ${r.mac}`);
    // the kernel refuses a multicast one, but only when the interface is made: say so now
    if (r.mac && (parseInt(r.mac.slice(0, 2), 16) & 1) === 1) throw new InvalidParameterError(`invalid MAC address: ${r.mac} is a multicast address`);
    const linkLocalIps = (r.linkLocalIps ?? []).filter((ip) => ip !== '');
    checkLinkLocalIps(linkLocalIps);
    const aliases = r.aliases ?? [];
    for (const a of aliases) checkWord('network alias', a);
    if (aliases.length && !isUserDefined(net)) throw new InvalidParameterError('network-scoped alias is supported only for containers in user defined networks');
    return {
      id: newId(),
      networkId: net.id,
      containerId,
      ifName: '',
      linkName: '',
      addresses: [],
      mac: '',
      staticIps: r.ipv4 || r.ipv6 ? [r.ipv4, r.ipv6 && canonicalIPv6(r.ipv6)].filter((a): a is string => !!a) : undefined,
      staticMac: r.mac || undefined,
      linkLocalIps: linkLocalIps.length ? linkLocalIps : undefined,
      driverOpts: r.driverOpts && Object.keys(r.driverOpts).length ? r.driverOpts : undefined,
      aliases,
      links: r.links ?? [],
      created: new Date().toISOString(),
    };
  }

  /** The driver's limit (a bridge's 1,023 ports, a point-to-point link's two ends), said before anything is made. */
  private checkRoom(net: NetworkRecord, containerId: string): void {
    const caps = this.networks.capsOf(net);
    const driver = this.networks.driverOf(net);
    const limit = driver.endpointLimit ? driver.endpointLimit(this.networks.view(net)) : caps.maxEndpoints === undefined ? undefined : { max: caps.maxEndpoints };
    if (!limit) return;
    const { max, hint } = limit;
    const others = this.state.endpointsOf({ networkId: net.id }).filter((e) => e.containerId !== containerId);
    if (others.length >= max) {
      throw new ConflictError(`network ${net.name} is full: a ${net.driver} network holds at most ${max} ${max === 1 ? 'container' : 'containers'}${hint ? ` (${hint})` : ''}`);
    }
  }

  private checkStaticIp(net: NetworkRecord, ip: string, containerId: string): void {
    if (!isUserDefined(net)) throw new InvalidParameterError('user specified IP address is supported on user defined networks only');
    const cfg = net.ipamConfig.find((c) => familyOf(c.subnet) === 4);
    // an IPv6-only network has no IPv4 subnet to take it from (dockerd's words)
    if (!cfg && net.ipamConfig.length) throw new InvalidParameterError('user specified IP address is supported only when connecting to networks with user configured subnets');
    if (!cfg || !cidrContains(cfg.subnet, ip)) throw new InvalidParameterError(`invalid address ${ip}: it does not belong to any of this network's subnets (${cfg?.subnet ?? 'none'})`);
    if (ip === cfg.gateway && this.networks.capsOf(net).reservesGateway) throw new ConflictError(`Address already in use: ${ip} is the gateway of network ${net.name}`);
    for (const ep of this.state.endpointsOf({ networkId: net.id })) {
      if (ep.containerId !== containerId && (ipv4Of(ep) === ip || staticIpv4Of(ep) === ip)) {
        const owner = this.state.containers.get(ep.containerId)?.name ?? ep.containerId.slice(0, 12);
        throw new ConflictError(`Address already in use: ${ip} on network ${net.name} is taken by container ${owner}`);
      }
    }
  }

  /** --ip6: on a network with IPv6, inside its IPv6 subnet, not another container's. */
  private checkStaticIp6(net: NetworkRecord, ip: string, containerId: string): void {
    const cfg = net.ipamConfig.find((c) => familyOf(c.subnet) === 6);
    if (!isUserDefined(net) || !cfg) throw new InvalidParameterError('user specified IP address is supported only when connecting to networks with user configured subnets');
    if (!isIPv6(ip)) throw new InvalidParameterError(`invalid IPv6 address: ${ip}`);
    if (!anyCidrContains(cfg.subnet, ip)) throw new InvalidParameterError(`invalid address ${ip}: it does not belong to any of this network's subnets (${cfg.subnet})`);
    const wanted = canonicalIPv6(ip);
    // as for IPv4: only a driver that keeps the gateway back (a ptp end may hold it)
    if (cfg.gateway && wanted === canonicalIPv6(cfg.gateway) && this.networks.capsOf(net).reservesGateway) throw new ConflictError(`Address already in use: ${ip} is the gateway of network ${net.name}`);
    for (const ep of this.state.endpointsOf({ networkId: net.id })) {
      if (ep.containerId !== containerId && (ipv6Of(ep) === wanted || staticIpv6Of(ep) === wanted)) {
        const owner = this.state.containers.get(ep.containerId)?.name ?? ep.containerId.slice(0, 12);
        throw new ConflictError(`Address already in use: ${ip} on network ${net.name} is taken by container ${owner}`);
      }
    }
  }

  /**
   * Reserves the endpoint's addresses (one per family the network has) and names its
   * interfaces (nothing in the kernel yet). A global network's address comes from the
   * cluster store, with the endpoint's record there.
   */
  async assign(net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    const driver = this.networks.driverOf(net);
    if (!driver.caps.ipam) return;
    if (net.scope === 'global') return this.assignGlobal(net, ep);
    if (isRemoteIpam(net)) return this.assignRemote(net, ep);
    const pool = this.networks.poolOf(net);
    const pool6 = this.networks.pool6Of(net);
    if (!pool && !pool6) throw new InvalidParameterError(`network ${net.name} has no address pool`);
    const ip = pool ? this.ipam.requestAddress(pool, { address: staticIpv4Of(ep) }) : undefined;
    let ip6: string | undefined;
    try {
      ip6 = pool6 ? this.ipam.requestAddress(pool6, { address: staticIpv6Of(ep) }) : undefined;
    } catch (err) {
      if (pool && ip) this.ipam.releaseAddress(pool, ip);
      throw err;
    }
    const cfg4 = net.ipamConfig.find((c) => familyOf(c.subnet) === 4);
    const cfg6 = net.ipamConfig.find((c) => familyOf(c.subnet) === 6);
    ep.addresses = [...(ip && cfg4 ? [`${ip}/${prefixOf(cfg4.subnet)}`] : []), ...(ip6 && cfg6 ? [`${ip6}/${prefixOf(cfg6.subnet)}`] : [])];
    this.nameInterface(net, ep);
  }

  /** The MAC, interface name and link name of an endpoint whose addresses are set. */
  private nameInterface(net: NetworkRecord, ep: EndpointRecord): void {
    const driver = this.networks.driverOf(net);
    const ip = ipv4Of(ep);
    // Docker's 02:42 + IPv4 bytes; an IPv6-only endpoint has no IPv4 address to derive one
    // from (and its IPv6 one's low bits repeat across networks on one macvlan parent): random
    ep.mac = ep.staticMac ?? (ip ? macFromIp(ip) : randomMac());
    ep.ifName = this.nextIfName(ep.containerId);
    // asked for only by drivers that need it (a ptp end, a routed network's host end): one pass over the network's endpoints
    const taken = (name: string) => this.state.linkNameTaken(net.id, name, ep.id);
    ep.linkName = driver.linkName?.(this.networks.view(net), taken) ?? '';
  }

  /** An IPAM plugin's addresses: one RequestAddress per family of the network, as dockerd asks; on failure the first goes back. */
  private async assignRemote(net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    const ipam = this.networks.remoteIpam!;
    const taken: { poolId: string; cidr: string }[] = [];
    try {
      for (const [key, wanted] of [['v4', staticIpv4Of(ep)], ['v6', staticIpv6Of(ep)]] as const) {
        const poolId = net.ipamPools?.[key];
        if (poolId) taken.push({ poolId, cidr: await ipam.requestAddress(net.ipamDriver, poolId, wanted ?? '', { mac: ep.staticMac }) });
      }
    } catch (err) {
      for (const t of taken) await ipam.releaseAddress(net.ipamDriver, t.poolId, t.cidr.split('/')[0]!).catch(() => undefined);
      throw err;
    }
    ep.addresses = taken.map((t) => t.cidr);
    this.nameInterface(net, ep);
  }

  private async assignGlobal(net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    const c = this.state.containers.get(ep.containerId);
    if (!this.global || !c) throw new InvalidParameterError(`network ${net.name} is an overlay network and this berthd has no cluster store (--cluster-store)`);
    const { ip, mac } = await this.global.claim(c, net, ep);
    crashPoint('overlay-endpoint.claimed');
    ep.addresses = [`${ip}/${prefixOf(net.ipamConfig[0].subnet)}`];
    ep.mac = mac;
    ep.ifName = this.nextIfName(ep.containerId);
    ep.linkName = this.networks.driverOf(net).linkName?.(this.networks.view(net), () => false) ?? '';
  }

  /**
   * After a daemon restart: the addresses a running container holds are taken again (a
   * global network's are held by the store, an IPAM plugin's by the plugin, unless it asks
   * for the replay).
   */
  async reserveAgain(net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    if (net.scope === 'global') return;
    if (isRemoteIpam(net)) return this.replayRemote(net, ep);
    const ip = ipv4Of(ep);
    const pool = this.networks.poolOf(net);
    if (ip && pool) this.ipam.requestAddress(pool, { address: ip });
    const ip6 = ipv6Of(ep);
    const pool6 = this.networks.pool6Of(net);
    if (ip6 && pool6) this.ipam.requestAddress(pool6, { address: ip6 });
  }

  /** eth0, eth1 … in order; an attachment's one interface is named by its runtime (CNI_IFNAME). */
  private async replayRemote(net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    const ipam = this.networks.remoteIpam!;
    if (!net.ipamReplay) return;
    for (const [key, ip] of [['v4', ipv4Of(ep)], ['v6', ipv6Of(ep)]] as const) {
      const poolId = net.ipamPools?.[key];
      // a plugin that is down is logged: the container keeps its address, the plugin may hand it out again
      if (poolId && ip) await ipam.requestAddress(net.ipamDriver, poolId, ip).catch((err: Error) => this.log(`endpoint ${ip} on ${net.name}: IPAM plugin ${net.ipamDriver} not replayed: ${err.message}`));
    }
  }

  private nextIfName(containerId: string): string {
    const asked = this.state.containers.get(containerId)?.attachment?.ifName;
    if (asked) return asked;
    const used = new Set(this.state.endpointsOf({ containerId }).map((e) => e.ifName));
    for (let i = 0; ; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
  }

  /** Tells the observers the endpoint goes down, then gives its address back. */
  async release(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    const ip = ipv4Of(ep);
    const ip6 = ipv6Of(ep);
    if (ep.addresses.length) await this.observers.endpointDown(c, net, ep).catch(() => undefined);
    // a plugin that fails or hangs here does not keep the container: said in the log, as dockerd does
    if (ep.addresses.length) {
      await this.networks.driverOf(net).releaseEndpoint?.(this.networks.view(net), viewOf(ep, false))
        .catch((err: Error) => this.log(`container ${c.name} on ${net.name}: ${err.message}`));
    }
    if (net.scope === 'global' && ep.addresses.length) await this.global?.release(net, ep);
    if (isRemoteIpam(net)) {
      for (const [key, a] of [['v4', ip], ['v6', ip6]] as const) {
        const poolId = net.ipamPools?.[key];
        if (poolId && a) await this.networks.remoteIpam!.releaseAddress(net.ipamDriver, poolId, a).catch((err: Error) => this.log(`container ${c.name} on ${net.name}: IPAM plugin ${net.ipamDriver}: ${err.message}`));
      }
    }
    const pool = this.networks.poolOf(net);
    if (ip && pool) this.ipam.releaseAddress(pool, ip);
    const pool6 = this.networks.pool6Of(net);
    if (ip6 && pool6) this.ipam.releaseAddress(pool6, ip6);
    if (ep.addresses.length) [ep.lastAddresses, ep.lastIfName] = [ep.addresses, ep.ifName];
    ep.addresses = [];
    ep.mac = '';
    ep.ifName = '';
    ep.linkName = '';
    delete ep.prepared;
    if (this.state.endpoints.has(ep.id)) this.state.saveEndpoint(ep);
  }
}

function prefixOf(subnet: string): number {
  return Number(subnet.slice(subnet.indexOf('/') + 1));
}

/** A random unicast, locally administered MAC. */
function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0] & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
