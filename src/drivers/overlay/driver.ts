import type { DriverCaps, DriverNetwork, EndpointView, InterfacePlan, NetworkDriver, NetworkSpec, RemoteEndpointView } from '../../driverapi/contract.js';
import type { DriverContext } from '../../driverapi/registry.js';
import { gatewayCidr, subnetOf } from '../../driverapi/subnets.js';
import { bridgePortPlan } from '../bridge/port-plan.js';
import { advertiseIp } from '../../cluster/advertise.js';
import { InvalidParameterError } from '../../util/errors.js';
import { hostIfName, newId } from '../../util/names.js';
import type { NetworkPolicy } from '../bridge/firewall.js';
import { parseOverlayConfig, type OverlayConfig } from './options.js';

// A network that spans hosts. On each host it is a Linux bridge holding the network's
// gateway address (the same address on every host, answered locally: egress, -p and the
// resolver work on each container's own host, with no second interface on a gateway
// bridge as Docker had) and a VXLAN device on that bridge, which tunnels frames to the
// other hosts. The device learns nothing and floods nothing: every remote endpoint is
// programmed from the cluster store (neighbour entry IP → MAC, answered locally as proxy
// ARP; FDB entry MAC → the remote host; a static entry on the bridge port), and removed
// with it, conntrack entries of its address included.

type Net = DriverNetwork<OverlayConfig>;

/** The bridge and the device both hang off one 15-character name space: ov-/vx- + 12 hex. */
const OVERLAY_LINK = /^(ov|vx)-[0-9a-f]{12}$/;

export class OverlayDriver implements NetworkDriver<OverlayConfig> {
  readonly name = 'overlay';
  readonly caps: DriverCaps = { scope: 'global', multiInstance: true, ipam: true, publishesPorts: true, reservesGateway: true, hostNeighbours: true };
  /** each network's MTU on this host, from its VXLAN device (underlay MTU − 50 unless given) */
  private readonly mtus = new Map<string, number>();

  constructor(private readonly ctx: DriverContext) {}

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
    const vx = await kernel.ensureVxlan({ name: cfg.vxlanName, vni: cfg.vni, local: this.vtep(), master: cfg.bridgeName, mtu: cfg.mtu });
    this.mtus.set(net.id, vx.mtu);
    await kernel.ensureBridge(cfg.bridgeName, vx.mtu);
    // IPv4 only (the cluster's IPAM is): no link-local address, no DAD or MLD into the overlay
    await kernel.writeSysctl(`net.ipv6.conf.${cfg.bridgeName}.disable_ipv6`, '1').catch(() => undefined);
    const gw = gatewayCidr(subnetOf(net.subnets, 4));
    if (gw) await kernel.addAddress(cfg.bridgeName, gw);
    await this.ctx.firewall.addNetwork(policy(net));
  }

  async deleteNetwork(net: Net): Promise<void> {
    await this.ctx.firewall.removeNetwork(policy(net));
    await this.ctx.kernel.deleteLink(net.config.vxlanName);
    await this.ctx.kernel.deleteLink(net.config.bridgeName);
    this.mtus.delete(net.id);
  }

  linkName(): string {
    return hostIfName(newId());
  }

  planEndpoint(net: Net, ep: EndpointView): InterfacePlan {
    return bridgePortPlan(net.config.bridgeName, this.mtus.get(net.id) ?? net.config.mtu, net, ep);
  }


  /** An endpoint that lived on another host before (its address given back, taken here) is local now: its tunnel entries go. */
  async joined(net: Net, ep: EndpointView): Promise<void> {
    await this.ctx.kernel.deleteVxlanEntries(net.config.vxlanName, { macs: [ep.mac], ips: plainAddresses(ep.addresses) });
  }

  /** Flows of the address leaving stay in conntrack otherwise, and would catch its next holder's (UDP above all). */
  async left(_net: Net, ep: EndpointView): Promise<void> {
    for (const ip of plainAddresses(ep.addresses)) await this.ctx.kernel.flushConntrack(ip);
  }

  async remoteUp(net: Net, remote: RemoteEndpointView): Promise<void> {
    await this.ctx.kernel.setVxlanPeers(net.config.vxlanName, [{ mac: remote.mac, ips: remote.ips, vtep: remote.vtep }]);
  }

  async remoteDown(net: Net, remote: RemoteEndpointView): Promise<void> {
    await this.ctx.kernel.deleteVxlanEntries(net.config.vxlanName, { macs: [remote.mac], ips: remote.ips });
    for (const ip of remote.ips) await this.ctx.kernel.flushConntrack(ip);
  }

  async remoteReconcile(net: Net, remotes: RemoteEndpointView[]): Promise<void> {
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

  /** Bridges and devices of overlay networks this host no longer has, and veths on its bridges no endpoint knows. */
  async reconcile(known: Net[], knownLinks: Set<string>): Promise<void> {
    const { kernel } = this.ctx;
    const names = new Set(known.flatMap((n) => [n.config.bridgeName, n.config.vxlanName]));
    const links = await kernel.listLinks();
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

/** The firewall's view of one overlay network on this host: a bridge network like any other. */
function policy(net: Net): NetworkPolicy {
  return { bridge: net.config.bridgeName, subnet: subnetOf(net.subnets, 4)?.subnet, internal: net.internal, masquerade: true, icc: true };
}

function plainAddresses(cidrs: string[]): string[] {
  return cidrs.map((c) => c.split('/')[0]);
}
