// The addresses of one reserved subnet: which are taken (a RangeSet, so a /8 costs
// nothing until used) and where serial allocation continues.
//
// Serial, like Docker: a dynamic request takes the first free address at or after the
// cursor (the one after the last dynamic allocation) and wraps around, so a released
// address is not handed out again at once. Dynamic requests stay inside the sub-pool
// when there is one; explicit addresses may be anywhere in the subnet.
//
// Replay: after a restart the engine re-reserves every stored address explicitly.
// Until the pool's first dynamic allocation, explicit addresses push the cursor
// forward (to just past the highest one), so allocation resumes after the stored
// addresses instead of re-using a recently freed one. Once a dynamic allocation has
// happened, explicit addresses leave the cursor alone, as in Docker.
// A gateway given explicitly (--gateway 172.24.0.254) never moves it: Docker's first
// container still gets the subnet's first free address (.1), not the one after the gateway.

import { ConflictError, InvalidParameterError } from '../util/errors.js';
import { formatIPv4, Ipv4Cidr, parseIPv4, usableRange } from '../util/ip.js';
import { RangeSet } from './range-set.js';

export const ERR_ADDRESS_IN_USE = 'Address already in use';
export const ERR_NO_ADDRESSES = 'no available addresses on this pool';

interface Span { first: number; last: number }

export class AddressPool {
  private readonly used = new RangeSet();
  /** usable addresses of the whole subnet (network and broadcast kept back) */
  private readonly usable: Span;
  /** where dynamic allocation may take from: the sub-pool clipped to `usable` */
  private readonly dynamic: Span;
  private cursor: number;
  private dynamicSeen = false;

  constructor(readonly subnet: Ipv4Cidr, readonly subPool?: Ipv4Cidr) {
    this.usable = usableRange(subnet);
    const range = subPool ? { first: subPool.networkNum, last: subPool.broadcastNum } : this.usable;
    this.dynamic = {
      first: Math.max(range.first, this.usable.first),
      last: Math.min(range.last, this.usable.last),
    };
    this.cursor = this.dynamic.first;
  }

  /** number of addresses taken */
  get inUse(): number { return this.used.size; }

  isAllocated(address: string): boolean {
    return this.used.has(parseIPv4(address));
  }

  /** Takes `address` if given, else the first usable (gateway) or the next serial one. */
  allocate(address?: string, gateway = false): string {
    if (address) return formatIPv4(this.takeExplicit(address, gateway));
    const n = gateway ? this.takeFirstUsable() : this.takeSerial();
    this.dynamicSeen = true;
    return formatIPv4(n);
  }

  /** Frees an address; unknown or free addresses are ignored. */
  release(address: string): void {
    this.used.remove(parseIPv4(address));
  }

  private takeExplicit(address: string, gateway: boolean): number {
    const n = parseIPv4(address);
    this.checkAssignable(address, n);
    if (!this.used.add(n)) throw new ConflictError(ERR_ADDRESS_IN_USE);
    if (!this.dynamicSeen && !gateway && this.inDynamic(n)) this.cursor = Math.max(this.cursor, n + 1);
    return n;
  }

  private checkAssignable(address: string, n: number): void {
    const s = this.subnet;
    const cidr = `${s.network}/${s.prefix}`;
    if (n < s.networkNum || n > s.broadcastNum) {
      throw new InvalidParameterError(`invalid address ${address}: it does not belong to the subnet ${cidr}`);
    }
    if (n < this.usable.first) {
      throw new InvalidParameterError(`invalid address ${address}: it is the network address of ${cidr}`);
    }
    if (n > this.usable.last) {
      throw new InvalidParameterError(`invalid address ${address}: it is the broadcast address of ${cidr}`);
    }
  }

  /** Docker gives the gateway the first usable address of the pool, not of the sub-pool. */
  private takeFirstUsable(): number {
    const n = this.used.nextFree(this.usable.first, this.usable.last);
    if (n === undefined) throw new ConflictError(ERR_NO_ADDRESSES);
    this.used.add(n);
    if (this.inDynamic(n)) this.cursor = n + 1;
    return n;
  }

  private takeSerial(): number {
    const { first, last } = this.dynamic;
    const start = this.inDynamic(this.cursor) ? this.cursor : first;
    const n = this.used.nextFree(start, last) ?? this.used.nextFree(first, start - 1);
    if (n === undefined) throw new ConflictError(ERR_NO_ADDRESSES);
    this.used.add(n);
    this.cursor = n + 1;
    return n;
  }

  private inDynamic(n: number): boolean {
    return n >= this.dynamic.first && n <= this.dynamic.last;
  }
}
