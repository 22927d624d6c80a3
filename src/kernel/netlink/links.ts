import { randomBytes } from 'node:crypto';
import type { LinkInfo } from '../types.js';
import { SysError } from '../ffi/libc.js';
import {
  AF_UNSPEC, IFF_UP, IFINFOMSG_LEN, IFLA_ADDRESS, IFLA_EXT_MASK, IFLA_IFNAME, IFLA_INFO_DATA,
  IFLA_INFO_KIND, IFLA_LINKINFO, IFLA_MASTER, IFLA_MTU, IFLA_NET_NS_FD, NLM_F_CREATE, NLM_F_EXCL,
  RTEXT_FILTER_SKIP_STATS, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK, VETH_INFO_PEER,
  IFLA_BRPORT_MODE, IFLA_INFO_SLAVE_DATA, IFLA_INFO_SLAVE_KIND, IFF_PROMISC, IFLA_LINK, IFLA_MACVLAN_MODE,
  IFLA_VLAN_ID, IFLA_IFALIAS, IFLA_BRPORT_LEARNING, MACVLAN_MODE_BRIDGE, MACVLAN_MODE_PASSTHRU, MACVLAN_MODE_PRIVATE, MACVLAN_MODE_VEPA,
} from './constants.js';
import type { MacvlanMode } from '../types.js';
import { attr, attrString, attrU32, nested, parseAttrs, strAttr, u32Attr, type NlMessage } from './message.js';
import type { NetlinkSocket } from './socket.js';
import { parseVxlanInfo } from './vxlan.js';

// Links over rtnetlink: list/get; bridge, veth, macvlan and VLAN creation (VXLAN: vxlan.ts); up/down,
// promiscuous mode, MTU, MAC; moves between namespaces; delete.

const ENODEV = 19;

/** struct ifinfomsg: family, pad, type, index, flags, change. */
export function ifinfomsg(index = 0, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(/[:-]/).map((h) => parseInt(h, 16)));
}

function formatMac(b: Buffer | undefined): string {
  return b ? [...b].map((x) => x.toString(16).padStart(2, '0')).join(':') : '';
}

export function parseLink(m: NlMessage): LinkInfo {
  const a = parseAttrs(m.payload, IFINFOMSG_LEN);
  const info = a.get(IFLA_LINKINFO);
  const alias = attrString(a.get(IFLA_IFALIAS));
  const linkinfo = info ? parseAttrs(info) : undefined;
  const kind = attrString(linkinfo?.get(IFLA_INFO_KIND));
  const data = linkinfo?.get(IFLA_INFO_DATA);
  return {
    ...(alias ? { alias } : {}),
    ...(kind === 'vxlan' && data ? { vxlan: parseVxlanInfo(data) } : {}),
    index: m.payload.readInt32LE(4),
    name: attrString(a.get(IFLA_IFNAME)),
    kind,
    master: attrU32(a.get(IFLA_MASTER)),
    mtu: attrU32(a.get(IFLA_MTU)),
    mac: formatMac(a.get(IFLA_ADDRESS)),
    up: (m.payload.readUInt32LE(8) & IFF_UP) !== 0,
  };
}

const skipStats = (): Buffer => u32Attr(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);

export function listLinks(s: NetlinkSocket): LinkInfo[] {
  return s.dump(RTM_GETLINK, [ifinfomsg(), skipStats()]).filter((m) => m.type === RTM_NEWLINK).map(parseLink);
}

export function getLink(s: NetlinkSocket, name: string): LinkInfo | null {
  try {
    const msgs = s.get(RTM_GETLINK, [ifinfomsg(), strAttr(IFLA_IFNAME, name), skipStats()]);
    const m = msgs.find((x) => x.type === RTM_NEWLINK);
    return m ? parseLink(m) : null;
  } catch (e) {
    if (e instanceof SysError && e.errno === ENODEV) return null;
    throw e;
  }
}

/** A random locally administered unicast MAC. */
function randomMac(): Buffer {
  const b = randomBytes(6);
  b[0] = (b[0] & 0xfe) | 0x02;
  return b;
}

/**
 * A bridge with a MAC of its own: without one the kernel gives it the lowest port MAC,
 * so the gateway's MAC would change (and containers' ARP caches go stale) as ports come and go.
 */
export function createBridge(s: NetlinkSocket, name: string, mtu?: number): void {
  const attrs = [
    strAttr(IFLA_IFNAME, name),
    attr(IFLA_ADDRESS, randomMac()),
    nested(IFLA_LINKINFO, [strAttr(IFLA_INFO_KIND, 'bridge')]),
  ];
  if (mtu !== undefined) attrs.push(u32Attr(IFLA_MTU, mtu));
  s.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, [ifinfomsg(), ...attrs]);
}

/**
 * Hairpin mode on a bridge port: frames may leave by the port they came in on, so a
 * container reaches itself through its own published port (DNAT back to itself) even
 * when br_netfilter makes the bridge see that traffic.
 */
export function setBridgePortHairpin(s: NetlinkSocket, name: string): void {
  // By name, as `ip link set NAME type bridge_slave hairpin on` does: no index lookup first
  // (a GET right after the veth is made costs ~1 ms here; this whole request ~0.1 ms).
  s.request(RTM_NEWLINK, 0, [
    ifinfomsg(),
    strAttr(IFLA_IFNAME, name),
    nested(IFLA_LINKINFO, [
      strAttr(IFLA_INFO_SLAVE_KIND, 'bridge'),
      nested(IFLA_INFO_SLAVE_DATA, [attr(IFLA_BRPORT_MODE, Buffer.from([1]))]),
    ]),
  ]);
}

/**
 * Source-MAC learning on or off for a bridge port. Off on an overlay's VXLAN port: the
 * bridge would otherwise learn every remote MAC on it and keep that entry for 300 s after
 * the endpoint moved (to this host, say): its entries there are programmed, static.
 */
export function setBridgePortLearning(s: NetlinkSocket, name: string, on: boolean): void {
  s.request(RTM_NEWLINK, 0, [
    ifinfomsg(),
    strAttr(IFLA_IFNAME, name),
    nested(IFLA_LINKINFO, [
      strAttr(IFLA_INFO_SLAVE_KIND, 'bridge'),
      nested(IFLA_INFO_SLAVE_DATA, [attr(IFLA_BRPORT_LEARNING, Buffer.from([on ? 1 : 0]))]),
    ]),
  ]);
}

/** Makes `name` a port of the bridge `master` (ifindex). */
export function setLinkMaster(s: NetlinkSocket, name: string, master: number): void {
  s.request(RTM_NEWLINK, 0, [ifinfomsg(), strAttr(IFLA_IFNAME, name), u32Attr(IFLA_MASTER, master)]);
}

export function setLinkUp(s: NetlinkSocket, name: string): void {
  s.request(RTM_NEWLINK, 0, [ifinfomsg(0, IFF_UP, IFF_UP), strAttr(IFLA_IFNAME, name)]);
}

/** Sets a link's alias: berth marks the links it made for a network that are named by the user (a VLAN parent). */
export function setLinkAlias(s: NetlinkSocket, name: string, alias: string): void {
  s.request(RTM_NEWLINK, 0, [ifinfomsg(), strAttr(IFLA_IFNAME, name), strAttr(IFLA_IFALIAS, alias)]);
}

export function setLinkDown(s: NetlinkSocket, name: string): void {
  s.request(RTM_NEWLINK, 0, [ifinfomsg(0, 0, IFF_UP), strAttr(IFLA_IFNAME, name)]);
}

/** Promiscuous mode: the NIC passes up frames for MACs it does not own (what a parent on a virtual switch may need). */
export function setLinkPromisc(s: NetlinkSocket, name: string, on: boolean): void {
  s.request(RTM_NEWLINK, 0, [ifinfomsg(0, on ? IFF_PROMISC : 0, IFF_PROMISC), strAttr(IFLA_IFNAME, name)]);
}

/** Sets the MAC and/or MTU of a link by name (a MAC change needs it down on most drivers). */
export function setLinkAddressMtu(s: NetlinkSocket, name: string, mac?: string, mtu?: number): void {
  const attrs = [strAttr(IFLA_IFNAME, name)];
  if (mac !== undefined) attrs.push(attr(IFLA_ADDRESS, macBytes(mac)));
  if (mtu !== undefined) attrs.push(u32Attr(IFLA_MTU, mtu));
  s.request(RTM_NEWLINK, 0, [ifinfomsg(), ...attrs]);
}

/**
 * Moves the link `index` (of the socket's netns) into the netns of `nsFd`, named `name`
 * there. The kernel brings it down and drops its addresses on the way. When its current
 * name is free over there it arrives under that name and is then renamed: a rename that
 * fails leaves it there under the old name (the caller looks for it).
 */
export function moveLink(s: NetlinkSocket, index: number, nsFd: number, name: string): void {
  s.request(RTM_NEWLINK, 0, [ifinfomsg(index), u32Attr(IFLA_NET_NS_FD, nsFd), strAttr(IFLA_IFNAME, name)]);
}

export function setLinkMtu(s: NetlinkSocket, name: string, mtu: number): void {
  s.request(RTM_NEWLINK, 0, [ifinfomsg(), strAttr(IFLA_IFNAME, name), u32Attr(IFLA_MTU, mtu)]);
}

/** Deletes by name; false when there was no such link. */
export function deleteLink(s: NetlinkSocket, name: string): boolean {
  try {
    s.request(RTM_DELLINK, 0, [ifinfomsg(), strAttr(IFLA_IFNAME, name)]);
    return true;
  } catch (e) {
    if (e instanceof SysError && e.errno === ENODEV) return false;
    throw e;
  }
}

export interface VethSpec {
  hostName: string;
  /** ifindex of the bridge the host end joins (undefined: none, a routed host end) */
  master?: number;
  mtu: number;
  peerName: string;
  peerMac: string;
  /** fd of the netns the peer is created in */
  peerNsFd: number;
}

/**
 * One RTM_NEWLINK: host end enslaved, peer born inside the target netns with its final
 * name, MAC and MTU. Both are left down: the caller turns IPv6 off on the host end before
 * it comes up, and IFF_UP in the peer's ifinfomsg fails with ENOTCONN (seen on 6.18), so
 * the caller brings the peer up from inside the netns.
 */
export function createVeth(s: NetlinkSocket, v: VethSpec): void {
  const peer = Buffer.concat([
    ifinfomsg(),
    strAttr(IFLA_IFNAME, v.peerName),
    attr(IFLA_ADDRESS, macBytes(v.peerMac)),
    u32Attr(IFLA_MTU, v.mtu),
    u32Attr(IFLA_NET_NS_FD, v.peerNsFd),
  ]);
  const linkinfo = nested(IFLA_LINKINFO, [
    strAttr(IFLA_INFO_KIND, 'veth'),
    nested(IFLA_INFO_DATA, [attr(VETH_INFO_PEER, peer)]),
  ]);
  s.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, [
    ifinfomsg(),
    strAttr(IFLA_IFNAME, v.hostName),
    u32Attr(IFLA_MTU, v.mtu),
    ...(v.master === undefined ? [] : [u32Attr(IFLA_MASTER, v.master)]),
    linkinfo,
  ]);
}

const MACVLAN_MODE: Record<MacvlanMode, number> = {
  private: MACVLAN_MODE_PRIVATE,
  vepa: MACVLAN_MODE_VEPA,
  bridge: MACVLAN_MODE_BRIDGE,
  passthru: MACVLAN_MODE_PASSTHRU,
};

export interface MacvlanSpec {
  name: string;
  /** ifindex of the parent, in the socket's netns */
  parent: number;
  mode: MacvlanMode;
  mac?: string;
  /** default: the parent's */
  mtu?: number;
  /** fd of the netns it is born in (default: the socket's) */
  nsFd?: number;
}

/** One RTM_NEWLINK: a macvlan of `parent`, born (down) in the target netns under its final name. */
export function createMacvlan(s: NetlinkSocket, m: MacvlanSpec): void {
  const attrs = [
    strAttr(IFLA_IFNAME, m.name),
    u32Attr(IFLA_LINK, m.parent),
    nested(IFLA_LINKINFO, [
      strAttr(IFLA_INFO_KIND, 'macvlan'),
      nested(IFLA_INFO_DATA, [u32Attr(IFLA_MACVLAN_MODE, MACVLAN_MODE[m.mode])]),
    ]),
  ];
  if (m.mac !== undefined) attrs.push(attr(IFLA_ADDRESS, macBytes(m.mac)));
  if (m.mtu !== undefined) attrs.push(u32Attr(IFLA_MTU, m.mtu));
  if (m.nsFd !== undefined) attrs.push(u32Attr(IFLA_NET_NS_FD, m.nsFd));
  s.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, [ifinfomsg(), ...attrs]);
}

/** An 802.1q sub-interface `name` of `parent` with tag `id`, down. */
export function createVlan(s: NetlinkSocket, name: string, parent: number, id: number): void {
  const tag = Buffer.alloc(2);
  tag.writeUInt16LE(id, 0);
  s.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, [
    ifinfomsg(),
    strAttr(IFLA_IFNAME, name),
    u32Attr(IFLA_LINK, parent),
    nested(IFLA_LINKINFO, [strAttr(IFLA_INFO_KIND, 'vlan'), nested(IFLA_INFO_DATA, [attr(IFLA_VLAN_ID, tag)])]),
  ]);
}

/** A veth pair, both ends down, in the socket's netns (the peer in that of `peerNsFd` when given). */
export function createVethPair(s: NetlinkSocket, name: string, peer: string, mtu?: number, peerNsFd?: number): void {
  const mtuAttr = mtu === undefined ? [] : [u32Attr(IFLA_MTU, mtu)];
  const nsAttr = peerNsFd === undefined ? [] : [u32Attr(IFLA_NET_NS_FD, peerNsFd)];
  const peerMsg = Buffer.concat([ifinfomsg(), strAttr(IFLA_IFNAME, peer), ...mtuAttr, ...nsAttr]);
  s.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, [
    ifinfomsg(),
    strAttr(IFLA_IFNAME, name),
    ...mtuAttr,
    nested(IFLA_LINKINFO, [strAttr(IFLA_INFO_KIND, 'veth'), nested(IFLA_INFO_DATA, [attr(VETH_INFO_PEER, peerMsg)])]),
  ]);
}
