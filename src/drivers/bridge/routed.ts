import type { DriverNetwork, EndpointView, InterfacePlan } from '../../driverapi/contract.js';
import { familyOf, gatewaysFor } from '../../driverapi/subnets.js';
import { newId } from '../../util/names.js';
import type { BridgeConfig } from './config.js';

// A routed network (-o berth.network.mode=routed): a bridge network without the bridge.
// Each container's veth ends on the host, which routes to it (a /32 and /128 host route)
// and answers as its gateway: every host end holds the gateway addresses. The containers
// of one subnet reach each other through that gateway (their subnet is routed, not on
// the link), so the host forwards between them and its firewall sees every packet with
// iif/oif = their host ends: the same rules as a bridge's decide (icc, isolation,
// internal, published ports, links), with the host ends' wildcard or names in its sets.
// No bridge: no 1,023-port limit, no flooding, one neighbour per container on the host.

type Net = DriverNetwork<BridgeConfig>;

/** The host end's name: the network's prefix and 7 hex of a fresh id (one no other endpoint of the network has). */
export function routedLinkName(hostPrefix: string, taken: (name: string) => boolean): string {
  for (;;) {
    const name = `${hostPrefix}${newId().slice(0, 15 - hostPrefix.length)}`;
    if (!taken(name)) return name;
  }
}

/** The sandbox side reaches its subnet and the world through the gateway on the host end; the host end holds the gateways and routes to the container. */
export function routedPortPlan(net: Net, ep: EndpointView): InterfacePlan {
  const gateways = gatewaysFor(net.subnets, ep.addresses);
  const routes: { dst: string; via?: string }[] = [];
  const hostGateways: string[] = [];
  for (const gw of [gateways.gateway4, gateways.gateway6]) {
    if (!gw) continue;
    const host = `${gw}/${familyOf(gw) === 4 ? 32 : 128}`;
    const subnet = net.subnets.find((s) => s.gateway === gw)!.subnet;
    hostGateways.push(host);
    routes.push({ dst: host }, { dst: subnet, via: gw });
  }
  return {
    link: {
      kind: 'routed-veth',
      hostName: ep.linkName,
      gateways: hostGateways,
      routes: ep.addresses.map((a) => `${a.split('/')[0]}/${familyOf(a) === 4 ? 32 : 128}`),
    },
    mac: ep.mac,
    mtu: net.config.mtu,
    addresses: [...ep.addresses, ...ep.linkLocal],
    routes,
    noPrefixRoute: true,
    ...(net.internal ? {} : gateways),
  };
}
