// The IPAM contract (libnetwork's ipamapi: IPv4 and IPv6 pools). The default
// allocator keeps no durable state of its own: the engine replays every stored pool and
// address into it at start-up (as Docker does), so the store is the only truth.

export interface PoolRequest {
  /** Requested subnet ("172.22.0.0/24"); empty → the allocator chooses from its default pools. */
  pool?: string;
  /** Allocate dynamic addresses only inside this range (`--ip-range` / `--fixed-cidr`). */
  subPool?: string;
  /**
   * CIDRs that a chosen pool must not overlap (routes on the host, other networks'
   * subnets the allocator does not know about). Only used when `pool` is empty.
   */
  exclude?: string[];
  /** An IPv6 pool (from the IPv6 defaults when `pool` is empty; a given pool's own text says its family). */
  v6?: boolean;
}

export interface Pool {
  /** opaque, stable id: same pool → same id */
  id: string;
  /** canonical subnet, e.g. "172.18.0.0/16" */
  subnet: string;
  subPool?: string;
}

export interface AddressRequest {
  /** a specific address ("172.18.0.10", "fd00::10"); empty → next free (serially, like Docker). */
  address?: string;
  /** the gateway address: when `address` is empty the first usable address is taken */
  gateway?: boolean;
}

export interface Ipam {
  /** Reserves a subnet. A requested pool that overlaps an existing one → ConflictError. */
  requestPool(req: PoolRequest): Pool;
  releasePool(poolId: string): void;
  /** Returns the address without prefix ("172.18.0.2"). Exhaustion / taken → ConflictError. */
  requestAddress(poolId: string, req?: AddressRequest): string;
  releaseAddress(poolId: string, address: string): void;
}
