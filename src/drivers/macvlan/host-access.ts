import type { DriverNetwork, EndpointView } from '../../driverapi/contract.js';
import type { Kernel } from '../../kernel/types.js';
import { InvalidParameterError } from '../../util/errors.js';
import { HOST_AUX_NAME, OPT, type MacvlanConfig } from './options.js';

// The host-access opt-in (-o berth.host_access=true). The kernel never hands a macvlan's
// frames to its own parent, so the host cannot talk to its macvlan children over the
// parent. A sibling macvlan on the host ("shim", bridge mode) can: it gets the address
// reserved with --aux-address host=IP and a /32 route to each container of the network.

/** mvh + the network's short id: 15 characters, one shim per network. */
export function shimName(networkId: string): string {
  return `mvh${networkId.slice(0, 12)}`;
}

export const SHIM_NAME = /^mvh[0-9a-f]{12}$/;

/** The shim's address: the IPv4 aux-address named "host"; throws when none was reserved. */
export function hostAddress(net: DriverNetwork<MacvlanConfig>): string {
  for (const s of net.subnets) {
    const ip = s.auxAddresses?.[HOST_AUX_NAME];
    if (ip && !ip.includes(':')) return ip;
  }
  // the shim carries IPv4 alone (its IPv6 stays off: no host addresses leak onto the LAN)
  if (!net.subnets.some((s) => !s.subnet.includes(':'))) {
    throw new InvalidParameterError(`-o ${OPT.hostAccess}=true needs IPv4: the host reaches its macvlan containers over IPv4 only, and this network is IPv6-only`);
  }
  throw new InvalidParameterError(
    `-o ${OPT.hostAccess}=true needs an address for the host on the network: reserve one with --aux-address ${HOST_AUX_NAME}=IP`,
  );
}

const v4Hosts = (ep: EndpointView): string[] =>
  ep.addresses.filter((a) => !a.includes(':')).map((a) => `${a.split('/')[0]}/32`);

export class HostAccess {
  constructor(private readonly kernel: Kernel) {}

  async open(net: DriverNetwork<MacvlanConfig>): Promise<void> {
    await this.kernel.ensureMacvlanShim(shimName(net.id), net.config.parent, `${hostAddress(net)}/32`);
  }

  async close(net: DriverNetwork<MacvlanConfig>): Promise<void> {
    await this.kernel.deleteLink(shimName(net.id)); // its routes go with it
  }

  async addContainer(net: DriverNetwork<MacvlanConfig>, ep: EndpointView): Promise<void> {
    for (const dst of v4Hosts(ep)) await this.kernel.addRoute({ dst, dev: shimName(net.id) });
  }

  async removeContainer(ep: EndpointView): Promise<void> {
    for (const dst of v4Hosts(ep)) await this.kernel.deleteRoute(dst);
  }
}
