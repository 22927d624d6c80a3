// DNS wire format, by hand, for the hot path: parsing a plain query (one question, no
// compression, at most one OPT record) and building the few answers the resolver makes
// itself. Anything this parser declines goes to the dns-packet slow path (slow-parse.ts).
// Hand-rolled because dns-packet's generic decode/encode costs ~18 µs per query against
// ~11 µs here (shared/KERNEL-COSTS.md §5). A, AAAA and PTR (in-addr.arpa and ip6.arpa
// alike) are all answered here; only the odd query shapes go slow.
import { ipv6Bytes } from './ip6.js';

export const TYPE_A = 1;
export const TYPE_SOA = 6;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const TYPE_OPT = 41;
export const TYPE_ANY = 255;
export const CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

export const HEADER_LEN = 12;
/** A UDP answer's size limit without EDNS (RFC 1035). */
export const PLAIN_UDP_SIZE = 512;
/** The payload size we advertise in our own OPT record (the DNS flag day's value). */
export const OUR_UDP_SIZE = 1232;
const MAX_NAME_LEN = 255;

export interface Question {
  /** Lower-case, dot-separated, no trailing dot ('' for the root). */
  name: string;
  type: number;
  qclass: number;
  /** The question section exactly as the client sent it (its case is echoed back). */
  wire: Buffer;
  /** Whether the query carried an OPT record, and the UDP payload size it allows. */
  edns: boolean;
  udpSize: number;
}

/** The header's opcode (0 = QUERY). */
export function opcodeOf(msg: Buffer): number {
  return ((msg[2] ?? 0) >> 3) & 0x0f;
}

export function isResponse(msg: Buffer): boolean {
  return ((msg[2] ?? 0) & 0x80) !== 0;
}

/**
 * Reads an uncompressed name at off. Returns the lower-case name and the offset after it,
 * or undefined when the name is compressed, too long, runs past the end or has a label with
 * a dot in it (which a dotted string cannot represent).
 */
export function readPlainName(msg: Buffer, off: number): { name: string; end: number } | undefined {
  let name = '';
  let wireLen = 0;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off] as number;
    if (len === 0) return { name, end: off + 1 };
    if (len > 63) return undefined;
    wireLen += len + 1;
    if (wireLen > MAX_NAME_LEN || off + 1 + len > msg.length) return undefined;
    const label = msg.toString('latin1', off + 1, off + 1 + len);
    if (label.includes('.')) return undefined;
    name = name === '' ? label : `${name}.${label}`;
    off += 1 + len;
  }
}

/** An OPT pseudo-record at off that ends the message exactly; returns its payload size. */
function readOpt(msg: Buffer, off: number): number | undefined {
  if (off + 11 > msg.length || msg[off] !== 0) return undefined;
  if (msg.readUInt16BE(off + 1) !== TYPE_OPT) return undefined;
  const rdlen = msg.readUInt16BE(off + 9);
  if (off + 11 + rdlen !== msg.length) return undefined;
  return msg.readUInt16BE(off + 3);
}

/** Parses a plain query; undefined means "not plain: use the slow path". */
export function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < HEADER_LEN + 5) return undefined;
  if (((msg[2] as number) & 0xf8) !== 0) return undefined; // QR=0, opcode QUERY
  if (msg.readUInt16BE(4) !== 1 || msg.readUInt16BE(6) !== 0 || msg.readUInt16BE(8) !== 0) return undefined;
  const arcount = msg.readUInt16BE(10);
  if (arcount > 1) return undefined;
  const n = readPlainName(msg, HEADER_LEN);
  if (!n || n.end + 4 > msg.length) return undefined;
  const end = n.end + 4;
  let udpSize = PLAIN_UDP_SIZE;
  if (arcount === 1) {
    const size = readOpt(msg, end);
    if (size === undefined) return undefined;
    udpSize = Math.max(PLAIN_UDP_SIZE, size);
  } else if (end !== msg.length) {
    return undefined;
  }
  return {
    name: n.name.toLowerCase(),
    type: msg.readUInt16BE(n.end),
    qclass: msg.readUInt16BE(n.end + 2),
    wire: msg.subarray(HEADER_LEN, end),
    edns: arcount === 1,
    udpSize,
  };
}

/** A name in wire form (uncompressed). Labels longer than 63 bytes are cut (never sent). */
export function encodeName(name: string): Buffer {
  const labels = name === '' ? [] : name.split('.');
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'latin1').subarray(0, 63);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** The question section for a name, type and class. */
export function encodeQuestion(name: string, type: number, qclass: number): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(qclass, 2);
  return Buffer.concat([encodeName(name), tail]);
}

/** An answer record's data: 4 address bytes for A, 16 for AAAA, a name for PTR. */
export type Rdata = { type: typeof TYPE_A | typeof TYPE_AAAA; ip: string } | { type: typeof TYPE_PTR; name: string };

export interface Answer {
  id: number;
  /** The query's flags byte 2 (RD is echoed). */
  rd: boolean;
  rcode: number;
  authoritative: boolean;
  question: Question | undefined;
  records: Rdata[];
  ttl: number;
  /** Set when records were left out to fit the client's size: the client retries over TCP. */
  truncated?: boolean;
}

const ipBytes = new Map<string, number>();
const ip6Bytes = new Map<string, Buffer>();

/** An IPv4 address as a 32-bit number (memoized: the same few addresses are answered all day). */
function ipv4Number(ip: string): number {
  let n = ipBytes.get(ip);
  if (n !== undefined) return n;
  const p = ip.split('.');
  n = (((Number(p[0]) & 0xff) << 24) | ((Number(p[1]) & 0xff) << 16) | ((Number(p[2]) & 0xff) << 8) | (Number(p[3]) & 0xff)) >>> 0;
  if (ipBytes.size > 100_000) ipBytes.clear();
  ipBytes.set(ip, n);
  return n;
}

const NO_ADDRESS6 = Buffer.alloc(16);

/** An IPv6 address's 16 bytes (memoized as ipv4Number is). */
function ipv6Wire(ip: string): Buffer {
  let b = ip6Bytes.get(ip);
  if (b) return b;
  b = ipv6Bytes(ip) ?? NO_ADDRESS6;
  if (ip6Bytes.size > 100_000) ip6Bytes.clear();
  ip6Bytes.set(ip, b);
  return b;
}

/** The rdata length of a record: a PTR's name, else the address's size. */
function rdataLength(r: Rdata, name: Buffer | undefined): number {
  return name ? name.length : r.type === TYPE_AAAA ? 16 : 4;
}

const OPT_RECORD = (() => {
  const b = Buffer.alloc(11);
  b.writeUInt16BE(TYPE_OPT, 1);
  b.writeUInt16BE(OUR_UDP_SIZE, 3);
  return b;
})();

/**
 * Builds an answer into one buffer, fitting it into maxSize: records that do not fit are
 * dropped and TC is set (a UDP client then asks again over TCP).
 */
export function encodeAnswer(a: Answer, maxSize = 65535): Buffer {
  const q = a.question;
  const qlen = q ? q.wire.length : 0;
  const optLen = q?.edns ? OPT_RECORD.length : 0;
  const names = a.records.map((r) => (r.type === TYPE_PTR ? encodeName(r.name) : undefined));
  let size = HEADER_LEN + qlen + optLen;
  let fit = 0;
  for (let i = 0; i < names.length; i++) {
    const rrLen = 12 + rdataLength(a.records[i] as Rdata, names[i]);
    if (size + rrLen > maxSize) break;
    size += rrLen;
    fit++;
  }
  const b = Buffer.allocUnsafe(size);
  b.writeUInt16BE(a.id, 0);
  b[2] = 0x80 | (a.authoritative ? 0x04 : 0) | (a.truncated || fit < a.records.length ? 0x02 : 0) | (a.rd ? 0x01 : 0);
  b[3] = 0x80 | (a.rcode & 0x0f); // RA: we recurse on the client's behalf
  b.writeUInt16BE(q ? 1 : 0, 4);
  b.writeUInt16BE(fit, 6);
  b.writeUInt16BE(0, 8);
  b.writeUInt16BE(optLen ? 1 : 0, 10);
  let off = HEADER_LEN;
  if (q) off += q.wire.copy(b, off);
  for (let i = 0; i < fit; i++) {
    const r = a.records[i] as Rdata;
    const name = names[i];
    b.writeUInt16BE(0xc00c, off); // the name: a pointer to the question's name
    b.writeUInt16BE(r.type, off + 2);
    b.writeUInt16BE(CLASS_IN, off + 4);
    b.writeUInt32BE(a.ttl, off + 6);
    if (name) {
      b.writeUInt16BE(name.length, off + 10);
      name.copy(b, off + 12);
      off += 12 + name.length;
    } else if (r.type === TYPE_AAAA) {
      b.writeUInt16BE(16, off + 10);
      ipv6Wire(r.ip).copy(b, off + 12);
      off += 28;
    } else {
      b.writeUInt16BE(4, off + 10);
      b.writeUInt32BE(r.type === TYPE_A ? ipv4Number(r.ip) : 0, off + 12);
      off += 16;
    }
  }
  if (optLen) OPT_RECORD.copy(b, off);
  return b;
}

/** A header-only error reply (REFUSED to strangers, FORMERR to unreadable queries). */
export function encodeBareError(msg: Buffer, rcode: number): Buffer {
  const b = Buffer.alloc(HEADER_LEN);
  b.writeUInt16BE(msg.readUInt16BE(0), 0);
  b[2] = 0x80 | ((msg[2] ?? 0) & 0x79); // QR, keep opcode and RD
  b[3] = 0x80 | rcode;
  return b;
}

/** A reply with just the question and an rcode (SERVFAIL, NXDOMAIN, NODATA, NOTIMP). */
export function encodeRcode(id: number, rd: boolean, q: Question, rcode: number, authoritative = false): Buffer {
  return encodeAnswer({ id, rd, rcode, authoritative, question: q, records: [], ttl: 0 });
}

/** The query's id and RD flag. */
export function idOf(msg: Buffer): number {
  return msg.readUInt16BE(0);
}

export function rdOf(msg: Buffer): boolean {
  return ((msg[2] ?? 0) & 0x01) !== 0;
}

/** Offset just past a (possibly compressed) name at off, or -1 when it runs off the end. */
export function skipName(msg: Buffer, off: number): number {
  for (let hops = 0; hops < 128; hops++) {
    if (off >= msg.length) return -1;
    const len = msg[off] as number;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= msg.length ? off + 2 : -1;
    if (len > 63) return -1;
    off += 1 + len;
  }
  return -1;
}

export interface ResponseShape {
  rcode: number;
  truncated: boolean;
  ancount: number;
  /** Offsets of the TTL field of every record except OPT, in order. */
  ttlOffsets: number[];
  /** TTL of each answer-section record, and of any SOA in the authority section. */
  answerTtls: number[];
  soaMinimum: number | undefined;
}

/** Walks a response's records (for the cache); undefined when it is malformed. */
export function walkResponse(msg: Buffer): ResponseShape | undefined {
  if (msg.length < HEADER_LEN) return undefined;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  const ns = msg.readUInt16BE(8);
  const ar = msg.readUInt16BE(10);
  let off = HEADER_LEN;
  for (let i = 0; i < qd; i++) {
    off = skipName(msg, off);
    if (off < 0 || off + 4 > msg.length) return undefined;
    off += 4;
  }
  const shape: ResponseShape = {
    rcode: (msg[3] as number) & 0x0f,
    truncated: ((msg[2] as number) & 0x02) !== 0,
    ancount: an,
    ttlOffsets: [],
    answerTtls: [],
    soaMinimum: undefined,
  };
  for (let i = 0; i < an + ns + ar; i++) {
    off = skipName(msg, off);
    if (off < 0 || off + 10 > msg.length) return undefined;
    const type = msg.readUInt16BE(off);
    const ttl = msg.readUInt32BE(off + 4);
    const rdlen = msg.readUInt16BE(off + 8);
    if (off + 10 + rdlen > msg.length) return undefined;
    if (type !== TYPE_OPT) shape.ttlOffsets.push(off + 4);
    if (i < an) shape.answerTtls.push(ttl);
    else if (i < an + ns && type === TYPE_SOA && rdlen >= 20) {
      shape.soaMinimum = Math.min(ttl, msg.readUInt32BE(off + 10 + rdlen - 4));
    }
    off += 10 + rdlen;
  }
  return shape;
}
