import type { DriverNetwork, PredefinedContext, PredefinedNetwork, SubnetView } from '../../driverapi/contract.js';
import type { DriverContext } from '../../driverapi/registry.js';
import { DEFAULT_BRIDGE_NAME } from '../../engine/config.js';
import { chooseDefaultBridgeSubnet } from '../../ipam/choose-subnet.js';
import { fixedCidrSubPool } from '../../ipam/fixed-cidr.js';
import { InvalidParameterError } from '../../util/errors.js';
import { routedSubnets } from '../../kernel/routed-subnets.js';
import { parseCidr } from '../../util/ip.js';
import { anyCidrOverlaps, familyOf } from '../../util/ip-family.js';
import { formatIPv6, tryParseCidr6, usableRange6 } from '../../util/ip6.js';
import type { BridgeConfig } from './config.js';

// The default bridge ("bridge", berth0 — docker0's twin), shaped by dockerd's flags:
// --bip gives its address and subnet, -b an existing bridge (whose address it takes),
// --fixed-cidr the containers' range, --icc, --ip, --mtu its options. Without --bip the
// stored subnet is kept, or a free one is chosen that no route or network overlaps.
// --ipv6 makes it dual stack: --fixed-cidr-v6 is its IPv6 subnet (gateway the first
// address, as dockerd's); without it, the stored IPv6 subnet is kept or, as Docker 27+
// does, the engine picks a /64 of the default IPv6 pool, as for `network create --ipv6`.

interface Shape {
  bridge: string;
  subnet: string;
  gateway: string;
  /** dual stack; `subnet6` undefined: one from the default IPv6 pool */
  ipv6: boolean;
  subnet6?: SubnetView;
}

export async function defaultBridge(ctx: DriverContext, p: PredefinedContext): Promise<PredefinedNetwork | undefined> {
  const { config } = ctx;
  const wanted = await shape(ctx, p.existing as DriverNetwork<BridgeConfig> | undefined, p.takenSubnets);
  const existing = p.existing as DriverNetwork<BridgeConfig> | undefined;
  if (existing && sameShape(existing, wanted)) return undefined;
  return {
    subnets: [
      { subnet: wanted.subnet, gateway: wanted.gateway, ipRange: config.fixedCidr ? fixedCidrSubPool(wanted.subnet, config.fixedCidr) : undefined },
      ...(wanted.subnet6 ? [wanted.subnet6] : []),
    ],
    enableIPv6: wanted.ipv6,
    options: {
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': String(config.icc),
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
      'com.docker.network.bridge.host_binding_ipv4': config.ip,
      'com.docker.network.bridge.name': wanted.bridge,
      'com.docker.network.driver.mtu': String(config.mtu),
    },
  };
}

async function shape(ctx: DriverContext, stored: DriverNetwork<BridgeConfig> | undefined, takenSubnets: string[]): Promise<Shape> {
  const v4 = await shape4(ctx, stored, takenSubnets);
  const ipv6 = ctx.config.ipv6;
  return { ...v4, ipv6, subnet6: ipv6 ? shape6(ctx.config.fixedCidrV6, v4.bridge, stored, takenSubnets) : undefined };
}

function shape6(fixedCidrV6: string | undefined, bridge: string, stored: DriverNetwork<BridgeConfig> | undefined, takenSubnets: string[]): SubnetView | undefined {
  if (fixedCidrV6) {
    const c = tryParseCidr6(fixedCidrV6);
    if (!c) throw new InvalidParameterError(`invalid --fixed-cidr-v6 ${fixedCidrV6}: not an IPv6 CIDR`);
    const subnet = `${c.network}/${c.prefix}`;
    const clash = takenSubnets.find((t) => anyCidrOverlaps(t, subnet));
    if (clash) throw new InvalidParameterError(`invalid --fixed-cidr-v6 ${fixedCidrV6}: it overlaps ${clash}, the subnet of another network`);
    return { subnet, gateway: formatIPv6(usableRange6(c).first) };
  }
  const kept = stored?.config.bridgeName === bridge ? stored.subnets.find((s) => familyOf(s.subnet) === 6) : undefined;
  return kept?.gateway ? { subnet: kept.subnet, gateway: kept.gateway } : undefined;
}

async function shape4(ctx: DriverContext, stored: DriverNetwork<BridgeConfig> | undefined, takenSubnets: string[]): Promise<Omit<Shape, 'ipv6'>> {
  const { config, kernel } = ctx;
  const bridge = config.bridge || DEFAULT_BRIDGE_NAME;
  if (config.bip) {
    const bip = parseCidr(config.bip);
    return { bridge, subnet: `${bip.network}/${bip.prefix}`, gateway: bip.address };
  }
  if (config.bridge) {
    if (!(await kernel.getLink(bridge))) throw new InvalidParameterError(`bridge ${bridge} (from -b) does not exist`);
    const addr = (await kernel.listAddresses()).find((a) => a.ifname === bridge && !a.cidr.includes(':'));
    if (addr) {
      const c = parseCidr(addr.cidr);
      return { bridge, subnet: `${c.network}/${c.prefix}`, gateway: c.address };
    }
  }
  const kept = stored?.subnets.find((s) => familyOf(s.subnet) === 4);
  if (kept?.gateway && stored?.config.bridgeName === bridge) return { bridge, subnet: kept.subnet, gateway: kept.gateway };
  const routes = routedSubnets(await kernel.listRoutes(), [4], bridge);
  const { subnet, gateway } = chooseDefaultBridgeSubnet([...routes, ...takenSubnets]);
  return { bridge, subnet, gateway };
}

function sameShape(n: DriverNetwork<BridgeConfig>, w: Shape): boolean {
  const s = n.subnets.find((x) => familyOf(x.subnet) === 4);
  const s6 = n.subnets.find((x) => familyOf(x.subnet) === 6);
  const same6 = w.ipv6 ? !!s6 && (!w.subnet6 || (s6.subnet === w.subnet6.subnet && s6.gateway === w.subnet6.gateway)) : !s6;
  return n.config.bridgeName === w.bridge && s?.subnet === w.subnet && s?.gateway === w.gateway && same6;
}
