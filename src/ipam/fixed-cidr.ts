// The default bridge's pool request from the daemon flags: `--bip` gives the bridge
// address and subnet, `--fixed-cidr` narrows where containers get addresses (the
// sub-pool). Docker masks host bits off --fixed-cidr; it must sit inside --bip's subnet.

import { InvalidParameterError } from '../util/errors.js';
import { formatIPv4, parseCidr, usableRange } from '../util/ip.js';
import type { PoolRequest } from './types.js';

export interface DefaultBridgePool {
  /** what to pass to Ipam.requestPool */
  request: PoolRequest;
  /** the bridge's own address (--bip's address; first usable when --bip is a network) */
  gateway: string;
}

/** bip "172.17.0.1/16", fixedCidr "172.17.5.0/24" → pool 172.17.0.0/16, subPool 172.17.5.0/24. */
export function defaultBridgePool(bip: string, fixedCidr?: string): DefaultBridgePool {
  const b = parseCidr(bip);
  const subnet = `${b.network}/${b.prefix}`;
  const gateway = b.addressNum === b.networkNum ? formatIPv4(usableRange(b).first) : b.address;
  const request: PoolRequest = { pool: subnet };
  if (fixedCidr) request.subPool = fixedCidrSubPool(subnet, fixedCidr);
  return { request, gateway };
}

/** Canonical --fixed-cidr, checked to be inside `subnet`. */
export function fixedCidrSubPool(subnet: string, fixedCidr: string): string {
  const s = parseCidr(subnet);
  const f = parseCidr(fixedCidr);
  if (f.networkNum < s.networkNum || f.broadcastNum > s.broadcastNum) {
    throw new InvalidParameterError(
      `invalid fixed-cidr ${fixedCidr}: it is not inside the bridge subnet ${s.network}/${s.prefix}`);
  }
  return `${f.network}/${f.prefix}`;
}
