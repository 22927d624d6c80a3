// The default IPv6 pools: where a network created with --ipv6 and no IPv6 subnet gets
// one. Docker 27+ hashes the host's id into a ULA /48 (RFC 4193: fd00::/8 plus a 40-bit
// Global ID) and cuts it into /64s. berth does the same with its engine id (the UUID
// made once per data-root, GET /info's ID): the /48 is stable across restarts of one
// engine, two engines on one LAN almost surely pick different ones (40 random-looking
// bits), and every network gets a /64, the size SLAAC and most tools expect.
// `--default-address-pool base=fdXX::/48,size=64` replaces it, as for IPv4.

import { createHash } from 'node:crypto';
import { ConflictError, InvalidParameterError } from '../util/errors.js';
import { formatIPv6, tryParseCidr6, tryParseIPv6 } from '../util/ip6.js';
import type { DefaultPoolSpec, PoolObstacle } from './default-pools.js';

export const NO_DEFAULT_POOL6 =
  'could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network';

/** The ULA /48 of an engine: fd + the first 40 bits of SHA-256(seed). */
export function ulaPrefix48(seed: string): string {
  const h = createHash('sha256').update(seed).digest();
  const g = (i: number) => ((h[i] << 8) | h[i + 1]).toString(16);
  return `${(0xfd00 | h[0]).toString(16)}:${g(1)}:${g(3)}::/48`;
}

/** berth's default IPv6 pools for an engine: its ULA /48 as /64s (65,536 networks). */
export function berthDefaultPools6(seed: string): DefaultPoolSpec[] {
  return [{ base: ulaPrefix48(seed), size: 64 }];
}

export function validatePoolSpec6(spec: DefaultPoolSpec): DefaultPoolSpec {
  const c = tryParseCidr6(spec.base);
  if (!c) throw new InvalidParameterError(`invalid CIDR address: ${spec.base}`);
  if (!Number.isInteger(spec.size) || spec.size < c.prefix || spec.size > 128) {
    throw new InvalidParameterError(
      `invalid default address pool ${spec.base}: size ${spec.size} must be between ${c.prefix} and 128`);
  }
  return { base: `${c.network}/${c.prefix}`, size: spec.size };
}

/** IPv6 obstacles from route destinations or CIDRs; the default route and IPv4 are skipped. */
export function routeObstacles6(routes: readonly string[], what: string): PoolObstacle[] {
  const out: PoolObstacle[] = [];
  for (const r of routes) {
    const text = typeof r === 'string' ? r.trim() : '';
    const c = tryParseCidr6(tryParseIPv6(text) !== undefined ? `${text}/128` : text);
    if (c && c.prefix > 0) out.push({ cidr: `${c.network}/${c.prefix}`, what });
  }
  return out;
}

interface Span6 { start: bigint; end: bigint; obstacle: PoolObstacle }

/**
 * The first subnet from `specs` that overlaps none of `obstacles`; a candidate that hits
 * one is skipped past its end in one step (a /48 holds 65,536 /64s: never walk them).
 */
export function findFreeDefaultPool6(specs: readonly DefaultPoolSpec[], obstacles: readonly PoolObstacle[]): string {
  const spans: Span6[] = [];
  for (const o of obstacles) {
    const c = tryParseCidr6(o.cidr);
    if (c) spans.push({ start: c.networkNum, end: c.lastNum, obstacle: o });
  }
  const hit = new Set<PoolObstacle>();
  for (const spec of specs) {
    const base = tryParseCidr6(spec.base);
    if (!base) continue;
    const step = 1n << BigInt(128 - spec.size);
    let n = base.networkNum;
    while (n <= base.lastNum) {
      const last = n + step - 1n;
      const blockers = spans.filter((s) => s.start <= last && n <= s.end);
      if (blockers.length === 0) return `${formatIPv6(n)}/${spec.size}`;
      let reach = n;
      for (const b of blockers) {
        hit.add(b.obstacle);
        if (b.end > reach) reach = b.end;
      }
      const next = ((reach + 1n + step - 1n) / step) * step;
      n = next > n ? next : n + step;
    }
  }
  const listed = [...hit].slice(0, 12).map((o) => `${o.cidr} (${o.what})`);
  throw new ConflictError(listed.length ? `${NO_DEFAULT_POOL6}: in the way: ${listed.join(', ')}` : NO_DEFAULT_POOL6);
}
