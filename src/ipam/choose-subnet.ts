// First start of the daemon: which subnet the default bridge gets when no --bip is
// given. Docker's 172.17.0.0/16 unless a host route overlaps it, else the next default
// pool clear of every route (so berth never hides a network the host already reaches).

import { canonicalCidr, firstHost, parseCidr } from '../util/ip.js';
import {
  DefaultPoolSpec, DOCKER_DEFAULT_POOLS, findFreeDefaultPool, PoolObstacle, routeObstacles,
} from './default-pools.js';

export interface ChosenSubnet {
  subnet: string;
  gateway: string;
}

/**
 * `routes`: destinations of the host's IPv4 routes ("10.0.0.0/8", "192.168.1.7",
 * "default"); the default route and non-IPv4 entries are ignored.
 * `reserved`: subnets already taken by other networks, if the caller knows any.
 */
export function chooseDefaultBridgeSubnet(
  routes: readonly string[],
  preferred = '172.17.0.0/16',
  pools: readonly DefaultPoolSpec[] = DOCKER_DEFAULT_POOLS,
  reserved: readonly string[] = [],
): ChosenSubnet {
  const obstacles: PoolObstacle[] = [
    ...routeObstacles(routes, 'host route'),
    ...routeObstacles(reserved, 'network pool'),
  ];
  const want = canonicalCidr(preferred);
  const subnet = isClear(want, obstacles) ? want : findFreeDefaultPool(pools, obstacles);
  return { subnet, gateway: firstHost(subnet) };
}

function isClear(cidr: string, obstacles: readonly PoolObstacle[]): boolean {
  const c = parseCidr(cidr);
  return obstacles.every((o) => {
    const x = parseCidr(o.cidr);
    return x.broadcastNum < c.networkNum || x.networkNum > c.broadcastNum;
  });
}
