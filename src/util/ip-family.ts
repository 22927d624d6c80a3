// Family-neutral wrappers for the places that hold a subnet of either family (a network's
// IPAM configs, daemon flags). The family is read from the text: IPv6 has a ':', IPv4
// never does. Callers on a known-IPv4 path keep calling ip.ts directly (no bigint there).

import { InvalidParameterError } from './errors.js';
import { cidrContains, cidrInside, cidrOverlaps, tryParseCidr, tryParseIPv4 } from './ip.js';
import { cidr6Contains, cidr6Inside, cidr6Overlaps, tryParseCidr6, tryParseIPv6 } from './ip6.js';

export type IpFamily = 4 | 6;

/** The family a CIDR or address is written in (by its text, not checked). */
export function familyOf(text: string): IpFamily {
  return text.includes(':') ? 6 : 4;
}

/** "0.0.0.0:8080", "[::]:8080": an address and a port as Docker prints them (Go's JoinHostPort). */
export function joinHostPort(host: string, port: number | string): string {
  return familyOf(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export function isIpAddress(s: string): boolean {
  return familyOf(s) === 6 ? tryParseIPv6(s) !== undefined : tryParseIPv4(s) !== undefined;
}

/** A CIDR of either family in canonical text ("fd00::/64", "10.0.0.0/8"), or undefined. */
export function tryCanonicalCidr(s: string): string | undefined {
  if (typeof s !== 'string') return undefined;
  const c = familyOf(s) === 6 ? tryParseCidr6(s) : tryParseCidr(s);
  return c ? `${c.network}/${c.prefix}` : undefined;
}

/** Is `ip` inside `cidr`? Different families never contain each other. */
export function anyCidrContains(cidr: string, ip: string): boolean {
  const f = familyOf(cidr);
  if (f !== familyOf(ip)) return false;
  return f === 6 ? cidr6Contains(cidr, ip) : cidrContains(cidr, ip);
}

export function anyCidrOverlaps(a: string, b: string): boolean {
  const f = familyOf(a);
  if (f !== familyOf(b)) return false;
  return f === 6 ? cidr6Overlaps(a, b) : cidrOverlaps(a, b);
}

export function anyCidrInside(inner: string, outer: string): boolean {
  const f = familyOf(inner);
  if (f !== familyOf(outer)) return false;
  return f === 6 ? cidr6Inside(inner, outer) : cidrInside(inner, outer);
}

/** Throws `invalid IP address: X` unless `ip` is an address of `family`. */
export function checkAddressOf(family: IpFamily, ip: string): void {
  const ok = family === 6 ? tryParseIPv6(ip) !== undefined : tryParseIPv4(ip) !== undefined;
  if (!ok) throw new InvalidParameterError(`invalid IP address: ${ip}`);
}
