import { SysError } from '../ffi/libc.js';
import {
  AF_UNSPEC, CTA_ID, CTA_IP_V4_DST, CTA_IP_V4_SRC, CTA_IP_V6_DST, CTA_IP_V6_SRC, CTA_TUPLE_IP, CTA_TUPLE_ORIG,
  CTA_TUPLE_REPLY, CTA_ZONE, IPCTNL_MSG_CT_DELETE, IPCTNL_MSG_CT_GET, NFGENMSG_LEN, NFNL_SUBSYS_CTNETLINK, NLA_TYPE_MASK,
} from './constants.js';
import { ipToBytes } from './ipbytes.js';
import { parseAttrs } from './message.js';
import type { NetlinkSocket } from './socket.js';

// Conntrack entries over nfnetlink (ctnetlink), on a NETLINK_NETFILTER socket. The kernel
// deletes by exact tuple only (a delete without one flushes the whole table), so deleting
// "every entry of an IP" is what the conntrack tool does too: dump, match, delete each.

const ENOENT = 2;
/** a dumped entry comes as IPCTNL_MSG_CT_NEW */
const IPCTNL_MSG_CT_NEW_REPLY = 0;
const align4 = (n: number): number => (n + 3) & ~3;

export const ctMsgType = (msg: number): number => (NFNL_SUBSYS_CTNETLINK << 8) | msg;

/** struct nfgenmsg: family u8, version u8 (NFNETLINK_V0), res_id be16. */
export function nfgenmsg(family: number): Buffer {
  const b = Buffer.alloc(NFGENMSG_LEN);
  b.writeUInt8(family, 0);
  return b;
}

/** The attributes of `buf` from `start` as whole TLVs (header included), to send back unchanged. */
function rawAttrs(buf: Buffer, start: number): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = start;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.set(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, buf.subarray(off, off + align4(len)));
    off += align4(len);
  }
  return out;
}

/** The source and destination addresses of a CTA_TUPLE_* payload. */
function tupleAddresses(tuple: Buffer | undefined): Buffer[] {
  const ip = tuple && parseAttrs(tuple).get(CTA_TUPLE_IP);
  if (!ip) return [];
  const a = parseAttrs(ip);
  return [CTA_IP_V4_SRC, CTA_IP_V4_DST, CTA_IP_V6_SRC, CTA_IP_V6_DST].flatMap((t) => a.get(t) ?? []);
}

/** One entry as the kernel identifies it for a delete: its family, original tuple, zone and id. */
export interface ConntrackKey {
  family: number;
  attrs: Buffer[];
}

/** Entries (every family and zone) with `ip` as source or destination of either direction. */
export function conntrackEntriesOf(s: NetlinkSocket, ip: string): ConntrackKey[] {
  const want = ipToBytes(ip).bytes;
  const out: ConntrackKey[] = [];
  for (const m of s.dump(ctMsgType(IPCTNL_MSG_CT_GET), [nfgenmsg(AF_UNSPEC)])) {
    if (m.type !== ctMsgType(IPCTNL_MSG_CT_NEW_REPLY) || m.payload.length < NFGENMSG_LEN) continue;
    const a = parseAttrs(m.payload, NFGENMSG_LEN);
    const addresses = [...tupleAddresses(a.get(CTA_TUPLE_ORIG)), ...tupleAddresses(a.get(CTA_TUPLE_REPLY))];
    if (!addresses.some((b) => b.equals(want))) continue;
    const raw = rawAttrs(m.payload, NFGENMSG_LEN);
    out.push({ family: m.payload.readUInt8(0), attrs: [CTA_TUPLE_ORIG, CTA_ZONE, CTA_ID].flatMap((t) => raw.get(t) ?? []) });
  }
  return out;
}

/** Deletes one entry; false when it was gone already (expired, or deleted by someone else). */
export function deleteConntrack(s: NetlinkSocket, key: ConntrackKey): boolean {
  try {
    s.request(ctMsgType(IPCTNL_MSG_CT_DELETE), 0, [nfgenmsg(key.family), ...key.attrs]);
    return true;
  } catch (e) {
    if (e instanceof SysError && e.errno === ENOENT) return false;
    throw e;
  }
}

/** Deletes every entry of `ip`; how many were deleted. */
export function flushConntrackOf(s: NetlinkSocket, ip: string): number {
  let n = 0;
  for (const key of conntrackEntriesOf(s, ip)) if (deleteConntrack(s, key)) n++;
  return n;
}
