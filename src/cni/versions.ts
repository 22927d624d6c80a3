import type { CniIp, CniResult } from './types.js';

// The CNI versions berth-cni speaks, and the result in each. 0.1/0.2 results had another
// shape (ip4/ip6 objects) that no current runtime asks for: refused with code 1.

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const NEWEST = '1.1.0';

export function isSupported(version: string): boolean {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(version);
}

/** a < b, as versions (dotted numbers). */
export function olderThan(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  return false;
}

/** A 1.x result as `version` has it: 0.3.x and 0.4.0 carry each address's family in `version`. */
export function resultIn(version: string, r: CniResult): CniResult & { ips?: { version?: string }[] } {
  const out: CniResult = { ...r, cniVersion: version };
  if (olderThan(version, '1.0.0')) {
    out.ips = (r.ips ?? []).map((ip) => ({ ...ip, version: ip.address.includes(':') ? '6' : '4' }));
  }
  return out;
}

/**
 * This plugin's result merged into the one of the plugins before it (the spec: a chained
 * plugin returns prevResult with its own additions), interface indices shifted past theirs.
 */
export function mergedInto(prev: CniResult | undefined, mine: CniResult): CniResult {
  if (!prev) return mine;
  const offset = prev.interfaces?.length ?? 0;
  // a 0.x prevResult's ips carry `version`, which 1.x has not
  const theirs = (prev.ips ?? []).map((ip) => {
    const { version: _family, ...rest } = ip as CniIp & { version?: string };
    return rest;
  });
  const ours = (mine.ips ?? []).map((ip) => (ip.interface === undefined ? ip : { ...ip, interface: ip.interface + offset }));
  return {
    cniVersion: mine.cniVersion,
    interfaces: [...(prev.interfaces ?? []), ...(mine.interfaces ?? [])],
    ips: [...theirs, ...ours],
    routes: [...(prev.routes ?? []), ...(mine.routes ?? [])],
    dns: mine.dns?.nameservers?.length ? mine.dns : (prev.dns ?? mine.dns),
  };
}
