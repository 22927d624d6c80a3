import type { LinkInfo } from '../../kernel/types.js';
import type { DriverCaps, DriverNetwork, EndpointLimit, EndpointView, InterfacePlan, NetworkDriver, NetworkPicture, NetworkSpec, PredefinedContext, PredefinedNetwork, PublishedPortView } from '../../driverapi/contract.js';
import type { DriverContext } from '../../driverapi/registry.js';
import type { NetworkPolicy, RoutedEnd } from './firewall.js';
import { ConflictError } from '../../util/errors.js';
import { gatewayCidr, subnetOf } from '../../driverapi/subnets.js';
import { bridgePortPlan } from './port-plan.js';
import { hostIfName, newId } from '../../util/names.js';
import { MODE_OPT, parseBridgeConfig, ROUTED_LINK, type BridgeConfig } from './config.js';
import { routedLinkName, routedPortPlan } from './routed.js';
import { defaultBridge } from './default-network.js';
import { removeStaleLinks } from './stale-links.js';

/** The kernel's BR_PORT_BITS allows 1,024 ports and the bridge takes one. */
const MAX_BRIDGE_PORTS = 1023;

type Net = DriverNetwork<BridgeConfig>;

/** A Linux bridge per network; containers hang off it by veth pairs. Routed networks have no bridge (routed.ts). */
export class BridgeDriver implements NetworkDriver<BridgeConfig> {
  describe(net: DriverNetwork<BridgeConfig>): NetworkPicture {
    return net.config.routed ? { routedPrefix: net.config.routed.hostPrefix } : { device: net.config.bridgeName };
  }

  readonly name = 'bridge';
  readonly predefinedName = 'bridge';
  readonly caps: DriverCaps = { scope: 'local', multiInstance: true, ipam: true, publishesPorts: true, reservesGateway: true, hostNeighbours: true };

  constructor(private readonly ctx: DriverContext) {}

  parseConfig(spec: NetworkSpec): BridgeConfig {
    return parseBridgeConfig(spec, this.ctx.config);
  }

  endpointLimit(net: Net): EndpointLimit | undefined {
    return net.config.routed ? undefined : { max: MAX_BRIDGE_PORTS, hint: `a routed network has no such limit: -o ${MODE_OPT}=routed` };
  }

  async checkNew(net: Net, others: Net[]): Promise<void> {
    const prefix = net.config.routed?.hostPrefix;
    if (prefix) {
      const clash = others.find((o) => o.config.routed?.hostPrefix === prefix);
      if (clash) throw new ConflictError(`routed network ${net.name} would name its links like network ${clash.name} (${prefix}…): create it again`);
      return;
    }
    const name = net.config.bridgeName;
    const clash = others.find((o) => o.config.bridgeName === name);
    if (clash) throw new ConflictError(`bridge ${name} is already used by network ${clash.name}`);
    // an existing bridge of that name is taken over (as dockerd does); any other link is not berth's to touch
    const link = await this.ctx.kernel.getLink(name);
    if (link && link.kind !== 'bridge') {
      throw new ConflictError(`cannot use ${name} as the bridge of network ${net.name}: an interface of that name exists and is not a bridge (${link.kind || 'no kind'})`);
    }
  }

  async createNetwork(net: Net): Promise<void> {
    const { kernel } = this.ctx;
    const cfg = net.config;
    // a routed network's kernel side is its containers' host ends, made as they join
    if (cfg.routed) return this.ctx.firewall.addNetwork(policy(net));
    if (!cfg.external) await kernel.ensureBridge(cfg.bridgeName, cfg.mtu);
    const [gw4, gw6] = gatewayCidrs(net);
    if (gw4) await kernel.addAddress(cfg.bridgeName, gw4);
    if (gw6) {
      // the host may make new links without IPv6 (disable_ipv6 defaults to 1 there)
      await kernel.writeSysctl(`net.ipv6.conf.${cfg.bridgeName}.disable_ipv6`, '0');
      await kernel.addAddress(cfg.bridgeName, gw6);
    } else if (!cfg.external) {
      // IPv6 only where there is an IPv6 address: a bridge of an IPv4-only network gets no
      // link-local address, so it sends no DAD or MLD and takes no advertisement
      await kernel.writeSysctl(`net.ipv6.conf.${cfg.bridgeName}.disable_ipv6`, '1').catch(() => undefined);
    }
    await this.ctx.firewall.addNetwork(policy(net));
  }

  async deleteNetwork(net: Net): Promise<void> {
    await this.ctx.firewall.removeNetwork(policy(net));
    if (net.config.routed) return;
    if (net.config.external) {
      for (const gw of gatewayCidrs(net)) if (gw) await this.ctx.kernel.deleteAddress(net.config.bridgeName, gw).catch(() => undefined);
    } else {
      await this.ctx.kernel.deleteLink(net.config.bridgeName);
    }
  }

  linkName(net: Net, taken: (name: string) => boolean): string {
    return net.config.routed ? routedLinkName(net.config.routed.hostPrefix, taken) : hostIfName(newId());
  }

  planEndpoint(net: Net, ep: EndpointView): InterfacePlan {
    return net.config.routed ? routedPortPlan(net, ep) : bridgePortPlan(net.config.bridgeName, net.config.mtu, net, ep);
  }

  /**
   * A routed network's host end is a berth interface to the firewall (a bridge's ports are,
   * by their bridge). One kept through a restart is in the table already: the reset took
   * every host end from the kernel's links (one nft call each would cost a restart with
   * thousands of them seconds).
   */
  async joined(net: Net, ep: EndpointView, how?: { kept: boolean }): Promise<void> {
    if (net.config.routed && !how?.kept) await this.ctx.firewall.addRoutedEnd({ name: ep.linkName, internal: net.internal });
  }

  async left(net: Net, ep: EndpointView): Promise<void> {
    if (net.config.routed) await this.ctx.firewall.removeRoutedEnd({ name: ep.linkName, internal: net.internal });
  }


  predefined(ctx: PredefinedContext): Promise<PredefinedNetwork | undefined> {
    return defaultBridge(this.ctx, ctx);
  }

  async restart(known: Net[], ports: PublishedPortView[]): Promise<void> {
    // published ports of running containers, and the host ends of routed networks as the
    // kernel has them, stay in the table across the replace: no dark window
    await this.ctx.firewall.reset(known.map(policy), { ports, routedEnds: await this.routedEnds(known) });
  }

  private async routedEnds(known: Net[]): Promise<RoutedEnd[]> {
    const routed = known.filter((n) => n.config.routed);
    if (!routed.length) return [];
    const out: RoutedEnd[] = [];
    for (const l of await this.ctx.kernel.listLinks()) {
      const net = ROUTED_LINK.test(l.name) ? routed.find((n) => l.name.startsWith(n.config.routed!.hostPrefix)) : undefined;
      if (net) out.push({ name: l.name, internal: net.internal });
    }
    return out;
  }

  async reconcile(known: Net[], knownLinks: Set<string>, hostLinks: readonly LinkInfo[]): Promise<void> {
    await removeStaleLinks(this.ctx.kernel, hostLinks, new Set(known.filter((n) => !n.config.routed).map((n) => n.config.bridgeName)), knownLinks);
  }

  hostBindingIpv4(net: Net): string {
    return net.config.hostBindingIpv4;
  }
}

/** The firewall's view of one bridge network, of either family or both. */
function policy(net: Net): NetworkPolicy {
  return {
    bridge: net.config.routed ? `${net.config.routed.hostPrefix}*` : net.config.bridgeName,
    subnet: subnetOf(net.subnets, 4)?.subnet,
    subnet6: subnetOf(net.subnets, 6)?.subnet,
    internal: net.internal,
    masquerade: net.config.masquerade,
    icc: net.config.icc,
  };
}

/** The bridge's own addresses: each family's gateway, with its subnet's prefix. */
function gatewayCidrs(net: Net): [string | undefined, string | undefined] {
  return [gatewayCidr(subnetOf(net.subnets, 4)), gatewayCidr(subnetOf(net.subnets, 6))];
}
