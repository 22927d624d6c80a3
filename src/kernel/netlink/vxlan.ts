import {
  AF_INET6, IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_IFNAME, IFLA_LINKINFO, IFLA_MASTER, IFLA_MTU, IFLA_VXLAN_ID,
  IFLA_VXLAN_L2MISS, IFLA_VXLAN_L3MISS, IFLA_VXLAN_LEARNING, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, IFLA_VXLAN_PORT,
  IFLA_VXLAN_PROXY, IFLA_VXLAN_TTL, NLM_F_CREATE, NLM_F_EXCL, RTM_NEWLINK,
} from './constants.js';
import { bytesToIp, ipToBytes } from './ipbytes.js';
import { attr, nested, parseAttrs, strAttr, u32Attr } from './message.js';
import { ifinfomsg } from './links.js';
import type { NetlinkSocket } from './socket.js';
import type { VxlanInfo } from '../types.js';

// VXLAN links over rtnetlink, made the way an overlay with a control plane needs them:
// unicast only (no multicast group: every remote endpoint is programmed, nothing is
// flooded), no learning (entries come from the store, never from traffic, so an endpoint
// that moved cannot leave a learned entry behind), and ARP/ND proxy (the device answers
// from its neighbour table, so no ARP or ND crosses the underlay).

/** IANA's VXLAN port (RFC 7348); the kernel's default is Linux's historic 8472. */
export const VXLAN_PORT = 4789;
export const VXLAN_DEFAULT_TTL = 64;

/** Encapsulation cost: inner Ethernet 14 + VXLAN 8 + UDP 8 + outer IP header (20 for IPv4, 40 for IPv6). */
export function vxlanOverhead(underlayFamily: 4 | 6): number {
  return 14 + 8 + 8 + (underlayFamily === 6 ? 40 : 20);
}

/** The MTU of a VXLAN device (and of its containers) whose packets must fit an underlay of `underlayMtu`. */
export function vxlanMtu(underlayMtu: number, underlayFamily: 4 | 6): number {
  return underlayMtu - vxlanOverhead(underlayFamily);
}

export interface VxlanLinkSpec {
  name: string;
  vni: number;
  /** the underlay address the tunnel's packets leave from (IPv4 or IPv6) */
  local: string;
  port: number;
  ttl: number;
  mtu: number;
  /** ifindex of the bridge it is born enslaved to (0: none) */
  master: number;
}

function u8Attr(type: number, value: number): Buffer {
  return attr(type, Buffer.from([value]));
}

function be16Attr(type: number, value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value, 0);
  return attr(type, b);
}

/** The RTM_NEWLINK body that creates the device (down). */
export function vxlanLinkBody(v: VxlanLinkSpec): Buffer[] {
  const local = ipToBytes(v.local);
  const data = [
    u32Attr(IFLA_VXLAN_ID, v.vni),
    attr(local.family === AF_INET6 ? IFLA_VXLAN_LOCAL6 : IFLA_VXLAN_LOCAL, local.bytes),
    u8Attr(IFLA_VXLAN_TTL, v.ttl),
    u8Attr(IFLA_VXLAN_LEARNING, 0),
    u8Attr(IFLA_VXLAN_PROXY, 1),
    // no miss notifications: every peer is pushed in advance, nobody listens for misses
    u8Attr(IFLA_VXLAN_L2MISS, 0),
    u8Attr(IFLA_VXLAN_L3MISS, 0),
    be16Attr(IFLA_VXLAN_PORT, v.port),
  ];
  const body = [
    ifinfomsg(),
    strAttr(IFLA_IFNAME, v.name),
    u32Attr(IFLA_MTU, v.mtu),
    nested(IFLA_LINKINFO, [strAttr(IFLA_INFO_KIND, 'vxlan'), nested(IFLA_INFO_DATA, data)]),
  ];
  if (v.master) body.push(u32Attr(IFLA_MASTER, v.master));
  return body;
}

export function createVxlan(s: NetlinkSocket, v: VxlanLinkSpec): void {
  s.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, vxlanLinkBody(v));
}

/** What the kernel reports in IFLA_INFO_DATA of a vxlan link. */
export function parseVxlanInfo(data: Buffer): VxlanInfo {
  const a = parseAttrs(data);
  const local = a.get(IFLA_VXLAN_LOCAL) ?? a.get(IFLA_VXLAN_LOCAL6);
  const u8 = (t: number): number => a.get(t)?.readUInt8(0) ?? 0;
  const port = a.get(IFLA_VXLAN_PORT);
  return {
    vni: a.get(IFLA_VXLAN_ID)?.readUInt32LE(0) ?? 0,
    ...(local && local.some((b) => b !== 0) ? { local: bytesToIp(local) } : {}),
    port: port && port.length >= 2 ? port.readUInt16BE(0) : 0,
    ttl: u8(IFLA_VXLAN_TTL),
    learning: u8(IFLA_VXLAN_LEARNING) === 1,
    proxy: u8(IFLA_VXLAN_PROXY) === 1,
  };
}
