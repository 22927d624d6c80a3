import type { DriverNetwork, PredefinedContext, PredefinedNetwork } from '../../driverapi/contract.js';
import type { DriverContext } from '../../driverapi/registry.js';
import { DEFAULT_BRIDGE_NAME } from '../../engine/config.js';
import { chooseDefaultBridgeSubnet } from '../../ipam/choose-subnet.js';
import { fixedCidrSubPool } from '../../ipam/fixed-cidr.js';
import { InvalidParameterError } from '../../util/errors.js';
import { routedSubnets } from '../../kernel/routed-subnets.js';
import { parseCidr } from '../../util/ip.js';
import type { BridgeConfig } from './config.js';

// The default bridge ("bridge", berth0 — docker0's twin), shaped by dockerd's flags:
// --bip gives its address and subnet, -b an existing bridge (whose address it takes),
// --fixed-cidr the containers' range, --icc, --ip, --mtu its options. Without --bip the
// stored subnet is kept, or a free one is chosen that no route or network overlaps.

interface Shape {
  bridge: string;
  subnet: string;
  gateway: string;
}

export async function defaultBridge(ctx: DriverContext, p: PredefinedContext): Promise<PredefinedNetwork | undefined> {
  const { config } = ctx;
  const wanted = await shape(ctx, p.existing as DriverNetwork<BridgeConfig> | undefined, p.takenSubnets);
  const existing = p.existing as DriverNetwork<BridgeConfig> | undefined;
  if (existing && sameShape(existing, wanted)) return undefined;
  return {
    subnets: [{ subnet: wanted.subnet, gateway: wanted.gateway, ipRange: config.fixedCidr ? fixedCidrSubPool(wanted.subnet, config.fixedCidr) : undefined }],
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
  const kept = stored?.subnets[0];
  if (kept?.gateway && stored?.config.bridgeName === bridge) return { bridge, subnet: kept.subnet, gateway: kept.gateway };
  const routes = routedSubnets(await kernel.listRoutes(), [4], bridge);
  const { subnet, gateway } = chooseDefaultBridgeSubnet([...routes, ...takenSubnets]);
  return { bridge, subnet, gateway };
}

function sameShape(n: DriverNetwork<BridgeConfig>, w: Shape): boolean {
  const s = n.subnets[0];
  return n.config.bridgeName === w.bridge && s?.subnet === w.subnet && s?.gateway === w.gateway;
}
