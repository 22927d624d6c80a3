import type { ClusterHostView, RemoteEndpointView } from '../../driverapi/contract.js';
import type { Kernel, RouteInfo } from '../../kernel/types.js';
import { InvalidParameterError, KernelError } from '../../util/errors.js';
import { cidrContains, isIPv4 } from '../../util/ip.js';

// Direct routing between hosts (an overlay with routing=direct, flannel's host-gw): a
// container on another host is reached by a /32 route in this host's netns, via that
// host's underlay address, with no encapsulation. The containers here still see one
// subnet: their bridge answers their ARP for a remote address (proxy ARP: the host has a
// route to it out of another interface), and the host routes the packet on. Every route
// is made with an origin of its own (ROUTE_PROTOCOL), so what is removed as stale is only
// ever one of these, never a route a user made.
//
// A route via a next hop must have that hop on-link: it works only between hosts of one
// L2 segment. A host across a router is said so, by name, instead of being routed wrong.

/**
 * rtm_protocol of the routes to other hosts' containers: 66 ("B"), a number no routing
 * daemon in /etc/iproute2/rt_protos or linux/rtnetlink.h takes. `ip route show proto 66`
 * lists them.
 */
export const ROUTE_PROTOCOL = 66;

export class DirectRoutes {
  constructor(private readonly kernel: Kernel) {}

  /** Routes to the remote endpoint's addresses via its host. */
  async up(remote: RemoteEndpointView): Promise<void> {
    await this.assertAdjacent(remote.vtep, () => `container ${remote.ips.join(', ')} on the host at ${remote.vtep}`);
    for (const ip of remote.ips) await this.kernel.addRoute({ dst: `${ip}/32`, gateway: remote.vtep, protocol: ROUTE_PROTOCOL });
  }

  async down(remote: RemoteEndpointView): Promise<void> {
    for (const ip of remote.ips) await this.delete(ip);
  }

  /** A local endpoint holds the address now: a route to it elsewhere (left from when another host had it) goes. */
  delete(ip: string): Promise<void> {
    return this.kernel.deleteRoute(`${ip}/32`, undefined, { protocol: ROUTE_PROTOCOL });
  }

  /**
   * Exactly the routes of `remotes` into `subnet`: berth's others go (their addresses
   * returned), the missing or wrong are made. A host that cannot be routed to does not
   * keep the others from being routed: what failed is returned (once per host that cannot be reached).
   */
  async reconcile(subnet: string, remotes: RemoteEndpointView[]): Promise<{ removed: string[]; problems: string[] }> {
    const wanted = new Map(remotes.flatMap((r) => r.ips.map((ip) => [ip, r.vtep] as const)));
    const have = new Map((await this.routesInto(subnet)).map((r) => [r.dst.split('/')[0], r.gateway]));
    const stale = [...have.keys()].filter((ip) => !wanted.has(ip));
    for (const ip of stale) await this.delete(ip);
    // one look-up per host, not per endpoint; routes already right are left as they are
    const unreachable = new Map<string, string | undefined>();
    for (const r of remotes) {
      if (!unreachable.has(r.vtep)) unreachable.set(r.vtep, await this.assertAdjacent(r.vtep, () => `containers on the host at ${r.vtep}`).then(() => undefined, (err: Error) => err.message));
    }
    const problems = [...unreachable.values()].filter((m): m is string => m !== undefined);
    for (const [ip, vtep] of wanted) {
      if (unreachable.get(vtep) || have.get(ip) === vtep) continue;
      await this.kernel.addRoute({ dst: `${ip}/32`, gateway: vtep, protocol: ROUTE_PROTOCOL }).catch((err: Error) => problems.push(err.message));
    }
    return { removed: stale, problems };
  }

  /** Every route of berth's into `subnet` goes (the network is removed from this host). */
  async clear(subnet: string): Promise<void> {
    for (const r of await this.routesInto(subnet)) await this.kernel.deleteRoute(r.dst, undefined, { protocol: ROUTE_PROTOCOL });
  }

  /** berth's routes whose destination lies in none of `subnets` (networks this host no longer has), removed. */
  async removeOutside(subnets: string[]): Promise<void> {
    for (const r of await this.kernel.listRoutes()) {
      if (r.family !== 4 || r.protocol !== ROUTE_PROTOCOL || r.dst === 'default') continue;
      if (!subnets.some((s) => cidrContains(s, r.dst.split('/')[0]))) await this.kernel.deleteRoute(r.dst, undefined, { protocol: ROUTE_PROTOCOL });
    }
  }

  /** `network create`: every other host of the cluster must be on this host's L2 segment. */
  async checkHosts(hosts: ClusterHostView[]): Promise<void> {
    const problems: string[] = [];
    for (const h of hosts) {
      await this.assertAdjacent(h.address, () => `host ${h.hostname} (${h.id.slice(0, 12)})`).catch((err: Error) => problems.push(err.message));
    }
    if (problems.length) throw new InvalidParameterError(`${problems.join('; ')}; create it with the default routing (vxlan), which crosses routers`);
  }

  private async routesInto(subnet: string): Promise<RouteInfo[]> {
    return (await this.kernel.listRoutes())
      .filter((r) => r.family === 4 && r.protocol === ROUTE_PROTOCOL && r.dst !== 'default' && cidrContains(subnet, r.dst.split('/')[0]));
  }

  /** The underlay address is a neighbour of this host (on-link, not through a router), or a clear error saying what it is. */
  private async assertAdjacent(address: string, who: () => string): Promise<void> {
    const cannot = (why: string) => new InvalidParameterError(`direct routing cannot reach ${who()}: ${why}; direct routing needs every host of the network on one L2 segment`);
    if (!isIPv4(address)) throw cannot(`its underlay address ${address} is not IPv4 (direct routes are IPv4 routes via an IPv4 neighbour)`);
    let route;
    try {
      route = await this.kernel.lookupRoute(address);
    } catch (err) {
      if (err instanceof KernelError && err.code === 'ENETUNREACH') throw cannot(`this host has no route to ${address}`);
      throw err;
    }
    if (route.type === 'local') throw cannot(`${address} is an address of this host`);
    if (route.gateway) throw cannot(`${address} is not on this host's L2 segment (the kernel reaches it through the router ${route.gateway}${route.dev ? ` on ${route.dev}` : ''})`);
    if (route.type !== 'unicast') throw cannot(`the route to ${address} is not a unicast route`);
  }
}
