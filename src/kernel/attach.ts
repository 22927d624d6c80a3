import { closeSync } from 'node:fs';
import type { VethAttachment } from './types.js';
import { OpError, attempt } from './failure.js';
import { netnsExists, openNetns } from './netns.js';
import { homeSocket, withSocket } from './sockets.js';
import { addAddress } from './netlink/addrs.js';
import { createVeth, deleteLink, getLink, setBridgePortHairpin, setLinkUp } from './netlink/links.js';
import { replaceRoute } from './netlink/routes.js';
import type { NetlinkSocket } from './netlink/socket.js';

// A container attachment in one worker call: one RTM_NEWLINK makes both veth ends (the
// peer born inside the container netns), then the container side is configured from a
// socket inside that netns. Any failure after the pair exists deletes the pair.

export function attachVeth(a: VethAttachment): void {
  const host = homeSocket();
  const bridge = attempt(`cannot create veth ${a.hostIfName}`, () => getLink(host, a.bridge));
  if (!bridge) throw new OpError(`cannot create veth ${a.hostIfName}: bridge ${a.bridge} not found`, 'ENODEV', 19);
  const nsFd = openNetns(a.netns);
  try {
    attempt(`cannot create veth ${a.hostIfName}`, () =>
      createVeth(host, {
        hostName: a.hostIfName, master: bridge.index, mtu: a.mtu,
        peerName: a.ifName, peerMac: a.mac, peerNsFd: nsFd,
      }));
  } finally {
    closeSync(nsFd);
  }
  try {
    const port = attempt(`cannot find veth ${a.hostIfName}`, () => getLink(host, a.hostIfName));
    if (port) attempt(`cannot set hairpin mode on ${a.hostIfName}`, () => setBridgePortHairpin(host, port.index));
    withSocket(a.netns, (ns) => configurePeer(ns, a));
  } catch (e) {
    try {
      deleteLink(host, a.hostIfName);
    } catch {
      // best effort: the original error is the one worth reporting
    }
    throw e;
  }
}

function configurePeer(ns: NetlinkSocket, a: VethAttachment): void {
  const at = `${a.ifName} in netns ${a.netns}`;
  const peer = attempt(`cannot find ${at}`, () => getLink(ns, a.ifName));
  if (!peer) throw new OpError(`cannot find ${at}: No such device`, 'ENODEV', 19);
  attempt(`cannot bring ${at} up`, () => setLinkUp(ns, a.ifName));
  for (const cidr of a.addresses) {
    attempt(`cannot add address ${cidr} to ${at}`, () => addAddress(ns, peer.index, cidr));
  }
  if (a.gateway) {
    const gw = a.gateway;
    attempt(`cannot add default route via ${gw} to ${at}`, () =>
      replaceRoute(ns, { dst: 'default', gateway: gw, oif: peer.index }));
  }
}

/** Deletes the container side (the kernel takes the host end with it). Idempotent. */
export function detachVeth(netns: string, ifName: string): void {
  if (!netnsExists(netns)) return;
  withSocket(netns, (ns) => attempt(`cannot delete ${ifName} in netns ${netns}`, () => deleteLink(ns, ifName)));
}
