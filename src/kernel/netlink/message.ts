import {
  NLA_F_NESTED, NLA_TYPE_MASK, NLMSG_HDRLEN,
} from './constants.js';

// Netlink wire format: 16-byte nlmsghdr, a fixed family header, then attributes (NLA):
// u16 length, u16 type, payload, padded to 4 bytes. Host byte order (little-endian here).

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  /** everything after the nlmsghdr */
  payload: Buffer;
}

const align4 = (n: number): number => (n + 3) & ~3;

export function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

export function nested(type: number, children: Buffer[]): Buffer {
  return attr(type | NLA_F_NESTED, Buffer.concat(children));
}

export function u32Attr(type: number, value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0, 0);
  return attr(type, b);
}

/** NUL-terminated string attribute (IFLA_IFNAME, IFLA_INFO_KIND). */
export function strAttr(type: number, value: string): Buffer {
  return attr(type, Buffer.from(`${value}\0`, 'utf8'));
}

export function encodeMessage(type: number, flags: number, seq: number, body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  const hdr = Buffer.alloc(NLMSG_HDRLEN);
  hdr.writeUInt32LE(NLMSG_HDRLEN + payload.length, 0);
  hdr.writeUInt16LE(type, 4);
  hdr.writeUInt16LE(flags, 6);
  hdr.writeUInt32LE(seq, 8);
  hdr.writeUInt32LE(0, 12);
  return Buffer.concat([hdr, payload]);
}

/** Splits one received datagram into messages (copies, so the recv buffer can be reused). */
export function decodeMessages(buf: Buffer, len: number): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= len) {
    const mlen = buf.readUInt32LE(off);
    if (mlen < NLMSG_HDRLEN || off + mlen > len) break;
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      payload: Buffer.from(buf.subarray(off + NLMSG_HDRLEN, off + mlen)),
    });
    off += align4(mlen);
  }
  return out;
}

/** Attributes from `start` to the end of `buf`, by type (nested/byte-order bits masked). */
export function parseAttrs(buf: Buffer, start = 0): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = start;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.set(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

export function attrString(b: Buffer | undefined): string {
  if (!b) return '';
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}

export function attrU32(b: Buffer | undefined): number {
  return b && b.length >= 4 ? b.readUInt32LE(0) : 0;
}
