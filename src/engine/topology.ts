import { hostname } from 'node:os';
import { ipv4Of, ipv6Of, type ContainerRecord } from '../store/records.js';
import { parseLink } from './links.js';
import type { ClusterEndpointRecord } from '../cluster/keys.js';
import type { NetworkService } from './networks.js';
import type { State } from './state.js';

// The whole network of this host as data, for a person to see (`berth system graph`, the
// topology page): every network with its driver's device, every container with its
// interfaces, the published ports, links, and which networks are cut off from which.
// Built from berth's records (what berth made and keeps true in the kernel), in one pass.

export interface TopologyNetwork {
  id: string;
  name: string;
  driver: string;
  scope: 'local' | 'global';
  subnets: string[];
  gateways: string[];
  internal: boolean;
  /** the driver's host device (a bridge), the link it hangs on (a macvlan's parent), its VXLAN device */
  device?: string;
  parent?: string;
  vxlan?: string;
  /** a routed network's (no device): its containers' host ends are named with this prefix */
  routedPrefix?: string;
  /** networks whose containers it cannot reach, and that cannot reach it (berth's isolation between bridge networks) */
  isolatedFrom: string[];
}

export interface TopologyInterface {
  network: string;
  ifName: string;
  ipv4?: string;
  ipv6?: string;
  mac: string;
  /** its link outside the sandbox (a bridge's host veth) */
  hostLink?: string;
  aliases: string[];
}

export interface TopologyContainer {
  id: string;
  name: string;
  status: string;
  /** 'cni': a sandbox another runtime lent (its runtime's container) */
  runtime: 'berth' | 'cni';
  networkMode: string;
  interfaces: TopologyInterface[];
  /** legacy and per-network links: alias → target container name */
  links: { alias: string; target: string; network?: string }[];
}

export interface TopologyPort {
  container: string;
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

/** A container on another host, on a network of scope global (an overlay spans the hosts). */
export interface TopologyRemote {
  network: string;
  name: string;
  ipv4: string;
  mac: string;
  /** the host's underlay address */
  host: string;
}

export interface Topology {
  host: { hostname: string };
  networks: TopologyNetwork[];
  containers: TopologyContainer[];
  ports: TopologyPort[];
  /** with --cluster-store: the other hosts' containers on global networks */
  remote: TopologyRemote[];
}

/** Drivers whose networks berth's firewall keeps apart from each other (the bridge's isolation rule spans them all). */
const ISOLATED_DRIVERS = new Set(['bridge', 'overlay']);

export function buildTopology(state: State, networks: NetworkService, remotes: ClusterEndpointRecord[] = []): Topology {
  const nets = [...state.networks.values()].sort(byName);
  const isolating = nets.filter((n) => ISOLATED_DRIVERS.has(n.driver));
  const nameOf = (id: string) => state.networks.get(id)?.name ?? id.slice(0, 12);
  const out: Topology = {
    host: { hostname: hostname() },
    networks: nets.map((n) => {
      const picture = networks.driverOf(n).describe?.(networks.view(n)) ?? {};
      return {
        id: n.id,
        name: n.name,
        driver: n.driver,
        scope: n.scope,
        subnets: n.ipamConfig.map((c) => c.subnet),
        gateways: n.ipamConfig.flatMap((c) => (c.gateway ? [c.gateway] : [])),
        internal: n.internal,
        ...picture,
        isolatedFrom: ISOLATED_DRIVERS.has(n.driver) ? isolating.filter((o) => o.id !== n.id).map((o) => o.name) : [],
      };
    }),
    containers: [],
    ports: [],
    remote: remotes.filter((r) => state.networks.has(r.networkId)).map((r) => ({ network: nameOf(r.networkId), name: r.names[0] ?? r.containerId.slice(0, 12), ipv4: r.ip, mac: r.mac, host: r.vtep })).sort((a, b) => a.name.localeCompare(b.name)),
  };
  for (const c of [...state.containers.values()].sort(byName)) {
    const eps = state.endpointsOf({ containerId: c.id });
    out.containers.push({
      id: c.id,
      name: c.name,
      status: c.state.status,
      runtime: c.attachment ? 'cni' : 'berth',
      networkMode: c.hostConfig.networkMode,
      interfaces: eps.filter((e) => e.ifName).sort((a, b) => a.ifName.localeCompare(b.ifName)).map((e) => ({
        network: nameOf(e.networkId),
        ifName: e.ifName,
        ...(ipv4Of(e) ? { ipv4: e.addresses.find((a) => !a.includes(':')) } : {}),
        ...(ipv6Of(e) ? { ipv6: e.addresses.find((a) => a.includes(':')) } : {}),
        mac: e.mac,
        ...(e.linkName ? { hostLink: e.linkName } : {}),
        aliases: e.aliases,
      })),
      links: linksOf(c, state, eps.map((e) => ({ network: nameOf(e.networkId), links: e.links }))),
    });
    for (const p of [...(c.publishedPorts ?? []), ...(c.driverPorts ?? [])]) {
      out.ports.push({ container: c.name, proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: p.containerIp, containerPort: p.containerPort });
    }
  }
  return out;
}

function linksOf(c: ContainerRecord, state: State, perNetwork: { network: string; links: string[] }[]): TopologyContainer['links'] {
  const target = (name: string) => state.containers.get(name)?.name ?? name;
  return [
    ...c.hostConfig.links.map(parseLink).map((l) => ({ alias: l.alias, target: target(l.name) })),
    ...perNetwork.flatMap((p) => p.links.map(parseLink).map((l) => ({ alias: l.alias, target: target(l.name), network: p.network }))),
  ];
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name.localeCompare(b.name);
}

