import type { AddressInfo } from '../types.js';
import { SysError } from '../ffi/libc.js';
import {
  AF_INET, AF_INET6, AF_UNSPEC, IFADDRMSG_LEN, IFA_ADDRESS, IFA_FLAGS, IFA_F_NODAD, IFA_F_NOPREFIXROUTE, IFA_LOCAL, NLM_F_CREATE, NLM_F_EXCL,
  RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE,
} from './constants.js';
import { bytesToIp, ipToBytes } from './ipbytes.js';
import { attr, u32Attr } from './message.js';
import { parseAttrs } from './message.js';
import type { NetlinkSocket } from './socket.js';

// Interface addresses over rtnetlink (IPv4 and IPv6).

const EEXIST = 17;
const EADDRNOTAVAIL = 99;

/** struct ifaddrmsg: family, prefixlen, flags, scope, index. */
function ifaddrmsg(family: number, prefix: number, index: number): Buffer {
  const b = Buffer.alloc(IFADDRMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefix, 1);
  b.writeUInt8(RT_SCOPE_UNIVERSE, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

function addrBody(index: number, cidr: string, noPrefixRoute = false): Buffer[] {
  const [ip, prefix] = cidr.split('/');
  const { family, bytes } = ipToBytes(ip);
  const body = [ifaddrmsg(family, Number(prefix), index), attr(IFA_LOCAL, bytes), attr(IFA_ADDRESS, bytes)];
  // berth hands out each address once: no DAD, so an IPv6 address works at once (a container
  // must be usable when its start returns) instead of staying tentative for a second or more
  const flags = (family === AF_INET6 ? IFA_F_NODAD : 0) | (noPrefixRoute ? IFA_F_NOPREFIXROUTE : 0);
  if (flags) body.push(u32Attr(IFA_FLAGS, flags));
  return body;
}

/** Adds an address; false when it was already there. `noPrefixRoute`: without the route to its subnet. */
export function addAddress(s: NetlinkSocket, index: number, cidr: string, noPrefixRoute = false): boolean {
  try {
    s.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, addrBody(index, cidr, noPrefixRoute));
    return true;
  } catch (e) {
    if (e instanceof SysError && e.errno === EEXIST) return false;
    throw e;
  }
}

/** Deletes an address; false when it was not there. */
export function deleteAddress(s: NetlinkSocket, index: number, cidr: string): boolean {
  try {
    s.request(RTM_DELADDR, 0, addrBody(index, cidr));
    return true;
  } catch (e) {
    if (e instanceof SysError && e.errno === EADDRNOTAVAIL) return false;
    throw e;
  }
}

/**
 * IPv4 and global IPv6 addresses; IPv6 link-local (fe80::/64 on every up link) is left
 * out because berth never manages it. `names` maps ifindex → name.
 */
export function listAddresses(s: NetlinkSocket, names: Map<number, string>): AddressInfo[] {
  const out: AddressInfo[] = [];
  for (const m of s.dump(RTM_GETADDR, [ifaddrmsg(AF_UNSPEC, 0, 0)])) {
    if (m.type !== RTM_NEWADDR) continue;
    const family = m.payload.readUInt8(0);
    if (family !== AF_INET && m.payload.readUInt8(3) === RT_SCOPE_LINK) continue;
    const a = parseAttrs(m.payload, IFADDRMSG_LEN);
    const bytes = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS);
    if (!bytes) continue;
    const index = m.payload.readUInt32LE(4);
    out.push({ ifname: names.get(index) ?? '', index, cidr: `${bytesToIp(bytes)}/${m.payload.readUInt8(1)}` });
  }
  return out;
}
