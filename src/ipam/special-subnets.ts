import { InvalidParameterError } from '../util/errors.js';
import { parseCidr } from '../util/ip.js';
import { parseCidr6 } from '../util/ip6.js';
import { anyCidrOverlaps, familyOf, type IpFamily } from '../util/ip-family.js';

// Address blocks no container network may use (RFC 6890): packets to or from them never
// leave a host the way a network's must (loopback), are not unicast (multicast, the
// reserved 240/4), or belong to every link at once (link-local, "this network").

const SPECIAL: Record<IpFamily, [string, string][]> = {
  4: [
    ['0.0.0.0/8', '"this network" addresses'],
    ['127.0.0.0/8', 'loopback addresses'],
    ['169.254.0.0/16', 'link-local addresses'],
    ['224.0.0.0/4', 'multicast addresses'],
    ['240.0.0.0/4', 'reserved addresses (240.0.0.0/4)'],
  ],
  // IPv6's (RFC 4291, RFC 6890): the unspecified and loopback addresses, IPv4-mapped
  // addresses (they are IPv4 on the wire), link-local (every interface has fe80::/64
  // already) and multicast. ULA (fc00::/7), global unicast and documentation ranges are fine.
  6: [
    ['::/128', 'the unspecified address'],
    ['::1/128', 'the loopback address'],
    ['::ffff:0:0/96', 'IPv4-mapped addresses'],
    ['fe80::/10', 'link-local addresses'],
    ['ff00::/8', 'multicast addresses'],
  ],
};

/** Refuses a subnet, of either family, no endpoint can live in: a special block, or a /32 or /128 (one address, nothing to share). */
export function checkUsableSubnet(subnet: string): void {
  const family = familyOf(subnet);
  const [prefix, width] = family === 4 ? [parseCidr(subnet).prefix, 32] : [parseCidr6(subnet).prefix, 128];
  if (prefix === width) throw new InvalidParameterError(`invalid subnet ${subnet}: a /${width} holds a single address, no network of containers`);
  for (const [block, what] of SPECIAL[family]) {
    if (anyCidrOverlaps(subnet, block)) throw new InvalidParameterError(`invalid subnet ${subnet}: it overlaps ${block}, ${what}`);
  }
}
