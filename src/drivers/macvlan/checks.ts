import type { DriverNetwork } from '../../driverapi/contract.js';
import type { Kernel, LinkInfo } from '../../kernel/types.js';
import { ConflictError, InvalidParameterError } from '../../util/errors.js';
import { anyCidrOverlaps } from '../../util/ip-family.js';
import { hostAddress } from './host-access.js';
import type { MacvlanConfig } from './options.js';

// What is checked before a macvlan network is made, so that a bad request makes nothing:
// the parent (exists, is up, is not one of berth's bridges or a bridge's port), the
// networks already on that parent, and what the host-access shim needs.

/** Tells berth's own bridges (they never lead to a LAN) from any other bridge. */
export type BerthBridgeTest = (name: string) => boolean;

export async function checkNewMacvlan(
  kernel: Kernel, isBerthBridge: BerthBridgeTest, net: DriverNetwork<MacvlanConfig>, others: DriverNetwork<MacvlanConfig>[],
): Promise<void> {
  const c = net.config;
  if (net.subnets.length === 0) throw new InvalidParameterError('ipv4 pool is empty');
  if (c.hostAccess) hostAddress(net); // throws when the host has no address reserved
  checkSiblings(net, others);
  if (c.source.kind === 'nowhere') return; // the network's own, made by createNetwork
  const parent = await kernel.getLink(c.parent);
  if (!parent && c.source.kind === 'vlan') return checkLink(await needLower(kernel, c.source.lower), c, isBerthBridge);
  if (!parent) throw new InvalidParameterError(`the requested parent interface ${c.parent} was not found on the berth host`);
  checkLink(parent, c, isBerthBridge);
}

async function needLower(kernel: Kernel, lower: string): Promise<LinkInfo> {
  const link = await kernel.getLink(lower);
  if (!link) throw new InvalidParameterError(`-o parent interface was not found on the host: ${lower}`);
  return link;
}

function checkLink(link: LinkInfo, c: MacvlanConfig, isBerthBridge: BerthBridgeTest): void {
  if (link.kind === 'bridge' && isBerthBridge(link.name)) {
    throw new InvalidParameterError(`parent interface ${link.name} is a bridge of a berth network: a macvlan parent must lead to a LAN`);
  }
  if (link.master !== 0) {
    throw new InvalidParameterError(`parent interface ${link.name} is a port of another interface (a bridge or bond): use that one as the parent`);
  }
  if (link.kind === 'macvlan' || link.kind === 'ipvlan') {
    throw new InvalidParameterError(`parent interface ${link.name} is a ${link.kind} itself: use its parent`);
  }
  if (!link.up) throw new InvalidParameterError(`parent interface ${link.name} is down: bring it up first (ip link set ${link.name} up)`);
  if (c.mtu !== undefined && c.mtu > link.mtu) {
    throw new InvalidParameterError(`invalid MTU ${c.mtu}: larger than that of the parent interface ${link.name} (${link.mtu})`);
  }
}

/** Networks on one parent share its wire: their subnets must not overlap, and passthru owns it alone. */
function checkSiblings(net: DriverNetwork<MacvlanConfig>, others: DriverNetwork<MacvlanConfig>[]): void {
  for (const o of others) {
    if (o.id === net.id || o.config.parent !== net.config.parent) continue;
    if (o.config.mode === 'passthru' || net.config.mode === 'passthru') {
      throw new ConflictError(`network ${o.name} is already using parent interface ${net.config.parent} (passthru mode takes a parent alone)`);
    }
    for (const a of net.subnets) {
      for (const b of o.subnets) {
        if (anyCidrOverlaps(a.subnet, b.subnet)) {
          throw new ConflictError(`network ${o.name} is already using parent interface ${net.config.parent} with subnet ${b.subnet}, which overlaps ${a.subnet}`);
        }
      }
    }
  }
}
