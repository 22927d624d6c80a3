// IPv6 helpers, the twin of ip.ts. Addresses travel as text at the edges (always
// written back in RFC 5952's canonical form: lowercase, no leading zeros, the longest
// run of two or more zero groups as "::", the first one on a tie) and as unsigned
// 128-bit bigints inside. Only IPv6 pays for bigint: the IPv4 fast paths in ip.ts stay
// plain numbers. Bad input is an InvalidParameterError in Docker's words.

import { InvalidParameterError } from './errors.js';
import { tryParseIPv4 } from './ip.js';

export const IPV6_BITS = 128;
export const IPV6_MAX = (1n << 128n) - 1n;

/** A parsed "x::y/p": the address as written plus the network it belongs to. */
export interface Ipv6Cidr {
  /** the address, canonical ("fd00::1" for "FD00:0::1/64") */
  address: string;
  prefix: number;
  /** network address, canonical ("fd00::") */
  network: string;
  /** last address of the subnet ("fd00::ffff:ffff:ffff:ffff") */
  last: string;
  addressNum: bigint;
  networkNum: bigint;
  lastNum: bigint;
}

const GROUP = /^[0-9a-fA-F]{1,4}$/;
const PREFIX = /^(0|[1-9][0-9]{0,2})$/;

/** The bigint for an IPv6 address, or undefined (zones, junk, too many groups). */
export function tryParseIPv6(s: string): bigint | undefined {
  if (typeof s !== 'string' || s.length < 2 || s.length > 45) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1], true) : [];
  if (!head || !tail) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(g);
  return n;
}

/**
 * The 16-bit groups of one side of "::" ("" is none). A dotted quad may end the address
 * ("::ffff:10.0.0.1"), and counts as two groups.
 */
function groupsOf(part: string, mayEndInQuad: boolean): number[] | undefined {
  if (part === '') return [];
  const texts = part.split(':');
  const out: number[] = [];
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i];
    if (GROUP.test(t)) { out.push(parseInt(t, 16)); continue; }
    if (mayEndInQuad && i === texts.length - 1) {
      const v4 = tryParseIPv4(t);
      if (v4 === undefined) return undefined;
      out.push(v4 >>> 16, v4 & 0xffff);
      continue;
    }
    return undefined;
  }
  return out;
}

export function isIPv6(s: string): boolean {
  return tryParseIPv6(s) !== undefined;
}

/** Parses an IPv6 address; throws `invalid IP address: X`. */
export function parseIPv6(s: string): bigint {
  const n = tryParseIPv6(s);
  if (n === undefined) throw new InvalidParameterError(`invalid IP address: ${s}`);
  return n;
}

/** RFC 5952 text for a 128-bit number. */
export function formatIPv6(n: bigint): string {
  if (typeof n !== 'bigint' || n < 0n || n > IPV6_MAX) throw new InvalidParameterError(`invalid IP address: ${String(n)}`);
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  // the longest run of zero groups, at least two long (RFC 5952 4.2.2), first on a tie
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** "FD00:0:0::01" → "fd00::1"; throws on junk. */
export function canonicalIPv6(s: string): string {
  return formatIPv6(parseIPv6(s));
}

/** The mask of a prefix length as a bigint (0 → 0, 128 → all ones). */
export function prefixMask6(prefix: number): bigint {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > IPV6_BITS) {
    throw new InvalidParameterError(`invalid prefix length: ${prefix}`);
  }
  return IPV6_MAX ^ ((1n << BigInt(IPV6_BITS - prefix)) - 1n);
}

export function tryParseCidr6(s: string): Ipv6Cidr | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = tryParseIPv6(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (addr === undefined || !PREFIX.test(p) || Number(p) > IPV6_BITS) return undefined;
  return cidr6FromNumbers(addr, Number(p));
}

/** Parses "x::y/p"; throws `invalid CIDR address: X`. Host bits may be set. */
export function parseCidr6(s: string): Ipv6Cidr {
  const c = tryParseCidr6(s);
  if (!c) throw new InvalidParameterError(`invalid CIDR address: ${s}`);
  return c;
}

export function cidr6FromNumbers(addr: bigint, prefix: number): Ipv6Cidr {
  const mask = prefixMask6(prefix);
  const net = addr & mask;
  const last = net | (IPV6_MAX ^ mask);
  return {
    address: formatIPv6(addr), prefix,
    network: formatIPv6(net), last: formatIPv6(last),
    addressNum: addr, networkNum: net, lastNum: last,
  };
}

/** "fd00::1/64" → "fd00::/64". */
export function canonicalCidr6(s: string): string {
  const c = parseCidr6(s);
  return `${c.network}/${c.prefix}`;
}

export function cidr6Contains(cidr: string, ip: string): boolean {
  const c = parseCidr6(cidr);
  const n = parseIPv6(ip);
  return n >= c.networkNum && n <= c.lastNum;
}

export function cidr6Overlaps(a: string, b: string): boolean {
  const x = parseCidr6(a);
  const y = parseCidr6(b);
  return x.networkNum <= y.lastNum && y.networkNum <= x.lastNum;
}

export function cidr6Inside(inner: string, outer: string): boolean {
  const i = parseCidr6(inner);
  const o = parseCidr6(outer);
  return i.networkNum >= o.networkNum && i.lastNum <= o.lastNum;
}

/**
 * First and last addresses a host may use. IPv6 has no broadcast; the subnet-router
 * anycast address (the network address, RFC 4291 2.6.1) is kept back, as Docker does,
 * except in a /127 (RFC 6164) or /128.
 */
export function usableRange6(c: Ipv6Cidr): { first: bigint; last: bigint } {
  if (c.prefix >= 127) return { first: c.networkNum, last: c.lastNum };
  return { first: c.networkNum + 1n, last: c.lastNum };
}
