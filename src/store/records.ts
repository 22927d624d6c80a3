import type { PublishedPort } from '../portmap/mapper.js';

/** Go's zero time, as dockerd prints a moment that never came (a container not started yet) */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

// What berth keeps durably. These are the store's shapes; the API's Docker-shaped JSON is
// derived from them in src/api/, never stored.

export interface IpamConfigRecord {
  subnet: string;
  gateway?: string;
  ipRange?: string;
  auxAddresses?: Record<string, string>;
}

export interface NetworkRecord {
  id: string;
  name: string;
  driver: string;
  scope: 'local' | 'global';
  created: string;
  internal: boolean;
  attachable: boolean;
  enableIPv6: boolean;
  /** false on an IPv6-only network (Docker 28's EnableIPv4); absent on every other: true */
  enableIPv4?: boolean;
  /** 'default' (berth's own allocator) or the name of an IPAM plugin */
  ipamDriver: string;
  /** an IPAM plugin's PoolIDs, per family, as it answered RequestPool */
  ipamPools?: { v4?: string; v6?: string };
  /** the IPAM plugin said RequiresRequestReplay when the network was made: each start asks it again for what the network holds */
  ipamReplay?: true;
  /** one config per enabled family, IPv4 first (dockerd's order), so [0] is the IPv4 one on a dual-stack network */
  ipamConfig: IpamConfigRecord[];
  /** null when the client sent none (inspect shows null then, as dockerd does) */
  ipamOptions: Record<string, string> | null;
  /** the options as given (inspect shows them) */
  options: Record<string, string>;
  labels: Record<string, string>;
  /** predefined (bridge, host, none): cannot be removed */
  builtin: boolean;
  /** what the driver's parseConfig made of the options, once: its own typed config (bridge: the Linux bridge's name, MTU …) */
  driverConfig: unknown;
}

export interface EndpointRecord {
  id: string;
  networkId: string;
  containerId: string;
  /** container-side interface name (eth0, eth1, …); '' while down or for host/null */
  ifName: string;
  /** the driver's name for the endpoint's link outside the sandbox (bridge: the host veth; ptp: the pair's end); '' when none */
  linkName: string;
  /** the endpoint's addresses while the container runs, CIDR form ("172.17.0.2/16"), either family; [] otherwise */
  addresses: string[];
  /** the addresses and interface name it had when it last ran (berth explain on a stopped container) */
  lastAddresses?: string[];
  lastIfName?: string;
  mac: string;
  /**
   * on record before a driver that makes endpoints outside berth (a plugin) is asked to:
   * after a crash that cut its answer, the release still asks it to let go
   */
  prepared?: true;
  /** user-requested addresses, plain (--ip, --ip6 / IPAMConfig.IPv4Address, IPv6Address) */
  staticIps?: string[];
  staticMac?: string;
  /** EndpointConfig.IPAMConfig.LinkLocalIPs: extra addresses on the interface, as given */
  linkLocalIps?: string[];
  /** EndpointConfig.DriverOpts, as given (shown by inspect; drivers may read them) */
  driverOpts?: Record<string, string>;
  aliases: string[];
  links: string[];
  created: string;
}

/** The endpoint's IPv4 address without its prefix, '' when it has none. */
export function ipv4Of(ep: Pick<EndpointRecord, 'addresses'>): string {
  const cidr = ep.addresses.find((a) => !a.includes(':'));
  return cidr ? cidr.slice(0, cidr.indexOf('/')) : '';
}

/** The endpoint's IPv4 prefix length (0 without one). */
export function ipv4PrefixOf(ep: Pick<EndpointRecord, 'addresses'>): number {
  const cidr = ep.addresses.find((a) => !a.includes(':'));
  return cidr ? Number(cidr.slice(cidr.indexOf('/') + 1)) : 0;
}

/** The endpoint's IPv6 address without its prefix, '' when it has none. */
export function ipv6Of(ep: Pick<EndpointRecord, 'addresses'>): string {
  const cidr = ep.addresses.find((a) => a.includes(':'));
  return cidr ? cidr.slice(0, cidr.indexOf('/')) : '';
}

/** The endpoint's IPv6 prefix length (0 without one). */
export function ipv6PrefixOf(ep: Pick<EndpointRecord, 'addresses'>): number {
  const cidr = ep.addresses.find((a) => a.includes(':'));
  return cidr ? Number(cidr.slice(cidr.indexOf('/') + 1)) : 0;
}

/** The user's --ip6, if any. */
export function staticIpv6Of(ep: Pick<EndpointRecord, 'staticIps'>): string | undefined {
  return ep.staticIps?.find((a) => a.includes(':'));
}

/** The user's --ip (IPv4), if any. */
export function staticIpv4Of(ep: Pick<EndpointRecord, 'staticIps'>): string | undefined {
  return ep.staticIps?.find((a) => !a.includes(':'));
}

export type ContainerStatus = 'created' | 'running' | 'exited' | 'removing' | 'dead';

export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  shimPid: number;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  error: string;
  /** the starttime field of /proc/PID/stat, to recognise our process after a daemon restart */
  pidStartTime?: string;
}

export interface ContainerConfig {
  /** Config.Image: the image as the client named it */
  image: string;
  /** "sha256:<id>" of that image (inspect's Image, the list's ImageID); absent without an image */
  imageId?: string;
  cmd: string[];
  env: string[];
  hostname: string;
  domainname: string;
  workdir: string;
  tty: boolean;
  openStdin: boolean;
  exposedPorts: string[];
  labels: Record<string, string>;
  /** Config.MacAddress (--mac-address before API 1.44), as given; the primary endpoint's staticMac carries it too */
  macAddress?: string;
  /** how many of cmd's first words are the entrypoint (Config.Entrypoint); absent: none */
  entrypointLength?: number;
  /** Config.AttachStdin/Stdout/Stderr as the client sent them (shown by inspect only) */
  attach?: { stdin: boolean; stdout: boolean; stderr: boolean };
}

export interface HostConfig {
  /** "bridge" | "host" | "none" | "container:<id>" | network name */
  networkMode: string;
  autoRemove: boolean;
  rootfs?: string;
  /** null when the client sent none (inspect shows null then, as dockerd does; [] when sent empty) */
  dns: string[] | null;
  dnsSearch: string[] | null;
  dnsOptions: string[] | null;
  extraHosts: string[];
  links: string[];
  portBindings: Record<string, { HostIp: string; HostPort: string }[]>;
  publishAllPorts: boolean;
  /** HostConfig.PidMode: '' (own pid namespace), 'host', 'container:<id>' */
  pidMode?: string;
  /** HostConfig.CapAdd, CapDrop and SecurityOpt as sent (null or absent when none was: inspect shows null, as dockerd) */
  capAdd?: string[] | null;
  capDrop?: string[] | null;
  securityOpt?: string[] | null;
  privileged?: boolean;
}

export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: ContainerState;
  /** netns file of the sandbox while it exists ('' otherwise; the shared one for container: mode) */
  sandboxKey: string;
  /** host ports published while it runs (random ones included), so a restart restores exactly these */
  publishedPorts?: PublishedPort[];
  /** the ports its network's driver published (a plugin's, DriverCaps.portsByDriver): shown, not berth's to hold */
  driverPorts?: PublishedPort[];
  /** set when another runtime made the sandbox and lent it to berth (CNI ADD): berth runs no process of it */
  attachment?: Attachment;
}

/**
 * A netns made and owned by another runtime (podman, containerd …), joined by berth to
 * one of its networks through CNI: the record lives from ADD to DEL, "running" while the
 * netns is there; its interface is the runtime's CNI_IFNAME.
 */
export interface Attachment {
  runtime: 'cni';
  /** CNI_CONTAINERID */
  containerId: string;
  /** CNI_IFNAME */
  ifName: string;
  /** CNI_NETNS: the runtime's netns file */
  netns: string;
  /** berth holds reservation sockets on the host ports (config "bindPorts"); else the runtime binds them, as podman does */
  bindsPorts?: boolean;
}

/**
 * A multi-step operation under way (engine/journal.ts): on record before its first step
 * changes a process, the kernel or a driver, gone once it is done or undone. One found at
 * start-up was cut by a crash: start-up finishes or undoes it from what it says (the
 * records say the rest). Each carries what its recovery needs that no other record keeps.
 */
export type IntentRecord = { id: string; began: string } & Intent;

export type Intent =
  /** a start: a process may run, a sandbox may exist, that the container's record does not show */
  | { op: 'container.start'; containerId: string }
  /** a connect: the endpoint is recorded, its interface maybe half made */
  | { op: 'container.connect'; containerId: string; endpointId: string }
  /** a disconnect: the endpoint's interface maybe gone, its record not yet */
  | { op: 'container.disconnect'; containerId: string; endpointId: string }
  /** a removal: the sandbox maybe half torn down, the records maybe gone, the state dir maybe not */
  | { op: 'container.remove'; containerId: string }
  /** a CNI ADD: the attachment recorded, its interface and ports maybe half made (undone at start-up: the runtime had no answer) */
  | { op: 'cni.attach'; containerId: string }
  /** a network removal: the record is dropped first, so the intent keeps what the driver needs to delete its objects */
  | { op: 'network.remove'; network: NetworkRecord };
