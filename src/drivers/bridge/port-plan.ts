import type { DriverNetwork, EndpointView, InterfacePlan } from '../../driverapi/contract.js';
import { gatewaysFor } from '../../driverapi/subnets.js';

/** An endpoint as a veth port of a Linux bridge (the bridge's networks and the overlay's): its gateways unless internal. */
export function bridgePortPlan(bridge: string, mtu: number | undefined, net: DriverNetwork<unknown>, ep: EndpointView): InterfacePlan {
  return {
    link: { kind: 'veth', hostName: ep.linkName, master: bridge, hairpin: ep.publishes },
    mac: ep.mac,
    mtu,
    addresses: [...ep.addresses, ...ep.linkLocal],
    ...(net.internal ? {} : gatewaysFor(net.subnets, ep.addresses)),
  };
}
