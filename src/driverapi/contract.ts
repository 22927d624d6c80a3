import type { LinkInfo, LinkSpec } from '../kernel/types.js';

// The driver contract: a driver says *what*, generic code *does* (libnetwork's
// driver/osl split, CNI's typed Result). A driver parses its options once into a typed
// config that is stored with the network, makes and removes what belongs to the network,
// and for each endpoint returns an InterfacePlan: data, no kernel call. The engine turns
// the plans of a sandbox into one kernel-worker call and picks the default route by one
// rule for every driver. Capabilities stand in for driver names: the engine never asks
// "is this the bridge?", it asks "does this driver serve names, publish ports …?".

/** "10.0.0.2/24" or "fd00::2/64" */
export type Cidr = string;

export interface DriverCaps {
  /** local: known to this host only; global: shared by every host through the cluster store (--cluster-store) */
  scope: 'local' | 'global';
  /** more than one network of this driver may exist (false for host and null) */
  multiInstance: boolean;
  /** endpoints get addresses from IPAM, and interfaces in the sandbox */
  ipam: boolean;
  /** -p/-P are published through this driver's networks (PortPublisher below) */
  publishesPorts: boolean;
  /** -p/-P are the driver's to program (a plugin: the portmap of ProgramExternalConnectivity); berth's port mapper leaves them */
  portsByDriver?: boolean;
  /** how many endpoints one network of the driver holds (a point-to-point link 2); endpointLimit, when the network's options decide */
  maxEndpoints?: number;
  /**
   * IPAM keeps the subnet's gateway address out of the pool (bridge: the bridge's own;
   * macvlan: the LAN's router). false (ptp): a --gateway given is recorded, not kept: an
   * endpoint may hold it, and the other ends route through it.
   */
  reservesGateway: boolean;
  /** each endpoint is a neighbour of the host (its gateway is a host address): it counts toward the host's neighbour table */
  hostNeighbours: boolean;
  /** scope global: each network holds a VXLAN id, claimed in the cluster store with its name (overlay) */
  claimsVni?: boolean;
}

/** How many endpoints a network holds, and what to do when that is too few. */
export interface EndpointLimit {
  max: number;
  /** said after "network X is full" (a bridge: the routed mode has no such limit) */
  hint?: string;
}

/** The shape of a predefined network a driver provides (bridge: "bridge", host: "host", null: "none"). */
export interface PredefinedNetwork {
  subnets?: SubnetView[];
  /** dual stack; without an IPv6 entry in `subnets` the engine picks one from the default IPv6 pool */
  enableIPv6?: boolean;
  options?: Record<string, string>;
}

/** What the engine knows when a driver shapes its predefined network. */
export interface PredefinedContext {
  /** the stored network of that name, if any */
  existing?: DriverNetwork<unknown>;
  /** subnets of every other network (a new default must not overlap them) */
  takenSubnets: Cidr[];
}

/** A published port of a running container, as the firewall holds it. */
export interface PublishedPortView {
  hostIp: string;
  proto: 'tcp' | 'udp';
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

/** One subnet of a network, as IPAM gave it. */
export interface SubnetView {
  subnet: Cidr;
  gateway?: string;
  ipRange?: Cidr;
  auxAddresses?: Record<string, string>;
}

/** What a driver knows of one of its networks. */
export interface DriverNetwork<C> {
  id: string;
  name: string;
  internal: boolean;
  /** predefined (the default bridge) */
  builtin: boolean;
  subnets: SubnetView[];
  /** what parseConfig returned, as stored */
  config: C;
}

/** What a driver knows of one endpoint while planning it. */
export interface EndpointView {
  id: string;
  containerId: string;
  /** the container-side name the engine chose (eth0, eth1, …) */
  ifName: string;
  /** the endpoint's addresses from IPAM, CIDR form, both families */
  addresses: Cidr[];
  mac: string;
  /** the driver's name for this endpoint's link outside the sandbox (bridge: host veth; ptp: the pair's end), chosen by linkName() */
  linkName: string;
  /** EndpointConfig.IPAMConfig.LinkLocalIPs, CIDR form */
  linkLocal: Cidr[];
  /** EndpointConfig.DriverOpts */
  driverOpts: Record<string, string>;
  /** the container publishes ports (bridge: hairpin on its port) */
  publishes: boolean;
  /** prepareEndpoint was asked (the driver may hold it, though a crash cut its answer) */
  prepared: boolean;
}

/** A port as Docker's driver options carry it: IANA protocol number (6 tcp, 17 udp, 132 sctp). */
export interface PortView {
  proto: number;
  port: number;
}

/** The sandbox an endpoint joins, as a driver that makes endpoints outside berth is told of it (Docker's endpoint options). */
export interface SandboxView {
  /** the netns path */
  key: string;
  exposedPorts: PortView[];
  /** -p bindings: container port → host address and port range */
  portBindings: (PortView & { hostIp: string; hostPort: number; hostPortEnd: number })[];
}

/** How one endpoint's interface is made and what goes on it; the engine adds the default route. */
export interface InterfacePlan {
  link: LinkSpec;
  mac?: string;
  mtu?: number;
  /** addresses of either family, CIDR form */
  addresses: Cidr[];
  /** the gateways this endpoint offers for the container's default route, per family */
  gateway4?: string;
  gateway6?: string;
  /** extra routes in the sandbox through this interface */
  routes?: { dst: Cidr; via?: string }[];
  /** the addresses go on without the route to their subnet: `routes` reach it (through the gateway of a routed network) */
  noPrefixRoute?: boolean;
}

/** An endpoint of a global network on another host, as the cluster store tells every host. */
export interface RemoteEndpointView {
  id: string;
  mac: string;
  /** its addresses on the network, plain (no prefix) */
  ips: string[];
  /** the underlay address of the host it is on */
  vtep: string;
}

/** Another host of the cluster, as the cluster store lists it. */
export interface ClusterHostView {
  id: string;
  /** its underlay address (--cluster-advertise, without a port) */
  address: string;
  /** for messages only: hostnames need not be unique */
  hostname: string;
}

/** What a network create request gives a driver to parse. */
export interface NetworkSpec {
  id: string;
  name: string;
  internal: boolean;
  builtin: boolean;
  /** com.docker.network.* and driver options, as given */
  options: Record<string, string>;
}

export interface NetworkDriver<C = unknown> {
  readonly name: string;
  readonly caps: DriverCaps;
  /** the name of the predefined network this driver provides, if any (bridge "bridge", host "host", null "none") */
  readonly predefinedName?: string;
  /** Parses and checks the options once (InvalidParameterError); the result is stored with the network. */
  parseConfig(spec: NetworkSpec): C;
  /** The network's own limit on endpoints (a bridge's 1,023 ports; a routed one has none), over caps.maxEndpoints. */
  endpointLimit?(net: DriverNetwork<C>): EndpointLimit | undefined;
  /** Checks against the networks that exist (a clash of bridge names, of macvlan parents and subnets …) before anything is made. */
  checkNew?(net: DriverNetwork<C>, others: DriverNetwork<C>[]): Promise<void> | void;
  /** Makes the network in the kernel. Idempotent: also used to restore after a restart, unless restoreNetwork is there. */
  createNetwork(net: DriverNetwork<C>): Promise<void>;
  /** Start-up, for a stored network, instead of createNetwork (a plugin keeps its own networks: it is only activated again). */
  restoreNetwork?(net: DriverNetwork<C>): Promise<void>;
  deleteNetwork(net: DriverNetwork<C>): Promise<void>;
  /** The name of a new endpoint's outside link ('' when it has none); `taken(name)`: another endpoint of the network has that link name. */
  linkName?(net: DriverNetwork<C>, taken: (name: string) => boolean): string;
  /**
   * Before the endpoint is planned, its addresses known: a driver that makes endpoints
   * outside berth (a plugin: CreateEndpoint, then Join with the sandbox's path) does it
   * here, and planEndpoint plans from what it answered. The link it made and a MAC it
   * chose are recorded with the endpoint. Undone by releaseEndpoint.
   */
  prepareEndpoint?(net: DriverNetwork<C>, ep: EndpointView, sandbox: SandboxView): Promise<{ linkName?: string; mac?: string }>;
  /** The endpoint carries the container's IPv4 default route (a plugin: ProgramExternalConnectivity); undone by releaseEndpoint. */
  gatewayUp?(net: DriverNetwork<C>, ep: EndpointView, sandbox: SandboxView): Promise<void>;
  /** What to make for one endpoint; no kernel call. null: no interface (host, null). */
  planEndpoint(net: DriverNetwork<C>, ep: EndpointView): InterfacePlan | null;
  /** The endpoint's interface is gone and its address is given back next (a plugin: Leave, then DeleteEndpoint). */
  releaseEndpoint?(net: DriverNetwork<C>, ep: EndpointView): Promise<void>;
  /**
   * After the endpoint's interface exists (firewall elements, host routes …). `kept`: after
   * a daemon restart, for an interface that was there all along: what the kernel holds for
   * it is there still, only what the driver keeps in memory is to be made again.
   */
  joined?(net: DriverNetwork<C>, ep: EndpointView, how?: { kept: boolean }): Promise<void>;
  /** Before the endpoint's interface goes away. */
  left?(net: DriverNetwork<C>, ep: EndpointView): Promise<void>;
  /**
   * The predefined network this driver provides, shaped by the daemon's flags. undefined:
   * none, or the stored one (ctx.existing) is kept as it is; a network returned replaces it.
   */
  predefined?(ctx: PredefinedContext): Promise<PredefinedNetwork | undefined>;
  /** Start-up, before the networks are re-made: state kept for all networks at once is reset (bridge: its firewall table, keeping `ports`). */
  restart?(known: DriverNetwork<C>[], ports: PublishedPortView[]): Promise<void>;
  /**
   * Start-up, at the end: what this driver made earlier and no network or endpoint knows any
   * more is removed. `hostLinks`: the host netns's links, listed once for every driver (a
   * listing of 10,000 veths costs the kernel a scan of every peer netns id per veth).
   */
  reconcile?(known: DriverNetwork<C>[], knownLinks: Set<string>, hostLinks: readonly LinkInfo[]): Promise<void>;
  /**
   * scope global, on `network create`, before the network is claimed in the store: the
   * cluster's other hosts now. A driver that could not reach one of them refuses the
   * network with an error naming it (overlay routing=direct: a host across a router).
   */
  checkHosts?(net: DriverNetwork<C>, hosts: ClusterHostView[]): Promise<void>;
  /**
   * scope global: the engine keeps the network and its endpoints in the cluster store and
   * tells the driver of endpoints on other hosts, so it can reach them (overlay: its VXLAN
   * entries). Up/down one at a time, in the store's order; reconcile with the full set at
   * start and after a re-list: whatever the driver programmed for an endpoint not in
   * `remotes` goes.
   */
  remoteUp?(net: DriverNetwork<C>, remote: RemoteEndpointView): Promise<void>;
  remoteDown?(net: DriverNetwork<C>, remote: RemoteEndpointView): Promise<void>;
  remoteReconcile?(net: DriverNetwork<C>, remotes: RemoteEndpointView[]): Promise<void>;
  /** The host address ports are published on by default (bridge: host_binding_ipv4). */
  hostBindingIpv4?(net: DriverNetwork<C>): string;
  /**
   * With a cluster store: every host of the cluster (`self` among them), at start and
   * whenever one joins or leaves (a plugin of global connectivity: DiscoverNew/DiscoverDelete).
   */
  hostsChanged?(hosts: ClusterHostView[], self: ClusterHostView): Promise<void>;
  /**
   * caps.portsByDriver: the ports the driver published for its gateway endpoint, after
   * gatewayUp (a plugin: EndpointOperInfo's portmap, which dockerd shows as the container's Ports).
   */
  endpointPorts?(net: DriverNetwork<C>, ep: EndpointView): Promise<PublishedPortView[]>;
  /** What a picture of the network shows of its driver's side (`berth system graph`, the topology page). */
  describe?(net: DriverNetwork<C>): NetworkPicture;
}

/** The driver's side of a network, for a person: the device that carries it, the parent it hangs on. */
export interface NetworkPicture {
  /** the host device of the network (a bridge's name) */
  device?: string;
  /** the host link it hangs on (a macvlan's parent) */
  parent?: string;
  /** its VXLAN device (an overlay's), the network spans the cluster's hosts */
  vxlan?: string;
  /** the host's own interface on the network, beside the containers' (a macvlan's host-access shim) */
  hostSide?: string;
  /** a routed network has no device: each container's veth ends on the host, named with this prefix */
  routedPrefix?: string;
}
