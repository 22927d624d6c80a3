import type { InterfacePlan } from '../driverapi/contract.js';
import type { Kernel, SandboxFacts, SandboxInterface } from '../kernel/types.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../store/records.js';
import type { EndpointService } from './endpoints.js';
import type { NetworkService } from './networks.js';
import type { Observers } from './observer.js';
import type { State } from './state.js';
import { crashPoint } from './crash-points.js';
import { sandboxViewOf, viewOf } from './endpoint-view.js';

// A container's sandbox (its netns) and the endpoints joined to it — one path for start,
// connect, disconnect, restore after a restart and teardown, whatever the drivers. Each
// driver plans its endpoint's interface as data; the default route comes from one rule
// for every driver (per family): the first endpoint, in the lexical order of the network
// names, of a non-internal network that offers a gateway. All interfaces of a new sandbox
// are made in one kernel-worker call.

/**
 * Whose netns a container's sandbox is: berth's own (made and deleted by berth), shared
 * (another container's, or the host's: not berth's to touch), or lent by another runtime
 * (CNI: berth's interfaces go in and come out, the netns is never made nor deleted here).
 */
export type NetnsRole = 'own' | 'shared' | 'lent';

/** One endpoint with its driver's plan and what the kernel is asked to make of it. */
export interface Joined {
  net: NetworkRecord;
  ep: EndpointRecord;
  plan: InterfacePlan;
  iface: SandboxInterface;
}

export class SandboxService {
  constructor(
    private readonly state: State,
    private readonly networks: NetworkService,
    private readonly endpoints: EndpointService,
    private readonly kernel: Kernel,
    private readonly observers: Observers,
    private readonly log: (msg: string) => void,
  ) {}

  /**
   * Makes the netns (or opens the one lent: it must be there) and joins every endpoint
   * (`eps` in interface order); on failure undoes all of it.
   */
  async create(c: ContainerRecord, netns: string, eps: EndpointRecord[], publishes: boolean, role: 'own' | 'lent' = 'own'): Promise<void> {
    for (const ep of eps) await this.endpoints.assign(this.network(ep), ep);
    for (const ep of eps) await this.prepare(c, this.network(ep), ep, netns, publishes);
    c.sandboxKey = netns;
    this.state.saveContainerWithEndpoints(c, eps);
    crashPoint('start.recorded');
    const joined = this.planAll(eps, publishes);
    for (const family of FAMILIES) {
      const gateway = gatewayOf(joined, family);
      if (gateway) gateway.iface.routes.push(defaultRoute(gateway, family));
    }
    const gateway = gatewayOf(joined, 4);
    const listener = this.observers.listenIn(c, eps.map((ep) => this.network(ep)));
    const { sockets } = await this.kernel.applySandbox(netns, joined.map((j) => j.iface), { create: role === 'own', listen: listener?.at });
    if (listener && sockets) await listener.owner.sandboxUp?.(c, netns, sockets);
    for (const j of joined) await this.joined(c, j, j === gateway);
  }

  /** Joins one endpoint to a running container's sandbox (connect); the default route moves to it if the rule says so. */
  async join(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord, publishes: boolean): Promise<void> {
    await this.endpoints.assign(net, ep);
    this.state.saveEndpoint(ep);
    crashPoint('connect.assigned');
    try {
      await this.prepare(c, net, ep, c.sandboxKey, publishes);
      this.state.saveEndpoint(ep);
      const others = this.planAll(this.live(c).filter((e) => e.id !== ep.id), publishes);
      const mine = this.plan(net, ep, publishes);
      if (!mine) return;
      for (const family of FAMILIES) if (gatewayOf([...others, mine], family) === mine) mine.iface.routes.push(defaultRoute(mine, family));
      await this.kernel.applySandbox(c.sandboxKey, [mine.iface], { create: false });
      await this.joined(c, mine, gatewayOf([...others, mine], 4) === mine);
    } catch (err) {
      await this.endpoints.release(c, net, ep);
      throw err;
    }
  }

  /** Takes one endpoint out of a running sandbox (disconnect); if it carried the default route, the next by the rule does. */
  async leave(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord, publishes: boolean): Promise<void> {
    if (!ep.ifName || !c.sandboxKey) return this.endpoints.release(c, net, ep);
    const before = this.planAll(this.live(c), publishes);
    const mine = before.find((j) => j.ep.id === ep.id);
    // per family: did this endpoint carry the default route? (its route goes with its interface)
    const carried = FAMILIES.filter((family) => !!mine && gatewayOf(before, family) === mine);
    if (mine) {
      await this.left(mine);
      await this.kernel.removeInterface(c.sandboxKey, mine.iface);
    }
    crashPoint('disconnect.removed');
    await this.endpoints.release(c, net, ep);
    for (const family of carried) {
      const next = gatewayOf(before.filter((j) => j !== mine), family);
      if (next) await this.kernel.setDefaultRoute(c.sandboxKey, gatewayIn(next, family)!, next.ep.ifName);
    }
  }

  /**
   * After a daemon restart, for the containers whose processes still run: their addresses
   * are taken again and any interface missing from a netns is made again. Every sandbox is
   * read in one visit, many to a kernel round trip (SANDBOXES_PER_VISIT), with the
   * resolver's sockets bound in the same visit; the next batch is read while this one is
   * checked.
   */
  async restoreAll(items: { c: ContainerRecord; role: NetnsRole; publishes: boolean }[]): Promise<void> {
    const all = items.map((i) => ({ ...i, eps: this.live(i.c) }));
    for (const { eps } of all) for (const ep of eps) await this.endpoints.reserveAgain(this.network(ep), ep);
    const own = all
      .filter((i) => i.role !== 'shared' && i.c.sandboxKey)
      .map((i) => ({ ...i, listener: this.observers.listenIn(i.c, i.eps.map((ep) => this.network(ep))) }));
    const batches: (typeof own)[] = [];
    for (let k = 0; k < own.length; k += SANDBOXES_PER_VISIT) batches.push(own.slice(k, k + SANDBOXES_PER_VISIT));
    const reads = batches.map((b) => this.kernel.readSandboxes(b.map((i) => ({ netns: i.c.sandboxKey, listen: i.listener?.at }))));
    // every batch was asked for at once, so each one's sockets are handed on even after a
    // container failed; the first failure is thrown once all are through
    let failed: unknown;
    for (const [k, read] of reads.entries()) {
      for (const [n, f] of (await read).entries()) {
        const { c, eps, publishes, listener } = batches[k]![n]!;
        try {
          if (f.sockets) await listener!.owner.sandboxUp?.(c, f.netns, f.sockets);
          if (f.exists) await this.restoreFrom(c, eps, f, publishes);
        } catch (err) {
          failed ??= err;
        }
      }
    }
    if (failed) throw failed;
  }

  /** One adopted sandbox, as the kernel has it: whatever of an endpoint is half made goes and is made again whole. */
  private async restoreFrom(c: ContainerRecord, eps: EndpointRecord[], facts: SandboxFacts, publishes: boolean): Promise<void> {
    if (facts.error) throw new Error(facts.error);
    const joined = this.planAll(eps, publishes);
    const present = new Set(facts.addresses.map((a) => `${a.ifname} ${a.cidr}`));
    const links = new Set(facts.links.map((l) => l.name));
    for (const j of joined) {
      const link = links.has(j.ep.ifName);
      // half made (a connect cut by a crash): what is there goes, and it is made again whole;
      // told by its addresses of either family (an IPv6-only endpoint has no IPv4 one), but
      // link-scope IPv6, which the address list leaves out
      const whole = link && j.iface.addresses.filter((a) => !isLinkLocal6(a)).every((cidr) => present.has(`${j.ep.ifName} ${cidr}`));
      if (link && !whole) await this.kernel.removeInterface(c.sandboxKey, j.iface);
      if (!whole) {
        for (const family of FAMILIES) if (gatewayOf(joined, family) === j) j.iface.routes.push(defaultRoute(j, family));
        await this.kernel.applySandbox(c.sandboxKey, [j.iface], { create: false });
      }
      // what a driver was told when the endpoint joined it knows still (a plugin keeps its state)
      await this.joined(c, j, gatewayOf(joined, 4) === j, { restored: true, kept: !!whole });
    }
  }

  /**
   * Gives every endpoint up and deletes the netns when it is the container's own (the
   * kernel removes what was in it); in a lent one, berth's interfaces go and the netns stays.
   */
  async destroy(c: ContainerRecord, role: NetnsRole, publishes: boolean): Promise<void> {
    const joined = role !== 'shared' ? this.planAll(this.live(c), publishes) : [];
    for (const j of joined) {
      await this.left(j).catch((err: Error) => this.log(`container ${c.name}: ${err.message}`));
      // links lent to the sandbox go back before the netns, and what is in it, goes; a
      // macvlan is deleted now too: the kernel tears a deleted netns down lazily, and its
      // MAC would stay taken on the parent (a restart with a fixed MAC is refused meanwhile)
      if ((j.iface.link.kind !== 'veth' && j.iface.link.kind !== 'routed-veth') || role === 'lent') {
        await this.kernel.removeInterface(c.sandboxKey, j.iface).catch((err: Error) => this.log(`container ${c.name}: ${err.message}`));
      }
    }
    for (const ep of this.state.endpointsOf({ containerId: c.id })) {
      const net = this.state.networks.get(ep.networkId);
      if (net) await this.endpoints.release(c, net, ep);
    }
    if (role !== 'shared' && c.sandboxKey) {
      await this.observers.sandboxDown(c, c.sandboxKey).catch((err: Error) => this.log(`container ${c.name}: ${err.message}`));
      if (role === 'own') await this.kernel.deleteNetns(c.sandboxKey);
    }
  }

  /** The endpoint that carries the container's IPv4 default route now, if any. */
  gatewayEndpoint(c: ContainerRecord): Joined | undefined {
    return gatewayOf(this.planAll(this.live(c), false), 4);
  }

  /** The container's endpoints that hold an interface, in the order they were made. */
  private live(c: ContainerRecord): EndpointRecord[] {
    return this.state.endpointsOf({ containerId: c.id }).filter((e) => e.ifName);
  }

  /** A driver that makes its endpoints outside berth (a plugin) does so now; the link it names (and a MAC it chose) are the endpoint's. */
  private async prepare(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord, netns: string, publishes: boolean): Promise<void> {
    const driver = this.networks.driverOf(net);
    if (!driver.prepareEndpoint) return;
    // on record first: a crash while the driver works still has its release ask it to let go
    ep.prepared = true;
    this.state.saveEndpoint(ep);
    crashPoint('plugin-endpoint.recorded');
    const made = await driver.prepareEndpoint(this.networks.view(net), viewOf(ep, publishes), sandboxViewOf(c, netns));
    crashPoint('plugin-endpoint.joined');
    if (made?.linkName) ep.linkName = made.linkName;
    if (made?.mac) ep.mac = made.mac;
  }

  private network(ep: EndpointRecord): NetworkRecord {
    return this.state.networks.get(ep.networkId)!;
  }

  private planAll(eps: EndpointRecord[], publishes: boolean): Joined[] {
    return eps.flatMap((ep) => this.plan(this.network(ep), ep, publishes) ?? []);
  }

  /** The driver's plan for one endpoint and the interface it makes (routes of its own, no default yet). */
  private plan(net: NetworkRecord, ep: EndpointRecord, publishes: boolean): Joined | undefined {
    const plan = this.networks.driverOf(net).planEndpoint(this.networks.view(net), viewOf(ep, publishes));
    if (!plan) return undefined;
    const iface: SandboxInterface = {
      link: plan.link,
      ifName: ep.ifName,
      mac: plan.mac,
      mtu: plan.mtu,
      addresses: plan.addresses,
      routes: (plan.routes ?? []).map((r) => ({ dst: r.dst, via: r.via })),
      ...(plan.noPrefixRoute ? { noPrefixRoute: true } : {}),
    };
    return { net, ep, plan, iface };
  }

  private async joined(c: ContainerRecord, j: Joined, isGateway: boolean, opts: { restored?: boolean; kept?: boolean } = {}): Promise<void> {
    const driver = this.networks.driverOf(j.net);
    await driver.joined?.(this.networks.view(j.net), viewOf(j.ep, false), { kept: opts.kept ?? false });
    if (isGateway && !opts.restored) {
      await driver.gatewayUp?.(this.networks.view(j.net), viewOf(j.ep, false), sandboxViewOf(c, c.sandboxKey));
      // what it published, for inspect and `port` (dockerd asks EndpointOperInfo here too)
      const ports = await driver.endpointPorts?.(this.networks.view(j.net), viewOf(j.ep, false));
      if (ports) c.driverPorts = ports;
    }
    await this.observers.endpointUp(c, j.net, j.ep, isGateway);
  }

  private async left(j: Joined): Promise<void> {
    await this.networks.driverOf(j.net).left?.(this.networks.view(j.net), viewOf(j.ep, false));
  }
}

/** How many sandboxes one kernel round trip of a restart reads: big enough to cut the trips, small enough to start checking early. */
const SANDBOXES_PER_VISIT = 64;

const FAMILIES = [4, 6] as const;
type Family = (typeof FAMILIES)[number];

/** fe80::/10, which the kernel's address list leaves out. */
function isLinkLocal6(cidr: string): boolean {
  return /^fe[89ab][0-9a-f]?:/i.test(cidr);
}

function gatewayIn(j: Joined, family: Family): string | undefined {
  return family === 4 ? j.plan.gateway4 : j.plan.gateway6;
}

function defaultRoute(j: Joined, family: Family): { dst: string; via?: string } {
  return { dst: 'default', via: gatewayIn(j, family) };
}

/**
 * The one gateway rule, per family: the endpoint of the first network, in the lexical order
 * of network names, that is not internal and offers a gateway of that family.
 */
export function gatewayOf(joined: Joined[], family: Family): Joined | undefined {
  let best: Joined | undefined;
  for (const j of joined) {
    if (j.net.internal || !gatewayIn(j, family)) continue;
    if (!best || j.net.name < best.net.name) best = j;
  }
  return best;
}
