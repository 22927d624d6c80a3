import type { FdbEntry, NeighbourEntry } from '../types.js';
import { SysError } from '../ffi/libc.js';
import {
  AF_BRIDGE, AF_INET, AF_INET6, NDA_DST, NDA_LLADDR, NDA_MASTER, NDMSG_LEN, NLM_F_CREATE, NLM_F_REPLACE, NTF_MASTER, NTF_SELF,
  NUD_NOARP, NUD_PERMANENT, RTM_DELNEIGH, RTM_GETNEIGH, RTM_NEWNEIGH,
} from './constants.js';
import { bytesToIp, ipToBytes } from './ipbytes.js';
import { macBytes } from './links.js';
import { attr, parseAttrs } from './message.js';
import type { NetlinkSocket } from './socket.js';

// Neighbour entries (IP → MAC, the ARP/ND cache) and forwarding-database entries
// (MAC → port or remote VTEP, family AF_BRIDGE) over rtnetlink: both are RTM_*NEIGH
// messages with a struct ndmsg, told apart by family and by NTF_SELF/NTF_MASTER.

const ENOENT = 2;
const EAFNOSUPPORT = 97;

/** struct ndmsg: family u8, pad u8, pad u16, ifindex s32, state u16, flags u8, type u8. */
export function ndmsg(family: number, ifindex: number, state = 0, flags = 0): Buffer {
  const b = Buffer.alloc(NDMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeInt32LE(ifindex, 4);
  b.writeUInt16LE(state, 8);
  b.writeUInt8(flags, 10);
  return b;
}

const REPLACE = NLM_F_CREATE | NLM_F_REPLACE;

/** Gone already is fine for a delete: false then. */
function deleted(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof SysError && e.errno === ENOENT) return false;
    throw e;
  }
}

/**
 * The VXLAN device's own entry MAC → remote VTEP, permanent. NLM_F_REPLACE changes the
 * destination of an entry that exists (NLM_F_APPEND would add a second one, and the
 * device would send every frame to both hosts).
 */
export function fdbVtepBody(ifindex: number, mac: string, vtep: string): Buffer[] {
  return [ndmsg(AF_BRIDGE, ifindex, NUD_PERMANENT, NTF_SELF), attr(NDA_LLADDR, macBytes(mac)), attr(NDA_DST, ipToBytes(vtep).bytes)];
}

export function replaceFdbVtep(s: NetlinkSocket, ifindex: number, mac: string, vtep: string): void {
  s.request(RTM_NEWNEIGH, REPLACE, fdbVtepBody(ifindex, mac, vtep));
}

/**
 * The bridge's entry MAC → port `ifindex`, static (NUD_NOARP: a "permanent" master entry
 * would be a local one, delivered to the bridge itself), so frames to that MAC go to
 * that port only instead of being flooded to every port.
 */
export function fdbPortBody(ifindex: number, mac: string): Buffer[] {
  return [ndmsg(AF_BRIDGE, ifindex, NUD_NOARP, NTF_MASTER), attr(NDA_LLADDR, macBytes(mac))];
}

export function replaceFdbPort(s: NetlinkSocket, ifindex: number, mac: string): void {
  s.request(RTM_NEWNEIGH, REPLACE, fdbPortBody(ifindex, mac));
}

/** Deletes the FDB entry of `mac` on `ifindex` in one table (every destination of it); false when none. */
export function deleteFdb(s: NetlinkSocket, ifindex: number, mac: string, table: 'self' | 'master'): boolean {
  const flags = table === 'self' ? NTF_SELF : NTF_MASTER;
  return deleted(() => s.request(RTM_DELNEIGH, 0, [ndmsg(AF_BRIDGE, ifindex, 0, flags), attr(NDA_LLADDR, macBytes(mac))]));
}

/** A permanent neighbour IP → MAC (ARP for IPv4, ND for IPv6): never resolved, never aged out. */
export function neighbourBody(ifindex: number, ip: string, mac: string): Buffer[] {
  const dst = ipToBytes(ip);
  return [ndmsg(dst.family, ifindex, NUD_PERMANENT), attr(NDA_DST, dst.bytes), attr(NDA_LLADDR, macBytes(mac))];
}

export function replaceNeighbour(s: NetlinkSocket, ifindex: number, ip: string, mac: string): void {
  s.request(RTM_NEWNEIGH, REPLACE, neighbourBody(ifindex, ip, mac));
}

export function deleteNeighbour(s: NetlinkSocket, ifindex: number, ip: string): boolean {
  const dst = ipToBytes(ip);
  return deleted(() => s.request(RTM_DELNEIGH, 0, [ndmsg(dst.family, ifindex), attr(NDA_DST, dst.bytes)]));
}

function formatMac(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

interface Ndm {
  ifindex: number;
  state: number;
  flags: number;
  attrs: Map<number, Buffer>;
}

function dumpFamily(s: NetlinkSocket, family: number, ifindex: number): Ndm[] {
  let replies;
  try {
    replies = s.dump(RTM_GETNEIGH, [ndmsg(family, 0)]);
  } catch (e) {
    // a kernel booted with ipv6.disable=1 has no ND table to list
    if (family === AF_INET6 && e instanceof SysError && e.errno === EAFNOSUPPORT) return [];
    throw e;
  }
  // filtered here: an ndmsg-only dump request is not filtered by ifindex on every kernel
  return replies
    .filter((m) => m.type === RTM_NEWNEIGH && m.payload.readInt32LE(4) === ifindex)
    .map((m) => ({
      ifindex,
      state: m.payload.readUInt16LE(8),
      flags: m.payload.readUInt8(10),
      attrs: parseAttrs(m.payload, NDMSG_LEN),
    }));
}

function fdbState(state: number): FdbEntry['state'] {
  if (state & NUD_PERMANENT) return 'permanent';
  if (state & NUD_NOARP) return 'static';
  return 'dynamic';
}

/** FDB entries on `ifindex`: the device's own (self) and its bridge's for that port (master). */
export function listFdb(s: NetlinkSocket, ifindex: number): FdbEntry[] {
  const out: FdbEntry[] = [];
  for (const n of dumpFamily(s, AF_BRIDGE, ifindex)) {
    const mac = n.attrs.get(NDA_LLADDR);
    if (!mac || mac.length !== 6) continue;
    const dst = n.attrs.get(NDA_DST);
    out.push({
      mac: formatMac(mac),
      ...(dst ? { dst: bytesToIp(dst) } : {}),
      // the bridge's entries carry NDA_MASTER (not NTF_MASTER); the device's own carry NTF_SELF
      table: !(n.flags & NTF_SELF) && n.attrs.has(NDA_MASTER) ? 'master' : 'self',
      state: fdbState(n.state),
    });
  }
  return out;
}

/** IPv4 then IPv6 neighbours on `ifindex` that have a MAC (not incomplete or failed ones). */
export function listNeighbours(s: NetlinkSocket, ifindex: number): NeighbourEntry[] {
  const out: NeighbourEntry[] = [];
  for (const family of [AF_INET, AF_INET6]) {
    for (const n of dumpFamily(s, family, ifindex)) {
      const ip = n.attrs.get(NDA_DST);
      const mac = n.attrs.get(NDA_LLADDR);
      if (!ip || !mac || mac.length !== 6) continue;
      out.push({ ip: bytesToIp(ip), mac: formatMac(mac), permanent: (n.state & NUD_PERMANENT) !== 0 });
    }
  }
  return out;
}
