import type { RouteInfo } from './types.js';

// What a subnet berth picks by itself must stay clear of: the destinations the host
// already routes, of the family being picked (a network hiding a route the host relies
// on would cut it off). The default route covers everything and is left out, and so are
// routes through `exceptDev` (the bridge being re-made routes its own subnet).

export function routedSubnets(routes: readonly RouteInfo[], families: readonly (4 | 6)[], exceptDev?: string): string[] {
  return routes
    .filter((r) => families.includes(r.family) && r.dst !== 'default' && (exceptDev === undefined || r.dev !== exceptDev))
    .map((r) => r.dst);
}
