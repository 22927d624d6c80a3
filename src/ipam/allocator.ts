// Docker's default IPAM for the local address space: reserves subnets (explicit, or
// the first free default pool) and hands out addresses inside them. It keeps no
// durable state: the engine replays stored pools and addresses through the same
// calls at start-up (see address-pool.ts for how the serial cursor survives that).
//
// Release semantics: releasePool / releaseAddress on an unknown pool or a free address
// are no-ops, so teardown and crash recovery can repeat them safely. requestAddress on
// an unknown pool is a NotFoundError.

import { ConflictError, InvalidParameterError, NotFoundError } from '../util/errors.js';
import { Ipv4Cidr, parseCidr } from '../util/ip.js';
import { familyOf } from '../util/ip-family.js';
import { Ipv6Cidr, parseCidr6 } from '../util/ip6.js';
import { AddressPool } from './address-pool.js';
import { AddressPool6 } from './address-pool6.js';
import { berthDefaultPools6, findFreeDefaultPool6, routeObstacles6 } from './default-pools6.js';
import {
  DefaultPoolSpec, BERTH_DEFAULT_POOLS, findFreeDefaultPool, PoolObstacle, routeObstacles,
  validatePoolSpec,
} from './default-pools.js';
import type { AddressRequest, Ipam, Pool, PoolRequest } from './types.js';

export const ADDRESS_SPACE = 'LocalDefault';
export const ERR_POOL_OVERLAP = 'Pool overlaps with other one on this address space';

export interface DefaultIpamOptions {
  /**
   * replaces the default pools (`--default-address-pool`), per family: IPv4 entries
   * replace the IPv4 defaults, IPv6 ones the IPv6 defaults; a family not named keeps its own
   */
  defaultPools?: readonly DefaultPoolSpec[];
  /** what the default IPv6 ULA /48 is derived from (the engine id); read at the first need */
  ulaSeed?: () => string;
}

type Reserved =
  | { family: 4; pool: Pool; addresses: AddressPool }
  | { family: 6; pool: Pool; addresses: AddressPool6 };

export class DefaultIpam implements Ipam {
  private readonly pools = new Map<string, Reserved>();
  private readonly defaults: readonly DefaultPoolSpec[];
  private readonly given6: readonly DefaultPoolSpec[];
  private defaults6?: readonly DefaultPoolSpec[];
  private readonly ulaSeed: () => string;

  constructor(opts: DefaultIpamOptions = {}) {
    const given = (opts.defaultPools ?? []).map(validatePoolSpec);
    const given4 = given.filter((p) => familyOf(p.base) === 4);
    this.given6 = given.filter((p) => familyOf(p.base) === 6);
    this.defaults = given4.length ? given4 : BERTH_DEFAULT_POOLS;
    this.ulaSeed = opts.ulaSeed ?? (() => 'berth');
  }

  requestPool(req: PoolRequest): Pool {
    if (req.pool ? familyOf(req.pool) === 6 : req.v6) return this.requestPool6(req);
    const subnet = req.pool ? this.explicitSubnet(req.pool) : this.chooseDefault(req.exclude ?? []);
    const subPool = req.subPool ? checkSubPool(req.subPool, subnet, Boolean(req.pool)) : undefined;
    const pool: Pool = { id: poolId(subnet, subPool), subnet: cidrText(subnet) };
    if (subPool) pool.subPool = cidrText(subPool);
    this.pools.set(pool.id, { family: 4, pool, addresses: new AddressPool(subnet, subPool) });
    return { ...pool };
  }

  private requestPool6(req: PoolRequest): Pool {
    const subnet = req.pool ? this.explicitSubnet6(req.pool) : this.chooseDefault6(req.exclude ?? []);
    const subPool = req.subPool ? checkSubPool6(req.subPool, subnet, Boolean(req.pool)) : undefined;
    const text = (c: Ipv6Cidr) => `${c.network}/${c.prefix}`;
    const base = `${ADDRESS_SPACE}/${text(subnet)}`;
    const pool: Pool = { id: subPool ? `${base}/${text(subPool)}` : base, subnet: text(subnet) };
    if (subPool) pool.subPool = text(subPool);
    this.pools.set(pool.id, { family: 6, pool, addresses: new AddressPool6(subnet, subPool) });
    return { ...pool };
  }

  /** The IPv6 defaults: the flags' IPv6 pools, else the engine's ULA /48 (derived once). */
  defaultPools6(): readonly DefaultPoolSpec[] {
    if (!this.defaults6) this.defaults6 = this.given6.length ? this.given6 : berthDefaultPools6(this.ulaSeed());
    return this.defaults6;
  }

  releasePool(poolId: string): void {
    this.pools.delete(poolId);
  }

  requestAddress(poolId: string, req: AddressRequest = {}): string {
    return this.reserved(poolId).addresses.allocate(req.address, req.gateway ?? false);
  }

  releaseAddress(poolId: string, address: string): void {
    this.pools.get(poolId)?.addresses.release(address);
  }

  /** The reserved pool with this id, if any (a copy). */
  getPool(poolId: string): Pool | undefined {
    const r = this.pools.get(poolId);
    return r ? { ...r.pool } : undefined;
  }

  listPools(): Pool[] {
    return [...this.pools.values()].map((r) => ({ ...r.pool }));
  }

  isAllocated(poolId: string, address: string): boolean {
    return this.pools.get(poolId)?.addresses.isAllocated(address) ?? false;
  }

  /** Number of addresses taken in a pool (0 for an unknown pool). */
  inUse(poolId: string): number {
    return this.pools.get(poolId)?.addresses.inUse ?? 0;
  }

  private reserved(poolId: string): Reserved {
    const r = this.pools.get(poolId);
    if (!r) throw new NotFoundError(`cannot find address pool for poolID ${poolId}`);
    return r;
  }

  private explicitSubnet(text: string): Ipv4Cidr {
    const c = canonical(text, 'subnet');
    if (this.overlapsReserved(c)) throw new ConflictError(ERR_POOL_OVERLAP);
    return c;
  }

  private chooseDefault(exclude: readonly string[]): Ipv4Cidr {
    const obstacles: PoolObstacle[] = [
      ...[...this.pools.values()].filter((r) => r.family === 4).map((r) => ({ cidr: r.pool.subnet, what: 'network pool' })),
      ...routeObstacles(exclude, 'excluded'),
    ];
    return parseCidr(findFreeDefaultPool(this.defaults, obstacles));
  }

  private explicitSubnet6(text: string): Ipv6Cidr {
    const c = parseCidr6(text);
    if (c.addressNum !== c.networkNum) {
      throw new InvalidParameterError(`invalid subnet ${text}: it should be ${c.network}/${c.prefix}`);
    }
    for (const r of this.pools.values()) {
      if (r.family !== 6) continue;
      const o = r.addresses.subnet;
      if (c.networkNum <= o.lastNum && o.networkNum <= c.lastNum) throw new ConflictError(ERR_POOL_OVERLAP);
    }
    return c;
  }

  private chooseDefault6(exclude: readonly string[]): Ipv6Cidr {
    const obstacles: PoolObstacle[] = [
      ...[...this.pools.values()].filter((r) => r.family === 6).map((r) => ({ cidr: r.pool.subnet, what: 'network pool' })),
      ...routeObstacles6(exclude, 'excluded'),
    ];
    return parseCidr6(findFreeDefaultPool6(this.defaultPools6(), obstacles));
  }

  private overlapsReserved(c: Ipv4Cidr): boolean {
    for (const r of this.pools.values()) {
      if (r.family !== 4) continue;
      const o = r.addresses.subnet;
      if (c.networkNum <= o.broadcastNum && o.networkNum <= c.broadcastNum) return true;
    }
    return false;
  }
}

/** Parses a subnet and insists on no host bits, as Docker does. */
function canonical(text: string, what: 'subnet' | 'ip-range'): Ipv4Cidr {
  const c = parseCidr(text);
  if (c.addressNum !== c.networkNum) {
    throw new InvalidParameterError(`invalid ${what} ${text}: it should be ${c.network}/${c.prefix}`);
  }
  return c;
}

function checkSubPool(text: string, subnet: Ipv4Cidr, explicitPool: boolean): Ipv4Cidr {
  if (!explicitPool) {
    throw new InvalidParameterError(`invalid ip-range ${text}: an ip-range requires an explicit subnet`);
  }
  const c = canonical(text, 'ip-range');
  if (c.networkNum < subnet.networkNum || c.broadcastNum > subnet.broadcastNum) {
    throw new InvalidParameterError(
      `invalid ip-range ${text}: it is not inside the subnet ${cidrText(subnet)}`);
  }
  return c;
}

function checkSubPool6(text: string, subnet: Ipv6Cidr, explicitPool: boolean): Ipv6Cidr {
  if (!explicitPool) {
    throw new InvalidParameterError(`invalid ip-range ${text}: an ip-range requires an explicit subnet`);
  }
  const c = parseCidr6(text);
  if (c.addressNum !== c.networkNum) {
    throw new InvalidParameterError(`invalid ip-range ${text}: it should be ${c.network}/${c.prefix}`);
  }
  if (c.networkNum < subnet.networkNum || c.lastNum > subnet.lastNum) {
    throw new InvalidParameterError(`invalid ip-range ${text}: it is not inside the subnet ${subnet.network}/${subnet.prefix}`);
  }
  return c;
}

function cidrText(c: Ipv4Cidr): string {
  return `${c.network}/${c.prefix}`;
}

/** Stable: the same subnet (and sub-pool) always gives the same id. */
export function poolId(subnet: Ipv4Cidr, subPool?: Ipv4Cidr): string {
  const base = `${ADDRESS_SPACE}/${cidrText(subnet)}`;
  return subPool ? `${base}/${cidrText(subPool)}` : base;
}
