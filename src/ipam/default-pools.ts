// Docker's default local address pools, as data: each {base, size} entry is cut into
// subnets of prefix `size`. The daemon may replace the list with its
// `--default-address-pool base=…,size=…` flags (parseDefaultAddressPool).

import { ConflictError, InvalidParameterError } from '../util/errors.js';
import { formatIPv4, parseCidr, tryParseCidr, tryParseIPv4 } from '../util/ip.js';
import { familyOf } from '../util/ip-family.js';
import { validatePoolSpec6 } from './default-pools6.js';

export interface DefaultPoolSpec {
  /** canonical CIDR to carve from, e.g. "192.168.0.0/16" */
  base: string;
  /** prefix length of each carved subnet, e.g. 20 */
  size: number;
}

/** 172.17–31.0.0/16 as /16s, then 192.168.0.0/16 as /20s: 31 networks. */
export const DOCKER_DEFAULT_POOLS: readonly DefaultPoolSpec[] = Object.freeze([
  ...Array.from({ length: 15 }, (_, i) => ({ base: `172.${17 + i}.0.0/16`, size: 16 })),
  { base: '192.168.0.0/16', size: 20 },
]);

/**
 * berth's defaults: Docker's 31 first (same subnets in the same order, so habits and
 * scripts hold), then 10.128.0.0/9 cut into /20s (4,094 addresses each, room for a full
 * 1,023-port bridge): 2,048 more networks before "could not find an available … pool".
 */
export const BERTH_DEFAULT_POOLS: readonly DefaultPoolSpec[] = Object.freeze([
  ...DOCKER_DEFAULT_POOLS,
  { base: '10.128.0.0/9', size: 20 },
]);

/** Something a candidate pool must not overlap, with a word on what it is. */
export interface PoolObstacle {
  cidr: string;
  /** e.g. "network pool", "excluded" (a host route, another network) */
  what: string;
}

export const NO_DEFAULT_POOL =
  'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network';

/**
 * Obstacles from route destinations or CIDRs: "10.0.0.0/8", a bare "10.1.2.3" (a /32).
 * The default route ("default", "0.0.0.0/0") overlaps everything and is not an
 * obstacle; anything that is not IPv4 (IPv6 routes, junk) is skipped.
 */
export function routeObstacles(routes: readonly string[], what: string): PoolObstacle[] {
  const out: PoolObstacle[] = [];
  for (const r of routes) {
    const text = typeof r === 'string' ? r.trim() : '';
    const cidr = tryParseIPv4(text) !== undefined ? `${text}/32` : text;
    const c = tryParseCidr(cidr);
    if (c && c.prefix > 0) out.push({ cidr: `${c.network}/${c.prefix}`, what });
  }
  return out;
}

/** Parses one `--default-address-pool` value: "base=10.10.0.0/16,size=24" (or an IPv6 base). */
export function parseDefaultAddressPool(flag: string): DefaultPoolSpec {
  const fields = new Map<string, string>();
  for (const part of flag.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new InvalidParameterError(`invalid default address pool ${flag}: expected base=CIDR,size=N`);
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const base = fields.get('base');
  const size = fields.get('size');
  if (!base || !size || !/^[0-9]{1,3}$/.test(size)) {
    throw new InvalidParameterError(`invalid default address pool ${flag}: expected base=CIDR,size=N`);
  }
  return validatePoolSpec({ base, size: Number(size) });
}

export function validatePoolSpec(spec: DefaultPoolSpec): DefaultPoolSpec {
  if (typeof spec.base === 'string' && familyOf(spec.base) === 6) return validatePoolSpec6(spec);
  const c = tryParseCidr(spec.base);
  if (!c) throw new InvalidParameterError(`invalid CIDR address: ${spec.base}`);
  if (!Number.isInteger(spec.size) || spec.size < c.prefix || spec.size > 32) {
    throw new InvalidParameterError(
      `invalid default address pool ${spec.base}: size ${spec.size} must be between ${c.prefix} and 32`);
  }
  return { base: `${c.network}/${c.prefix}`, size: spec.size };
}

/** Every subnet the specs describe, in order (lazy: a /8 cut into /24s is 65536). */
export function* expandPools(specs: readonly DefaultPoolSpec[]): IterableIterator<string> {
  for (const spec of specs) {
    const base = parseCidr(spec.base);
    const step = 2 ** (32 - spec.size);
    for (let n = base.networkNum; n <= base.broadcastNum; n += step) {
      yield `${formatIPv4(n)}/${spec.size}`;
    }
  }
}

/** Obstacles merged where they overlap: sorted, disjoint, searchable by bisection. */
interface Span { start: number; end: number; obstacles: PoolObstacle[] }

/**
 * The first subnet from `specs` that overlaps none of `obstacles`. Candidates that hit
 * an obstacle are skipped past its end in one step, so big pools stay cheap. None left
 * → ConflictError naming what is in the way.
 */
export function findFreeDefaultPool(
  specs: readonly DefaultPoolSpec[], obstacles: readonly PoolObstacle[],
): string {
  const spans = toSpans(obstacles);
  const hit = new Set<PoolObstacle>();
  for (const spec of specs) {
    const found = firstFreeInSpec(spec, spans, hit);
    if (found) return found;
  }
  throw new ConflictError(exhaustionMessage([...hit]));
}

function firstFreeInSpec(spec: DefaultPoolSpec, spans: Span[], hit: Set<PoolObstacle>): string | undefined {
  const base = parseCidr(spec.base);
  const step = 2 ** (32 - spec.size);
  let n = base.networkNum;
  while (n <= base.broadcastNum) {
    const blockers = overlapping(spans, n, n + step - 1);
    if (blockers.length === 0) return `${formatIPv4(n)}/${spec.size}`;
    for (const b of blockers) b.obstacles.forEach((o) => hit.add(o));
    // jump to the first aligned candidate after the furthest obstacle (the last one)
    const reach = blockers[blockers.length - 1].end;
    n = Math.max(n + step, Math.ceil((reach + 1) / step) * step);
  }
  return undefined;
}

function toSpans(obstacles: readonly PoolObstacle[]): Span[] {
  const raw: Span[] = [];
  for (const o of obstacles) {
    const c = tryParseCidr(o.cidr);
    if (c) raw.push({ start: c.networkNum, end: c.broadcastNum, obstacles: [o] });
  }
  raw.sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  for (const s of raw) {
    const last = merged[merged.length - 1];
    if (last && s.start <= last.end) {
      last.end = Math.max(last.end, s.end);
      last.obstacles.push(...s.obstacles);
    } else {
      merged.push(s);
    }
  }
  return merged;
}

/** The spans overlapping [start, end], ascending (spans are disjoint and sorted). */
function overlapping(spans: Span[], start: number, end: number): Span[] {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) { // count spans with start <= end
    const mid = (lo + hi) >>> 1;
    if (spans[mid].start <= end) lo = mid + 1; else hi = mid;
  }
  const found: Span[] = [];
  for (let i = lo - 1; i >= 0 && spans[i].end >= start; i--) found.unshift(spans[i]);
  return found;
}

const MAX_LISTED = 12;

function exhaustionMessage(hit: PoolObstacle[]): string {
  if (hit.length === 0) return NO_DEFAULT_POOL;
  const listed = hit.slice(0, MAX_LISTED).map((o) => `${o.cidr} (${o.what})`);
  const more = hit.length > MAX_LISTED ? ` and ${hit.length - MAX_LISTED} more` : '';
  return `${NO_DEFAULT_POOL}: in the way: ${listed.join(', ')}${more}`;
}
