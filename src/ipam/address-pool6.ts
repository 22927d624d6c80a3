// AddressPool's twin for an IPv6 subnet: the same serial allocation, sub-pool and replay
// rules (see address-pool.ts), on 128-bit numbers in a RangeSet6. IPv6 has no broadcast
// address; only the subnet-router anycast address (the network address) is kept back,
// as Docker does (see usableRange6).

import { ConflictError, InvalidParameterError } from '../util/errors.js';
import { formatIPv6, Ipv6Cidr, parseIPv6, usableRange6 } from '../util/ip6.js';
import { ERR_ADDRESS_IN_USE, ERR_NO_ADDRESSES } from './address-pool.js';
import { RangeSet6 } from './range-set6.js';

interface Span { first: bigint; last: bigint }

export class AddressPool6 {
  private readonly used = new RangeSet6();
  private readonly usable: Span;
  private readonly dynamic: Span;
  private cursor: bigint;
  private dynamicSeen = false;

  constructor(readonly subnet: Ipv6Cidr, readonly subPool?: Ipv6Cidr) {
    this.usable = usableRange6(subnet);
    const range = subPool ? { first: subPool.networkNum, last: subPool.lastNum } : this.usable;
    this.dynamic = {
      first: range.first > this.usable.first ? range.first : this.usable.first,
      last: range.last < this.usable.last ? range.last : this.usable.last,
    };
    this.cursor = this.dynamic.first;
  }

  get inUse(): number { return this.used.size; }

  isAllocated(address: string): boolean {
    return this.used.has(parseIPv6(address));
  }

  allocate(address?: string, gateway = false): string {
    if (address) return formatIPv6(this.takeExplicit(address, gateway));
    const n = gateway ? this.takeFirstUsable() : this.takeSerial();
    this.dynamicSeen = true;
    return formatIPv6(n);
  }

  release(address: string): void {
    this.used.remove(parseIPv6(address));
  }

  private takeExplicit(address: string, gateway: boolean): bigint {
    const n = parseIPv6(address);
    const s = this.subnet;
    const cidr = `${s.network}/${s.prefix}`;
    if (n < s.networkNum || n > s.lastNum) {
      throw new InvalidParameterError(`invalid address ${address}: it does not belong to the subnet ${cidr}`);
    }
    if (n < this.usable.first) {
      throw new InvalidParameterError(`invalid address ${address}: it is the subnet-router anycast address of ${cidr}`);
    }
    if (!this.used.add(n)) throw new ConflictError(ERR_ADDRESS_IN_USE);
    if (!this.dynamicSeen && !gateway && this.inDynamic(n) && n + 1n > this.cursor) this.cursor = n + 1n;
    return n;
  }

  private takeFirstUsable(): bigint {
    const n = this.used.nextFree(this.usable.first, this.usable.last);
    if (n === undefined) throw new ConflictError(ERR_NO_ADDRESSES);
    this.used.add(n);
    if (this.inDynamic(n)) this.cursor = n + 1n;
    return n;
  }

  private takeSerial(): bigint {
    const { first, last } = this.dynamic;
    const start = this.inDynamic(this.cursor) ? this.cursor : first;
    const n = this.used.nextFree(start, last) ?? this.used.nextFree(first, start - 1n);
    if (n === undefined) throw new ConflictError(ERR_NO_ADDRESSES);
    this.used.add(n);
    this.cursor = n + 1n;
    return n;
  }

  private inDynamic(n: bigint): boolean {
    return n >= this.dynamic.first && n <= this.dynamic.last;
  }
}
