// IPv4 helpers. Addresses travel as dotted strings at the edges and as unsigned 32-bit
// numbers inside (plain JS numbers in 0..2^32-1: bit operators are signed, so every
// result goes through `>>> 0`). Every bad input is an InvalidParameterError with a
// Docker-like message, so the API layer can hand it straight to the user.

import { InvalidParameterError } from './errors.js';

export const IPV4_MAX = 0xffffffff;

/** A parsed "a.b.c.d/p": the address as written plus the network it belongs to. */
export interface Ipv4Cidr {
  /** the address as written ("172.17.0.1" for "172.17.0.1/16") */
  address: string;
  prefix: number;
  /** network address ("172.17.0.0") */
  network: string;
  /** last address of the subnet ("172.17.255.255") */
  broadcast: string;
  addressNum: number;
  networkNum: number;
  broadcastNum: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;
const PREFIX = /^(0|[1-9][0-9]?)$/;

/** The uint32 for a dotted quad, or undefined (leading zeros, junk, out of range). */
export function tryParseIPv4(s: string): number | undefined {
  if (typeof s !== 'string') return undefined;
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!OCTET.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function isIPv4(s: string): boolean {
  return tryParseIPv4(s) !== undefined;
}

/** Parses a dotted quad; throws `invalid IP address: X`. */
export function parseIPv4(s: string): number {
  const n = tryParseIPv4(s);
  if (n === undefined) throw new InvalidParameterError(`invalid IP address: ${s}`);
  return n;
}

export function formatIPv4(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > IPV4_MAX) {
    throw new InvalidParameterError(`invalid IP address: ${n}`);
  }
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Netmask as a uint32 (prefix 0 → 0, 32 → 255.255.255.255). */
export function prefixMask(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new InvalidParameterError(`invalid prefix length: ${prefix}`);
  }
  return prefix === 0 ? 0 : (IPV4_MAX << (32 - prefix)) >>> 0;
}

export function prefixToNetmask(prefix: number): string {
  return formatIPv4(prefixMask(prefix));
}

/** "255.255.240.0" → 20; non-contiguous masks are rejected. */
export function netmaskToPrefix(mask: string): number {
  const n = tryParseIPv4(mask);
  if (n !== undefined) {
    const inverted = ~n >>> 0;
    // a contiguous mask's complement is 2^k - 1
    if ((inverted & (inverted + 1)) === 0) return 32 - Math.log2(inverted + 1);
  }
  throw new InvalidParameterError(`invalid netmask: ${mask}`);
}

/** Parses "a.b.c.d/p"; throws `invalid CIDR address: X`. Host bits may be set. */
export function parseCidr(s: string): Ipv4Cidr {
  const c = tryParseCidr(s);
  if (!c) throw new InvalidParameterError(`invalid CIDR address: ${s}`);
  return c;
}

export function tryParseCidr(s: string): Ipv4Cidr | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = tryParseIPv4(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (addr === undefined || !PREFIX.test(p) || Number(p) > 32) return undefined;
  return cidrFromNumbers(addr, Number(p));
}

export function cidrFromNumbers(addr: number, prefix: number): Ipv4Cidr {
  const mask = prefixMask(prefix);
  const net = (addr & mask) >>> 0;
  const bcast = (net | ~mask) >>> 0;
  return {
    address: formatIPv4(addr), prefix,
    network: formatIPv4(net), broadcast: formatIPv4(bcast),
    addressNum: addr, networkNum: net, broadcastNum: bcast,
  };
}

/** "172.17.0.1/16" → "172.17.0.0/16". */
export function canonicalCidr(s: string): string {
  const c = parseCidr(s);
  return `${c.network}/${c.prefix}`;
}

/** True when no host bits are set ("172.17.0.0/16" yes, "172.17.0.1/16" no). */
export function isCanonicalCidr(s: string): boolean {
  const c = parseCidr(s);
  return c.addressNum === c.networkNum;
}

/** Is `ip` (dotted quad) inside `cidr`? */
export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const n = parseIPv4(ip);
  return n >= c.networkNum && n <= c.broadcastNum;
}

/** Do the two subnets share at least one address? */
export function cidrOverlaps(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.networkNum <= y.broadcastNum && y.networkNum <= x.broadcastNum;
}

/** Is subnet `inner` entirely inside subnet `outer`? */
export function cidrInside(inner: string, outer: string): boolean {
  const i = parseCidr(inner);
  const o = parseCidr(outer);
  return i.networkNum >= o.networkNum && i.broadcastNum <= o.broadcastNum;
}

/**
 * First and last addresses a host may use. /31 (RFC 3021) and /32 have no network or
 * broadcast address to keep back; wider subnets lose both ends.
 */
export function usableRange(c: Ipv4Cidr): { first: number; last: number } {
  if (c.prefix >= 31) return { first: c.networkNum, last: c.broadcastNum };
  return { first: c.networkNum + 1, last: c.broadcastNum - 1 };
}

export function firstHost(cidr: string): string {
  return formatIPv4(usableRange(parseCidr(cidr)).first);
}

export function lastHost(cidr: string): string {
  return formatIPv4(usableRange(parseCidr(cidr)).last);
}

/** Docker's rule: 02:42 followed by the four address bytes. */
export function macFromIp(ip: string): string {
  const n = parseIPv4(ip);
  const bytes = [0x02, 0x42, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const MAC = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

/** Six hex octets separated by ':' (or '-', used consistently). */
export function isValidMac(mac: string): boolean {
  return typeof mac === 'string' && MAC.test(mac);
}

/** Validates and normalises a MAC to lowercase colon form; throws `invalid MAC address: X`. */
export function parseMac(mac: string): string {
  if (!isValidMac(mac)) throw new InvalidParameterError(`invalid MAC address: ${mac}`);
  return mac.toLowerCase().replace(/-/g, ':');
}
