import { ConflictError, InvalidParameterError } from '../util/errors.js';
import { formatIPv4, parseCidr, tryParseIPv4, usableRange } from '../util/ip.js';
import { claimAll, release, type Claim, type ClaimOptions } from './claims.js';
import { keys, lastSegment } from './keys.js';
import type { ClusterStore } from './store.js';

// Addresses of a global network, allocated across hosts. One key per address
// (addresses/<nid>/<ip> → endpoint id), created with a claim (If CreateRevision == 0),
// rather than one bitmap value updated by compare-and-swap as Docker's libkv IPAM did:
//   - each key hangs on its owner's lease, so a dead host's addresses free themselves
//     (bits of a shared bitmap cannot expire one by one);
//   - hosts racing for different addresses never conflict (a bitmap makes every
//     allocation on the network contend for one key, and every loser retry);
//   - the endpoint's record can be created in the same transaction as its address.
// A host picks the next address after the one handed out last on the network (its cursor,
// kept in the store and moved by each claim; the first of the pool when none) that neither
// the store nor its own allocations in flight hold, wrapping around at the pool's end, as
// Docker's IPAM goes on serially: an address given back is not handed out again at once. A
// host whose lease ran out while etcd was away puts its endpoints' addresses back when it
// answers again; the lowest free address would by then be another container's. On a lost
// race it moves to the next one, and after a few losses re-reads.

const CONFLICTS_PER_ROUND = 16;
const ROUNDS = 8;

export interface AddressPool {
  networkId: string;
  /** the network's IPv4 subnet, e.g. 10.0.9.0/24 */
  subnet: string;
  /** --ip-range: allocate only inside this CIDR (within subnet) */
  range?: string;
  /** never handed out: the gateway, addresses the network reserves */
  reserved?: string[];
}

export interface AllocateOptions {
  /** --ip: exactly this address, or ConflictError */
  preferred?: string;
  lease?: string;
  /** more keys to create in the same transaction, given the address chosen (the endpoint's record) */
  with?: (ip: string) => Claim[];
  /** passed to the claim: keys that must exist (the network), keys to touch (its joins marker) */
  requires?: ClaimOptions['requires'];
  touch?: ClaimOptions['touch'];
}

export class AddressAllocator {
  /** addresses this process is claiming right now, per network: its own racers skip them */
  private readonly inFlight = new Map<string, Set<string>>();

  constructor(private readonly store: ClusterStore) {}

  /** Claims a free address of pool for owner (an endpoint id); returns it. */
  async allocate(pool: AddressPool, owner: string, opts: AllocateOptions = {}): Promise<string> {
    const bounds = poolBounds(pool);
    if (opts.preferred !== undefined) {
      // as Docker: --ip may be outside --ip-range, not outside the subnet
      const subnet = poolBounds({ subnet: pool.subnet });
      const ip = tryParseIPv4(opts.preferred);
      if (ip === undefined || ip < subnet.first || ip > subnet.last) throw new InvalidParameterError(`address ${opts.preferred} is not in network ${short(pool.networkId)}'s subnet ${pool.subnet}`);
      if (pool.reserved?.includes(opts.preferred)) throw new ConflictError(`address ${opts.preferred} is reserved on network ${short(pool.networkId)}`);
      await this.tryClaim(pool, opts.preferred, owner, opts);
      return opts.preferred;
    }
    const mine = this.inFlightOf(pool.networkId);
    for (let round = 0; round < ROUNDS; round++) {
      const [listing, cursor] = await Promise.all([this.store.list(keys.addresses(pool.networkId)), this.store.get(keys.addressCursor(pool.networkId))]);
      const taken = new Set([...listing.items.map((kv) => lastSegment(kv.key)), ...(pool.reserved ?? [])]);
      const after = cursor ? tryParseIPv4(JSON.parse(cursor.value) as string) : undefined;
      for (let lost = 0; lost < CONFLICTS_PER_ROUND; lost++) {
        const ip = nextFree(bounds, after, (a) => taken.has(a) || mine.has(a));
        if (ip === undefined) {
          if (mine.size === 0) throw new ConflictError(`no free address left on network ${short(pool.networkId)} (${pool.range ?? pool.subnet})`);
          break; // what this host has in flight may yet be given back: read again
        }
        mine.add(ip);
        try {
          await this.tryClaim(pool, ip, owner, { ...opts, touch: [...(opts.touch ?? []), { key: keys.addressCursor(pool.networkId), value: JSON.stringify(ip) }] });
          return ip;
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          taken.add(ip);
        } finally {
          mine.delete(ip);
        }
      }
    }
    throw new ConflictError(`no address claimed on network ${short(pool.networkId)}: every try lost a race with another host, try again`);
  }

  /** Gives ip back, only while owner still holds it (true when it went); `alsoDelete` go in the same transaction either way. */
  release(networkId: string, ip: string, owner: string, alsoDelete: string[] = []): Promise<boolean> {
    return release(this.store, keys.address(networkId, ip), JSON.stringify(owner), { alsoDelete });
  }

  private tryClaim(pool: AddressPool, ip: string, owner: string, opts: AllocateOptions): Promise<void> {
    const own: Claim = { key: keys.address(pool.networkId, ip), value: JSON.stringify(owner), what: `address ${ip} on network ${short(pool.networkId)}` };
    return claimAll(this.store, [own, ...(opts.with?.(ip) ?? [])], { lease: opts.lease, requires: opts.requires, touch: opts.touch });
  }

  private inFlightOf(networkId: string): Set<string> {
    let s = this.inFlight.get(networkId);
    if (!s) this.inFlight.set(networkId, (s = new Set()));
    return s;
  }
}

/** The first and last address a pool may hand out (network and broadcast excluded). */
export function poolBounds(pool: Pick<AddressPool, 'subnet' | 'range'>): { first: number; last: number } {
  let subnet;
  try {
    subnet = parseCidr(pool.subnet);
  } catch {
    throw new InvalidParameterError(`invalid subnet ${pool.subnet}: cluster addresses are IPv4`);
  }
  const s = usableRange(subnet);
  if (pool.range === undefined) return s;
  const r = parseCidr(pool.range);
  const first = Math.max(s.first, r.networkNum);
  const last = Math.min(s.last, r.broadcastNum);
  if (first > last) throw new InvalidParameterError(`ip-range ${pool.range} is not inside subnet ${pool.subnet}`);
  return { first, last };
}

/** The first address in bounds after `after` (wrapping around; from the first without it) that is not taken; undefined when all are. */
export function nextFree(bounds: { first: number; last: number }, after: number | undefined, taken: (ip: string) => boolean): string | undefined {
  const size = bounds.last - bounds.first + 1;
  const start = after === undefined || after < bounds.first || after >= bounds.last ? 0 : after - bounds.first + 1;
  for (let i = 0; i < size; i++) {
    const ip = formatIPv4(bounds.first + ((start + i) % size));
    if (!taken(ip)) return ip;
  }
  return undefined;
}

function short(id: string): string {
  return id.length > 12 ? id.slice(0, 12) : id;
}
