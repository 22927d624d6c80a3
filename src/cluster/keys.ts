// The cluster store's key layout, in one place. Every key is under /berth/v1/ (the
// version lets a later layout live beside this one during an upgrade); every value is
// JSON. Keys that describe a host's own things (its record, its endpoints, the addresses
// they hold) hang on that host's lease, so they vanish when the host dies.
//
//   /berth/v1/hosts/<hostId>              → HostRecord                   (host's lease)
//   /berth/v1/networks/<networkId>        → the network (name, subnet, gateway, vni, …)
//   /berth/v1/names/<networkName>         → networkId   (claimed with the network, one txn)
//   /berth/v1/vnis/<vni>                  → networkId   (claimed with the network, one txn)
//   /berth/v1/subnets/<cidr>              → networkId   (claimed with the network: two hosts picking one default subnet at once)
//   /berth/v1/addresses/<networkId>/<ip>  → endpointId  (owner's lease)
//   /berth/v1/endpoints/<networkId>/<eid> → the endpoint (name, aliases, ip, mac, host, vtep, up) (owner's lease)
//   /berth/v1/joins/<networkId>           → the last endpoint id that joined (touched by every join,
//                                            so a network rm can tell that none joined since it looked)
//   /berth/v1/address-cursor/<networkId>  → the address handed out last (allocation goes on after it)
//
// Names of networks and hosts are free text in Docker: each path segment is
// percent-encoded, so a name with "/" cannot reach into another key.

export const ROOT = '/berth/v1/';

const seg = (s: string | number) => encodeURIComponent(String(s));

export const keys = {
  hosts: `${ROOT}hosts/`,
  host: (hostId: string) => `${ROOT}hosts/${seg(hostId)}`,
  networks: `${ROOT}networks/`,
  network: (networkId: string) => `${ROOT}networks/${seg(networkId)}`,
  names: `${ROOT}names/`,
  name: (networkName: string) => `${ROOT}names/${seg(networkName)}`,
  vnis: `${ROOT}vnis/`,
  vni: (vni: number) => `${ROOT}vnis/${vni}`,
  subnet: (cidr: string) => `${ROOT}subnets/${seg(cidr)}`,
  addresses: (networkId: string) => `${ROOT}addresses/${seg(networkId)}/`,
  address: (networkId: string, ip: string) => `${ROOT}addresses/${seg(networkId)}/${seg(ip)}`,
  endpoints: (networkId: string) => `${ROOT}endpoints/${seg(networkId)}/`,
  allEndpoints: `${ROOT}endpoints/`,
  endpoint: (networkId: string, endpointId: string) => `${ROOT}endpoints/${seg(networkId)}/${seg(endpointId)}`,
  joins: (networkId: string) => `${ROOT}joins/${seg(networkId)}`,
  addressCursor: (networkId: string) => `${ROOT}address-cursor/${seg(networkId)}`,
} as const;

/** The last segment of a key, decoded: the host id, the network id, the ip … */
export function lastSegment(key: string): string {
  return decodeURIComponent(key.slice(key.lastIndexOf('/') + 1));
}

/** The segments of a key below ROOT, decoded: ['endpoints', nid, eid]. */
export function segments(key: string): string[] {
  if (!key.startsWith(ROOT)) throw new Error(`not a berth cluster key: ${key}`);
  return key.slice(ROOT.length).split('/').map(decodeURIComponent);
}

/** What a host says about itself under hosts/<id>. */
export interface HostRecord {
  /** the address other hosts reach this one at (--cluster-advertise, resolved): the VTEP */
  advertise: string;
  /** for display only: hostnames need not be unique (Docker's serf quit when two were equal) */
  hostname: string;
  /** berth's version on that host */
  version: string;
}

/** What a host says about one of its endpoints on a global network under endpoints/<nid>/<eid>. */
export interface ClusterEndpointRecord {
  id: string;
  networkId: string;
  containerId: string;
  /** the host id it lives on */
  host: string;
  /** that host's underlay address: where its frames are tunnelled to */
  vtep: string;
  /** its IPv4 address on the network, without prefix */
  ip: string;
  mac: string;
  /** what others resolve it by on this network: name, short id, aliases, hostname */
  names: string[];
  /**
   * its interface is in its container: other hosts serve its names. Until then (the
   * address is claimed before the interface exists) they program only its data path, so a
   * peer that resolves the name finds it ready to answer.
   */
  up: boolean;
}
