import type { LinkInfo } from '../../kernel/types.js';
import type { ClusterHostView, DriverCaps, DriverNetwork, EndpointView, InterfacePlan, NetworkDriver, NetworkPicture, NetworkSpec, RemoteEndpointView } from '../../driverapi/contract.js';
import type { DriverContext } from '../../driverapi/registry.js';
import { gatewayCidr, subnetOf } from '../../driverapi/subnets.js';
import { bridgePortPlan } from '../bridge/port-plan.js';
import { advertiseIp } from '../../cluster/advertise.js';
import { InvalidParameterError } from '../../util/errors.js';
import { isIPv4 } from '../../util/ip.js';
import { hostIfName, newId } from '../../util/names.js';
import type { NetworkPolicy } from '../bridge/firewall.js';
import { DirectRoutes } from './direct-routes.js';
import { OVERLAY_OPT, parseOverlayConfig, type OverlayConfig } from './options.js';

const OVERLAY_ROUTING = OVERLAY_OPT.routing;

// A network that spans hosts. On each host it is a Linux bridge holding the network's
// gateway address (the same address on every host, answered locally: egress, -p and the
// resolver work on each container's own host, with no second interface on a gateway
// bridge as Docker had) and a VXLAN device on that bridge, which tunnels frames to the
// other hosts. The device learns nothing and floods nothing: every remote endpoint is
// programmed from the cluster store (neighbour entry IP → MAC, answered locally as proxy
// ARP; FDB entry MAC → the remote host; a static entry on the bridge port), and removed
// with it, conntrack entries of its address included.
//
// routing=direct (hosts of one L2 segment): no VXLAN device, no encapsulation; the bridge
// answers ARP for remote addresses (proxy ARP) and the host routes them, one /32 route per
// remote endpoint via its host (direct-routes.ts), at the underlay's full MTU. The
// firewall accepts that routed traffic for the network's own subnet only (ROUTED in
// bridge/firewall.ts).

type Net = DriverNetwork<OverlayConfig>;

/** The bridge and the device both hang off one 15-character name space: ov-/vx- + 12 hex. */
const OVERLAY_LINK = /^(ov|vx)-[0-9a-f]{12}$/;

export class OverlayDriver implements NetworkDriver<OverlayConfig> {
  describe(net: DriverNetwork<OverlayConfig>): NetworkPicture {
    return { device: net.config.bridgeName, ...(net.config.routing === 'direct' ? {} : { vxlan: net.config.vxlanName }) };
  }

  readonly name = 'overlay';
  readonly caps: DriverCaps = { scope: 'global', multiInstance: true, ipam: true, publishesPorts: true, reservesGateway: true, hostNeighbours: true, claimsVni: true };
  /** each network's MTU on this host: its VXLAN device's (underlay MTU − 50 unless given), or the underlay's (direct) */
  private readonly mtus = new Map<string, number>();
  private readonly routes: DirectRoutes;

  constructor(private readonly ctx: DriverContext) {
    this.routes = new DirectRoutes(ctx.kernel);
  }

  parseConfig(spec: NetworkSpec): OverlayConfig {
    return parseOverlayConfig(spec);
  }

  /** This host's VXLAN endpoint: the address it advertises to the cluster. */
  private vtep(): string {
    const advertise = this.ctx.config.cluster?.advertise;
    if (!advertise) throw new InvalidParameterError('overlay networks need a cluster store: start berthd with --cluster-store etcd://HOST:2379 and --cluster-advertise IFACE|IP');
    return advertiseIp(advertise);
  }

  async createNetwork(net: Net): Promise<void> {
    const { kernel } = this.ctx;
    const cfg = net.config;
    await kernel.ensureBridge(cfg.bridgeName);
    const mtu = direct(net) ? await this.routedBridge(net) : await this.tunnel(net);
    this.mtus.set(net.id, mtu);
    await kernel.ensureBridge(cfg.bridgeName, mtu);
    // IPv4 only (the cluster's IPAM is): no link-local address, no DAD or MLD into the overlay
    await kernel.writeSysctl(`net.ipv6.conf.${cfg.bridgeName}.disable_ipv6`, '1').catch(() => undefined);
    const gw = gatewayCidr(subnetOf(net.subnets, 4));
    if (gw) await kernel.addAddress(cfg.bridgeName, gw);
    await this.ctx.firewall.addNetwork(policy(net));
  }

  /** vxlan: the device on the bridge; its MTU is the network's. */
  private async tunnel(net: Net): Promise<number> {
    const cfg = net.config;
    const vx = await this.ctx.kernel.ensureVxlan({ name: cfg.vxlanName, vni: cfg.vni, local: this.vtep(), master: cfg.bridgeName, mtu: cfg.mtu });
    return vx.mtu;
  }

  /** direct: the bridge answers its containers' ARP for remote addresses, the host forwards them; nothing is added to a packet, so the MTU is the underlay's. */
  private async routedBridge(net: Net): Promise<number> {
    const { kernel } = this.ctx;
    const bridge = net.config.bridgeName;
    if ((await kernel.readSysctl('net.ipv4.ip_forward')).trim() !== '1') {
      throw new InvalidParameterError(`overlay network ${net.name} routes between hosts (${OVERLAY_ROUTING}=direct) and this host does not forward IPv4 (net.ipv4.ip_forward=0: berthd runs with --ip-forward=false)`);
    }
    if (!isIPv4(this.vtep())) throw new InvalidParameterError(`overlay network ${net.name} routes between hosts (${OVERLAY_ROUTING}=direct), which needs an IPv4 underlay address, and this host advertises ${this.vtep()} (--cluster-advertise)`);
    await kernel.writeSysctl(`net.ipv4.conf.${bridge}.proxy_arp`, '1');
    // the kernel delays proxy answers to broadcast requests by up to proxy_delay (0.8 s) otherwise, on every first contact
    await kernel.writeSysctl(`net.ipv4.neigh.${bridge}.proxy_delay`, '0');
    return net.config.mtu ?? (await this.underlayMtu());
  }

  /** The MTU of the interface holding this host's underlay address. */
  private async underlayMtu(): Promise<number> {
    const vtep = this.vtep();
    const address = (await this.ctx.kernel.listAddresses()).find((a) => a.cidr.split('/')[0] === vtep);
    const link = address && (await this.ctx.kernel.getLink(address.ifname));
    if (!link) throw new InvalidParameterError(`the underlay address ${vtep} (--cluster-advertise) is on no interface of this host`);
    return link.mtu;
  }

  async deleteNetwork(net: Net): Promise<void> {
    await this.ctx.firewall.removeNetwork(policy(net));
    const subnet = subnetOf(net.subnets, 4)?.subnet;
    if (!direct(net)) await this.ctx.kernel.deleteLink(net.config.vxlanName);
    else if (subnet) await this.routes.clear(subnet);
    await this.ctx.kernel.deleteLink(net.config.bridgeName);
    this.mtus.delete(net.id);
  }

  async checkHosts(net: Net, hosts: ClusterHostView[]): Promise<void> {
    if (!direct(net)) return;
    try {
      await this.routes.checkHosts(hosts);
    } catch (err) {
      throw new InvalidParameterError(`overlay network ${net.name} with ${OVERLAY_ROUTING}=direct: ${(err as Error).message}`);
    }
  }

  linkName(): string {
    return hostIfName(newId());
  }

  planEndpoint(net: Net, ep: EndpointView): InterfacePlan {
    return bridgePortPlan(net.config.bridgeName, this.mtus.get(net.id) ?? net.config.mtu, net, ep);
  }

  /** An endpoint that lived on another host before (its address given back, taken here) is local now: its tunnel entries or routes go. */
  async joined(net: Net, ep: EndpointView): Promise<void> {
    if (!direct(net)) return this.ctx.kernel.deleteVxlanEntries(net.config.vxlanName, { macs: [ep.mac], ips: plainAddresses(ep.addresses) });
    for (const ip of plainAddresses(ep.addresses)) await this.routes.delete(ip);
  }

  /** Flows of the address leaving stay in conntrack otherwise, and would catch its next holder's (UDP above all). */
  async left(_net: Net, ep: EndpointView): Promise<void> {
    for (const ip of plainAddresses(ep.addresses)) await this.ctx.kernel.flushConntrack(ip);
  }

  async remoteUp(net: Net, remote: RemoteEndpointView): Promise<void> {
    if (direct(net)) return this.routes.up(remote);
    await this.ctx.kernel.setVxlanPeers(net.config.vxlanName, [{ mac: remote.mac, ips: remote.ips, vtep: remote.vtep }]);
  }

  async remoteDown(net: Net, remote: RemoteEndpointView): Promise<void> {
    if (direct(net)) await this.routes.down(remote);
    else await this.ctx.kernel.deleteVxlanEntries(net.config.vxlanName, { macs: [remote.mac], ips: remote.ips });
    for (const ip of remote.ips) await this.ctx.kernel.flushConntrack(ip);
  }

  async remoteReconcile(net: Net, remotes: RemoteEndpointView[]): Promise<void> {
    if (direct(net)) return this.reconcileRoutes(net, remotes);
    const { kernel } = this.ctx;
    const dev = net.config.vxlanName;
    const macs = new Set(remotes.map((r) => r.mac));
    const ips = new Set(remotes.flatMap((r) => r.ips));
    const fdb = await kernel.listFdb(dev);
    // the device's own entries on the bridge are 'permanent' (its MAC): only programmed or learned ones are the store's
    const staleMacs = fdb.filter((e) => !macs.has(e.mac) && (e.table === 'self' ? e.dst !== undefined : e.state !== 'permanent')).map((e) => e.mac);
    const staleIps = (await kernel.listNeighbours(dev)).filter((n) => !ips.has(n.ip)).map((n) => n.ip);
    if (staleMacs.length || staleIps.length) await kernel.deleteVxlanEntries(dev, { macs: [...new Set(staleMacs)], ips: staleIps });
    for (const ip of staleIps) await kernel.flushConntrack(ip);
    if (remotes.length) await kernel.setVxlanPeers(dev, remotes.map((r) => ({ mac: r.mac, ips: r.ips, vtep: r.vtep })));
  }

  private async reconcileRoutes(net: Net, remotes: RemoteEndpointView[]): Promise<void> {
    const subnet = subnetOf(net.subnets, 4)?.subnet;
    if (!subnet) return;
    const { removed, problems } = await this.routes.reconcile(subnet, remotes);
    for (const ip of removed) await this.ctx.kernel.flushConntrack(ip);
    if (problems.length) throw new InvalidParameterError(problems.join('; '));
  }

  /** Bridges and devices of overlay networks this host no longer has, veths on its bridges no endpoint knows, routes of direct networks it no longer has. */
  async reconcile(known: Net[], knownLinks: Set<string>, links: readonly LinkInfo[]): Promise<void> {
    const { kernel } = this.ctx;
    await this.routes.removeOutside(known.filter(direct).flatMap((n) => subnetOf(n.subnets, 4)?.subnet ?? []));
    const names = new Set(known.flatMap((n) => (direct(n) ? [n.config.bridgeName] : [n.config.bridgeName, n.config.vxlanName])));
    const bridges = new Set(links.filter((l) => l.kind === 'bridge' && names.has(l.name)).map((l) => l.index));
    for (const l of links) {
      const staleOwn = OVERLAY_LINK.test(l.name) && (l.kind === 'bridge' || l.kind === 'vxlan') && !names.has(l.name);
      const staleVeth = l.kind === 'veth' && bridges.has(l.master) && !knownLinks.has(l.name);
      if (staleOwn || staleVeth) await kernel.deleteLink(l.name);
    }
  }

  hostBindingIpv4(): string {
    return this.ctx.config.ip;
  }
}

/** The firewall's view of one overlay network on this host: a bridge network like any other, whose subnet is routed to other hosts when direct. */
function policy(net: Net): NetworkPolicy {
  return { bridge: net.config.bridgeName, subnet: subnetOf(net.subnets, 4)?.subnet, internal: net.internal, masquerade: true, icc: true, routed: direct(net) };
}

function direct(net: Net): boolean {
  return net.config.routing === 'direct';
}

function plainAddresses(cidrs: string[]): string[] {
  return cidrs.map((c) => c.split('/')[0]);
}
