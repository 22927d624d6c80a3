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
import { AddressPool } from './address-pool.js';
import {
  DefaultPoolSpec, BERTH_DEFAULT_POOLS, findFreeDefaultPool, PoolObstacle, routeObstacles,
  validatePoolSpec,
} from './default-pools.js';
import type { AddressRequest, Ipam, Pool, PoolRequest } from './types.js';

export const ADDRESS_SPACE = 'LocalDefault';
export const ERR_POOL_OVERLAP = 'Pool overlaps with other one on this address space';

export interface DefaultIpamOptions {
  /** replaces Docker's default pools (`--default-address-pool`) */
  defaultPools?: readonly DefaultPoolSpec[];
}

interface Reserved { pool: Pool; addresses: AddressPool }

export class DefaultIpam implements Ipam {
  private readonly pools = new Map<string, Reserved>();
  private readonly defaults: readonly DefaultPoolSpec[];

  constructor(opts: DefaultIpamOptions = {}) {
    this.defaults = (opts.defaultPools ?? BERTH_DEFAULT_POOLS).map(validatePoolSpec);
  }

  requestPool(req: PoolRequest): Pool {
    const subnet = req.pool ? this.explicitSubnet(req.pool) : this.chooseDefault(req.exclude ?? []);
    const subPool = req.subPool ? checkSubPool(req.subPool, subnet, Boolean(req.pool)) : undefined;
    const pool: Pool = { id: poolId(subnet, subPool), subnet: cidrText(subnet) };
    if (subPool) pool.subPool = cidrText(subPool);
    this.pools.set(pool.id, { pool, addresses: new AddressPool(subnet, subPool) });
    return { ...pool };
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
      ...[...this.pools.values()].map((r) => ({ cidr: r.pool.subnet, what: 'network pool' })),
      ...routeObstacles(exclude, 'excluded'),
    ];
    return parseCidr(findFreeDefaultPool(this.defaults, obstacles));
  }

  private overlapsReserved(c: Ipv4Cidr): boolean {
    for (const r of this.pools.values()) {
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

function cidrText(c: Ipv4Cidr): string {
  return `${c.network}/${c.prefix}`;
}

/** Stable: the same subnet (and sub-pool) always gives the same id. */
export function poolId(subnet: Ipv4Cidr, subPool?: Ipv4Cidr): string {
  const base = `${ADDRESS_SPACE}/${cidrText(subnet)}`;
  return subPool ? `${base}/${cidrText(subPool)}` : base;
}
