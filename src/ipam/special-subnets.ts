import { InvalidParameterError } from '../util/errors.js';
import { cidrOverlaps, parseCidr } from '../util/ip.js';

// Address blocks no container network may use (RFC 6890): packets to or from them never
// leave a host the way a network's must (loopback), are not unicast (multicast, the
// reserved 240/4), or belong to every link at once (link-local, "this network").

const SPECIAL: [string, string][] = [
  ['0.0.0.0/8', '"this network" addresses'],
  ['127.0.0.0/8', 'loopback addresses'],
  ['169.254.0.0/16', 'link-local addresses'],
  ['224.0.0.0/4', 'multicast addresses'],
  ['240.0.0.0/4', 'reserved addresses (240.0.0.0/4)'],
];

/** Refuses a subnet no endpoint can live in: a special block, or a /32 (one address, nothing to share). */
export function checkUsableSubnet(subnet: string): void {
  const c = parseCidr(subnet);
  if (c.prefix === 32) throw new InvalidParameterError(`invalid subnet ${subnet}: a /32 holds a single address, no network of containers`);
  for (const [block, what] of SPECIAL) {
    if (cidrOverlaps(subnet, block)) throw new InvalidParameterError(`invalid subnet ${subnet}: it overlaps ${block}, ${what}`);
  }
}
