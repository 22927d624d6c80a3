import type { Kernel, RouteLookup } from '../../kernel/types.js';
import type { ClusterEndpointRecord } from '../../cluster/keys.js';
import type { NetworkPicture } from '../../driverapi/contract.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../../store/records.js';
import { familyOf, anyCidrContains } from '../../util/ip-family.js';
import type { NetworkService } from '../networks.js';
import type { State } from '../state.js';
import { Ruleset, type RouteFacts } from './nft-eval.js';

// What `berth explain` knows of the host at the moment it is asked: berth's records (every
// container's interfaces and the networks' devices) and the kernel's live state (the
// ruleset, every table of every owner; the host's addresses and routes; br_netfilter and
// forwarding sysctls). Read once per explanation, so one answer is one consistent picture.

/** One interface of a container on one network. */
export interface Iface {
  container: ContainerRecord;
  network: NetworkRecord;
  ep: EndpointRecord;
  ifName: string;
  /** plain addresses (no prefix), both families */
  addresses: string[];
  /** CIDR forms, for on-link checks */
  cidrs: string[];
  /** the host side: a bridge's veth, a ptp pair's end ('' for macvlan) */
  hostLink: string;
  /** the network's host device (its bridge), its parent link (macvlan), its VXLAN device */
  device?: string;
  parent?: string;
  vxlan?: string;
  hostSide?: string;
  /** a routed network's: its host ends' names begin with it (no bridge) */
  routedPrefix?: string;
  /** from the container's last known configuration: it is not running */
  lastKnown: boolean;
}

export class World {
  readonly ifaces: Iface[] = [];
  /** each network's host device (its driver's picture) → the network */
  private readonly devices = new Map<string, NetworkRecord>();
  private readonly routes = new Map<string, Promise<RouteLookup>>();
  /** the fib facts the evaluator asks for, answered from the host's routing */
  readonly facts: RouteFacts = {
    addressType: async (addr) => (this.isHostAddress(addr) || (await this.route(addr)).type === 'local' ? 'local' : 'unicast'),
    reversePathOk: async (saddr, iif) => (await this.route(saddr)).dev === iif,
  };

  private constructor(
    readonly kernel: Kernel,
    readonly ruleset: Ruleset,
    /** bridge-nf-call-iptables / -ip6tables: bridged frames also walk the ip hooks */
    readonly brNetfilter: Record<4 | 6, boolean>,
    readonly forwarding: Record<4 | 6, boolean>,
    /** the host's own addresses (plain), with the interface each is on */
    readonly hostAddresses: Map<string, string>,
    /** the host's bridges (any owner) */
    readonly bridges: Set<string>,
    /** every link of the host, by name */
    readonly links: Set<string>,
    readonly remotes: ClusterEndpointRecord[],
    readonly state: State,
  ) {}

  static async read(state: State, networks: NetworkService, kernel: Kernel, remotes: ClusterEndpointRecord[]): Promise<World> {
    const [json, listing, links, addresses, nf4, nf6, fw4, fw6] = await Promise.all([
      kernel.nft('list ruleset', { json: true }),
      kernel.nft('list ruleset', { handles: true }),
      kernel.listLinks(),
      kernel.listAddresses(),
      sysctlOn(kernel, 'net/bridge/bridge-nf-call-iptables'),
      sysctlOn(kernel, 'net/bridge/bridge-nf-call-ip6tables'),
      sysctlOn(kernel, 'net/ipv4/ip_forward'),
      sysctlOn(kernel, 'net/ipv6/conf/all/forwarding'),
    ]);
    const hostAddresses = new Map(addresses.map((a) => [a.cidr.split('/')[0]!, a.ifname]));
    const bridges = new Set(links.filter((l) => l.kind === 'bridge').map((l) => l.name));
    const world = new World(kernel, new Ruleset(json, listing), { 4: nf4, 6: nf6 }, { 4: fw4, 6: fw6 }, hostAddresses, bridges, new Set(links.map((l) => l.name)), remotes, state);
    const pictures = new Map<string, NetworkPicture>();
    for (const n of state.networks.values()) {
      const picture = networks.driverOf(n).describe?.(networks.view(n)) ?? {};
      pictures.set(n.id, picture);
      if (picture.device) world.devices.set(picture.device, n);
    }
    for (const c of state.containers.values()) {
      for (const ep of state.endpointsOf({ containerId: c.id })) {
        const network = state.networks.get(ep.networkId);
        if (!network) continue;
        const lastKnown = ep.addresses.length === 0;
        const cidrs = lastKnown ? ep.lastAddresses ?? [] : ep.addresses;
        if (!cidrs.length) continue;
        const picture = pictures.get(network.id) ?? {};
        world.ifaces.push({
          container: c, network, ep, ifName: (lastKnown ? ep.lastIfName : ep.ifName) ?? '', cidrs, addresses: cidrs.map((a) => a.split('/')[0]!),
          hostLink: lastKnown ? '' : ep.linkName, ...picture, lastKnown,
        });
      }
    }
    return world;
  }

  /** `ip route get ip` on the host, or in a container's netns (memoised for this explanation). */
  route(ip: string, netns?: string): Promise<RouteLookup> {
    const k = `${netns ?? ''} ${ip}`;
    let r = this.routes.get(k);
    if (!r) {
      r = this.kernel.lookupRoute(ip, netns).catch((): RouteLookup => ({ type: 'other' }));
      this.routes.set(k, r);
    }
    return r;
  }

  isHostAddress(ip: string): boolean {
    return this.hostAddresses.has(ip) || (familyOf(ip) === 4 ? ip.startsWith('127.') : ip === '::1');
  }

  ifacesOf(c: ContainerRecord): Iface[] {
    return this.ifaces.filter((i) => i.container.id === c.id).sort((a, b) => a.ifName.localeCompare(b.ifName));
  }

  /** The container interface that holds ip (running containers first). */
  ifaceWithAddress(ip: string): Iface | undefined {
    const all = this.ifaces.filter((i) => i.addresses.includes(ip));
    return all.find((i) => !i.lastKnown) ?? all[0];
  }

  /** The network a host device (a bridge) belongs to, if berth made it. */
  networkOfDevice(device: string): NetworkRecord | undefined {
    return this.devices.get(device);
  }

  /** The published port berthd relays from [::1] (portmap/loopback-relay.ts), with its container's name. */
  relayFor(proto: 'tcp' | 'udp', port: number): { container: string; containerIp: string; containerPort: number } | undefined {
    for (const c of this.state.containers.values()) {
      // berthd holds (and relays on) the sockets of the ports it binds, not of those a runtime binds
      const p = c.publishedPorts?.find((x) => x.proto === proto && x.hostPort === port && (x.hostIp === '::' || x.hostIp === '::1') && !x.unbound);
      if (p) return { container: c.name, containerIp: p.containerIp, containerPort: p.containerPort };
    }
    return undefined;
  }

  /** The host's macvlan beside a macvlan network's containers (-o berth.host_access=true), when it is there. */
  macvlanShim(network: NetworkRecord): string | undefined {
    const name = this.ifaces.find((i) => i.network.id === network.id)?.hostSide;
    return name && this.links.has(name) ? name : undefined;
  }

  /** Whether dev answers ARP for any address of the host (arp_ignore 0, the kernel's default: the larger of all's and dev's counts). */
  async answersArpForAll(dev: string): Promise<boolean> {
    const level = async (key: string) => Number((await this.kernel.readSysctl(key).catch(() => '0')).trim()) || 0;
    return Math.max(await level('net/ipv4/conf/all/arp_ignore'), await level(`net/ipv4/conf/${dev}/arp_ignore`)) === 0;
  }

  /** A container of another host on an overlay network here, by address. */
  remoteWithAddress(ip: string): ClusterEndpointRecord | undefined {
    return this.remotes.find((r) => r.ip === ip);
  }

  /** Whether addr is on-link for an interface with these CIDRs. */
  static onLink(cidrs: string[], addr: string): boolean {
    return cidrs.some((c) => familyOf(c.split('/')[0]!) === familyOf(addr) && anyCidrContains(c, addr));
  }
}

async function sysctlOn(kernel: Kernel, key: string): Promise<boolean> {
  return (await kernel.readSysctl(key).catch(() => '0')).trim() === '1';
}
