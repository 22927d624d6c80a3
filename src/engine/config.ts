import type { ClusterSettings } from '../cluster/membership.js';
import type { DefaultPoolSpec } from '../ipam/default-pools.js';

// The daemon's networking configuration (dockerd's flags of the same names).

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  /** --bip: the default bridge's address and subnet, e.g. "172.17.0.1/16" */
  bip?: string;
  /** --fixed-cidr: containers' range inside the default bridge subnet */
  fixedCidr?: string;
  /** --ipv6: the default bridge is dual stack (its IPv6 subnet: --fixed-cidr-v6, else a /64 of the default IPv6 pool) */
  ipv6: boolean;
  /** --fixed-cidr-v6: the default bridge's IPv6 subnet */
  fixedCidrV6?: string;
  /** --ip6tables: program berth's IPv6 firewall rules (false leaves IPv6 unfiltered, Docker's meaning) */
  ip6tables: boolean;
  /** -b/--bridge: an existing bridge to use as the default network ("none" disables it) */
  bridge?: string;
  /** --mtu of the default bridge's containers */
  mtu: number;
  /** --ip-forward: set net.ipv4.ip_forward=1, and IPv6 forwarding once an IPv6 network exists (ipv6-forwarding.ts) */
  ipForward: boolean;
  /** --iptables: program berth's nftables table at all */
  iptables: boolean;
  /** --icc: inter-container communication on the default bridge */
  icc: boolean;
  /** --ip: default host address for published ports */
  ip: string;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** --default-address-pool base=CIDR,size=N (repeatable): replaces the default pools */
  defaultAddressPools?: DefaultPoolSpec[];
  /** --neigh-gc-thresh3: 'report' (default) warns when containers outgrow the neighbour table; 'auto' raises it */
  neighGcThresh3: 'report' | 'auto';
  /** the unix sockets the API listens on (-H unix://PATH), masked inside containers as berth's other paths */
  apiSockets: string[];
  /** --cluster-store, --cluster-store-opt, --cluster-advertise: this host's etcd and the address others reach it at */
  cluster?: ClusterSettings;
  /** --plugin-dir (repeatable): where plugins are looked for; empty: Docker's folders */
  pluginDirs: string[];
}

export const DEFAULT_BRIDGE_NAME = 'berth0';

/** What a container must not see of berth: its API sockets, data-root and exec-root (every netns file and state dir). */
export function berthOwnPaths(c: DaemonConfig): string[] {
  return [...c.apiSockets, c.dataRoot, c.execRoot];
}

export function defaultConfig(overrides: Partial<DaemonConfig> = {}): DaemonConfig {
  return {
    dataRoot: '/var/lib/berth',
    execRoot: '/run/berth',
    mtu: 1500,
    ipForward: true,
    iptables: true,
    ipv6: false,
    ip6tables: true,
    icc: true,
    ip: '0.0.0.0',
    dns: [],
    dnsSearch: [],
    dnsOptions: [],
    neighGcThresh3: 'report',
    apiSockets: [],
    pluginDirs: [],
    ...overrides,
  };
}
