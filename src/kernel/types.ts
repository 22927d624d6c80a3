// The kernel boundary (DESIGN.md): the ONLY way the rest of berth touches Linux
// networking. Every operation is idempotent so start-up reconciliation can replay it.
// `netns` is the path of a bind-mounted network namespace file; undefined means the
// daemon's own ("host") namespace.

export interface NetnsSockets {
  /** a UDP socket bound to address:port */
  udp: number;
  /** a TCP socket bound to address:port, already listening (connections queue until adopted) */
  tcp: number;
}

export interface LinkInfo {
  index: number;
  name: string;
  /** IFLA_INFO_KIND: 'bridge', 'veth', 'dummy', … ('' for devices without one, e.g. lo). */
  kind: string;
  /** ifindex of the master (bridge) or 0. */
  master: number;
  mtu: number;
  mac: string;
  up: boolean;
  /** IFLA_IFALIAS, when set */
  alias?: string;
  /** kind 'vxlan' only: its tunnel settings */
  vxlan?: VxlanInfo;
}

export interface VxlanInfo {
  /** the VXLAN network identifier, 1..16777215 */
  vni: number;
  /** the underlay address its packets leave from, when set */
  local?: string;
  /** destination UDP port */
  port: number;
  /** outer TTL (0: the route's default) */
  ttl: number;
  learning: boolean;
  /** answers ARP/ND from its neighbour table */
  proxy: boolean;
}

/** A VXLAN device of an overlay network, as ensureVxlan makes it. */
export interface VxlanSpec {
  name: string;
  /** 1..16777215 */
  vni: number;
  /** this host's underlay address (the VTEP), IPv4 or IPv6; it must be on one of its interfaces */
  local: string;
  /** default 4789 (IANA) */
  port?: number;
  /** outer TTL, default 64 */
  ttl?: number;
  /** default: the MTU of the interface holding `local` minus the encapsulation (50 on IPv4, 70 on IPv6) */
  mtu?: number;
  /** the bridge it becomes a port of (source learning off on that port) */
  master?: string;
  /**
   * IPv6 on the device (without an address of its own): needed for IPv6 neighbour
   * entries and ND proxy, i.e. an overlay with IPv6. Default off.
   */
  ipv6?: boolean;
}

/** One remote endpoint of an overlay, as the VXLAN device must know it. */
export interface VxlanPeer {
  mac: string;
  /** its overlay addresses (IPv4 and/or IPv6): a permanent neighbour entry each */
  ips: string[];
  /** the underlay address of the host it is on */
  vtep: string;
}

/** One FDB entry of a device (`bridge fdb show dev NAME`). */
export interface FdbEntry {
  mac: string;
  /** the remote VTEP (VXLAN entries of the device itself) */
  dst?: string;
  /** 'self': the device's own table (the VXLAN driver's); 'master': its bridge's */
  table: 'self' | 'master';
  /** permanent/static entries were programmed; dynamic ones were learned from traffic */
  state: 'permanent' | 'static' | 'dynamic';
}

/** One neighbour (ARP/ND) entry of a device (`ip neigh show dev NAME`). */
export interface NeighbourEntry {
  ip: string;
  mac: string;
  permanent: boolean;
}

export interface AddressInfo {
  ifname: string;
  index: number;
  /** e.g. "172.17.0.1/16" */
  cidr: string;
}

export interface RouteInfo {
  family: 4 | 6;
  /** "default" or a CIDR such as "172.17.0.0/16" or "fd00:1::/64" */
  dst: string;
  gateway?: string;
  /** output interface name (if known) */
  dev?: string;
  table: number;
  /** rtm_protocol: who made it (2 the kernel, 3 `ip route add`, 66 a direct-routed overlay's …) */
  protocol: number;
}

/** Where the kernel would send a packet to one address (`ip route get`). */
export interface RouteLookup {
  /** 'local': an address of this host; 'unicast': out of `dev`; 'other': blackhole, prohibit … */
  type: 'unicast' | 'local' | 'other';
  dev?: string;
  /** the next hop, when the address is not on-link */
  gateway?: string;
  /** the source address the kernel would give a packet on this route */
  prefsrc?: string;
}

export interface SandboxOptions {
  /** make the netns first (lo up) */
  create: boolean;
  /** also bind UDP and listening TCP sockets to address:port inside it (see bindInNetns) */
  listen?: { address: string; port: number };
}

/** How one sandbox interface comes to be. */
export type LinkSpec =
  /** a veth pair: the peer is born in the sandbox, the host end `hostName` is enslaved to `master` and up */
  | { kind: 'veth'; hostName: string; master: string; hairpin?: boolean }
  /**
   * a veth pair whose host end `hostName` is on no bridge (a routed network): it holds
   * `gateways` (each family's gateway, /32 or /128: the container's next hop is the host
   * end itself) and the host routes `routes` (the container's addresses, /32 or /128)
   * through it, with the gateway of their family as the host's source address
   */
  | { kind: 'routed-veth'; hostName: string; gateways: string[]; routes: string[] }
  /** a macvlan sub-interface of `parent` (in the daemon's netns), born in the sandbox */
  | { kind: 'macvlan'; parent: string; mode: MacvlanMode }
  /**
   * a link that exists already, named `name` in `netns` (undefined: the daemon's), moved
   * into the sandbox and renamed; `giveBack`: on removal it goes back there under its name
   * instead of being deleted (the ends of a point-to-point pair parked between joins)
   */
  | {
    kind: 'existing'; name: string; netns?: string; giveBack?: boolean;
    /**
     * `name` is one end of a veth pair whose other end is named `pair` in the same netns:
     * when neither end is there (the pair died with a sandbox deleted while holding an
     * end), the pair is made again there first. A parked end of a live pair is always there.
     */
    pair?: string;
  };

/** The alias the kernel gives links it made for a network under a name the user chose (a VLAN parent): only those are berth's to delete. */
export const MADE_BY_BERTH_ALIAS = 'made by berth';

export type MacvlanMode = 'bridge' | 'private' | 'vepa' | 'passthru';

/** One interface of a sandbox, fully decided: the kernel makes it as said. */
export interface SandboxInterface {
  link: LinkSpec;
  /** its name in the sandbox (eth0, eth1, …) */
  ifName: string;
  mac?: string;
  mtu?: number;
  /** CIDR form, either family; a v6 one turns IPv6 on for this interface (born without it) */
  addresses: string[];
  /** routes through this interface; dst "default" for the default route of the address's family */
  routes: { dst: string; via?: string }[];
  /** the addresses are added without the route to their subnet (which `routes` then reach through a gateway) */
  noPrefixRoute?: boolean;
}

/** What readSandboxes is asked of one netns. */
export interface SandboxVisit {
  netns: string;
  /** bind the resolver's sockets there too (as bindInNetns), when it can */
  listen?: { address: string; port: number };
}

/** One netns as readSandboxes found it. */
export interface SandboxFacts {
  netns: string;
  /** a mounted netns file */
  exists: boolean;
  links: LinkInfo[];
  /** as listAddresses: link-scope IPv6 left out */
  addresses: AddressInfo[];
  /** the listen sockets, when asked for and bound (the caller owns them) */
  sockets?: NetnsSockets;
  /** it exists but could not be read */
  error?: string;
}

export interface Kernel {
  /** Creates a new network namespace bind-mounted at `path` (parent dir created), with lo up. Idempotent. */
  createNetns(path: string): Promise<void>;
  /** Unmounts (MNT_DETACH) and unlinks; the kernel then tears its veths down asynchronously. Idempotent. */
  deleteNetns(path: string): Promise<void>;
  /** True when `path` is a mounted netns file. */
  netnsExists(path: string): Promise<boolean>;
  /**
   * A UDP socket and a listening TCP socket bound to IPv4 `address`:`port` inside the
   * netns, returned as fds (non-blocking, close-on-exec) for a server in this process to
   * adopt: it serves that netns without ever entering it. The caller owns them and must
   * close them (they keep the netns alive); they die with the process.
   */
  bindInNetns(netns: string, address: string, port: number): Promise<NetnsSockets>;
  /** Many sandboxes' links and addresses (and the resolver's sockets bound in them), in one round trip, one visit each. */
  readSandboxes(visits: SandboxVisit[]): Promise<SandboxFacts[]>;

  listLinks(netns?: string): Promise<LinkInfo[]>;
  getLink(name: string, netns?: string): Promise<LinkInfo | null>;
  /** Creates the bridge (if missing), sets MTU (if given), brings it up. Idempotent. */
  ensureBridge(name: string, mtu?: number): Promise<LinkInfo>;
  /** Deletes a link by name; no error when it does not exist. */
  deleteLink(name: string, netns?: string): Promise<void>;
  setLinkUp(name: string, netns?: string): Promise<void>;

  /**
   * Puts interfaces into a sandbox in one worker round trip, each made as its LinkSpec
   * says, then named, given its MAC, MTU, addresses and routes. `create`: the netns is
   * made first (lo up). On failure nothing of this call is left: links made are deleted,
   * links moved are given back, a netns made is removed.
   */
  applySandbox(netns: string, ifaces: SandboxInterface[], opts: SandboxOptions): Promise<{ sockets?: NetnsSockets }>;
  /** Removes one sandbox interface: deleted, or given back (existing + giveBack). Idempotent. */
  removeInterface(netns: string, iface: Pick<SandboxInterface, 'ifName' | 'link'>): Promise<void>;
  /** Sets (replaces) the default route of the gateway's family in a sandbox via `gateway` on `dev`. */
  setDefaultRoute(netns: string, gateway: string, dev: string): Promise<void>;
  /** Removes the default route of a family (4 or 6) in a sandbox; none there is fine. */
  deleteDefaultRoute(netns: string, family: 4 | 6): Promise<void>;

  listAddresses(netns?: string): Promise<AddressInfo[]>;
  /** Adds an address (CIDR) to a link; EEXIST is not an error. */
  addAddress(ifname: string, cidr: string, netns?: string): Promise<void>;
  deleteAddress(ifname: string, cidr: string, netns?: string): Promise<void>;

  /** IPv4 routes of the main table. */
  listRoutes(netns?: string): Promise<RouteInfo[]>;
  /**
   * Adds (or replaces) an IPv4 route. dst "default" or CIDR. With `protocol`, the route
   * gets that origin, and only a route of the same origin is replaced: another one to dst
   * (a user's) is EEXIST and stays as it was.
   */
  addRoute(r: { dst: string; gateway?: string; dev?: string; protocol?: number }, netns?: string): Promise<void>;

  /** Deletes the main table's route to `dst` (a CIDR); none there is fine. With `protocol`, only a route of that origin. */
  deleteRoute(dst: string, netns?: string, opts?: { protocol?: number }): Promise<void>;
  /** The route the kernel takes to `ip` now (policy rules, every table); ENETUNREACH when there is none. */
  lookupRoute(ip: string, netns?: string): Promise<RouteLookup>;

  // ---- links a network owns outside its sandboxes ----

  /**
   * A veth pair `name`/`peer`, both ends down in `netns` (the daemon's when undefined): a
   * point-to-point network's link, parked between joins. Idempotent: when either end
   * exists the pair does (the other end may be in a sandbox), and nothing is done.
   */
  createVethPair(name: string, peer: string, netns?: string, mtu?: number): Promise<void>;
  /**
   * The 802.1q sub-interface `parent.id` in the daemon's netns, up; made when missing
   * (marked with the alias "made by berth") and then true. A kernel without 8021q:
   * KernelError EOPNOTSUPP whose message names it.
   */
  ensureVlan(parent: string, id: number): Promise<boolean>;
  /**
   * `name`, a veth end in the daemon's netns, up, whose peer is alone in the netns
   * `deadEnd` (made if missing): a NIC wired to nothing, the parent of a macvlan network
   * given none (a dummy link elsewhere; this works without the dummy module). Idempotent.
   * Deleting `name` and `deadEnd` removes it.
   */
  ensureLinkToNowhere(name: string, deadEnd: string): Promise<void>;
  /**
   * A bridge-mode macvlan `name` on `parent` in the daemon's netns with address `cidr`,
   * up: the host's way to its own macvlan children (routes to them are added apart). Idempotent.
   */
  ensureMacvlanShim(name: string, parent: string, cidr: string): Promise<void>;
  /** Promiscuous mode on or off (a macvlan parent behind a virtual switch that drops unknown MACs). */
  setPromisc(name: string, on: boolean, netns?: string): Promise<void>;

  // ---- overlay data path: VXLAN devices and their static entries ----

  /**
   * The VXLAN device of spec.name, up: unicast only, no learning, ARP/ND proxy, no miss
   * notifications; a port of spec.master (its learning off) when given. Idempotent: a
   * vxlan of that name and VNI is kept; a link of that name that is something else is
   * EEXIST. On failure a device this call made is deleted. Delete it with deleteLink.
   */
  ensureVxlan(spec: VxlanSpec, netns?: string): Promise<LinkInfo>;
  /**
   * Adds or replaces, in one worker call, every peer's entries on the VXLAN device `dev`:
   * its FDB entry MAC → VTEP (replaced in place: an endpoint that moved hosts leaves no
   * second destination behind), the bridge's static entry MAC → `dev` when `dev` has a
   * master, and a permanent neighbour IP → MAC per address. Every entry is a replace, so
   * calling again converges; on a failure the peers before the failing one stay programmed.
   * An endpoint that moved to THIS host: deleteVxlanEntries its MAC and IPs here.
   */
  setVxlanPeers(dev: string, peers: VxlanPeer[], netns?: string): Promise<void>;
  /**
   * Removes, in one worker call, the FDB entries (the device's and its bridge's) of
   * `macs` and the neighbour entries of `ips` on `dev`. Entries already gone are fine.
   */
  deleteVxlanEntries(dev: string, entries: { macs?: string[]; ips?: string[] }, netns?: string): Promise<void>;
  /**
   * The FDB entries of a device: its own (self) and its bridge's for it (master). The
   * bridge's entry of the device's own MAC (master, permanent) is the kernel's: a
   * reconcile leaves it alone.
   */
  listFdb(dev: string, netns?: string): Promise<FdbEntry[]>;
  /** The IPv4 and IPv6 neighbour entries of a device, with a MAC. */
  listNeighbours(dev: string, netns?: string): Promise<NeighbourEntry[]>;
  /**
   * Deletes every conntrack entry (either family, any zone) with `ip` as a source or
   * destination of either direction: a removed endpoint's, so its address can be reused
   * without stale NAT or state. Returns how many were deleted.
   */
  flushConntrack(ip: string, netns?: string): Promise<number>;

  /** Reads/writes /proc/sys/<key with dots or slashes> in the given netns. */
  readSysctl(key: string, netns?: string): Promise<string>;
  writeSysctl(key: string, value: string, netns?: string): Promise<void>;

  /**
   * Runs nft commands (the syntax of `nft -f`) as ONE atomic transaction through a
   * long-lived libnftables context in the daemon's netns. Returns nft's output
   * (e.g. for `list table …`). Throws KernelError with nft's error text on failure.
   */
  nft(commands: string, opts?: { json?: boolean; handles?: boolean }): Promise<string>;

  close(): Promise<void>;
}
