// CNI's wire types (spec 1.1, protocols.md C): what berth-cni prints, and what berthd's
// /berth/cni routes answer with (always the 1.1 shape; versions.ts converts for older callers).

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** the netns path, for an interface inside the container */
  sandbox?: string;
}

export interface CniIp {
  address: string;
  gateway?: string;
  /** index into interfaces */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIp[];
  routes?: CniRoute[];
  dns?: CniDns;
}

/** The spec's error codes (SPEC.md "Error"), and berth's own from 100 up. */
export const CNI_ERRORS = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  io: 5,
  decode: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  notAvailable: 50,
  /** berth: an address, MAC, port or interface name already taken */
  conflict: 100,
  /** berth: CHECK found the attachment not as ADD left it */
  checkFailed: 101,
  /** berth: berthd failed the request (the kernel refused, a driver failed) */
  daemon: 102,
} as const;
