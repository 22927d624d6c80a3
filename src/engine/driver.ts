import type { Kernel, VethAttachment } from '../kernel/types.js';
import type { Firewall } from '../kernel/firewall.js';
import type { DaemonConfig } from './config.js';
import type { EndpointRecord, NetworkRecord } from '../store/records.js';

// libnetwork's driver contract, trimmed: a handful of methods; everything a driver
// needs comes in through DriverContext. A new driver is a folder under src/drivers/ and
// one line in the registry below.

export interface DriverContext {
  kernel: Kernel;
  firewall: Firewall;
  config: DaemonConfig;
}

/** Where an endpoint is being joined: the container's sandbox. */
export interface JoinTarget {
  /** the sandbox's netns file */
  netns: string;
  /** this endpoint carries the container's default route */
  isGateway: boolean;
  /** the container publishes ports (it may reach itself through them) */
  publishes: boolean;
}

export interface NetworkDriver {
  readonly name: string;
  /** more than one network of this driver may exist (false for host and null) */
  readonly multiInstance: boolean;
  /** this driver gives endpoints addresses from IPAM */
  readonly needsIpam: boolean;
  /**
   * Parses and validates driver options once, before anything is made, and fills the
   * record's derived fields (e.g. bridgeName). Throws InvalidParameterError.
   */
  prepare(n: NetworkRecord): void;
  /** Makes the network in the kernel. Idempotent: also used to restore after a restart. */
  createNetwork(n: NetworkRecord): Promise<void>;
  deleteNetwork(n: NetworkRecord): Promise<void>;
  join(n: NetworkRecord, ep: EndpointRecord, target: JoinTarget): Promise<void>;
  /**
   * What `join` makes, as data, for drivers whose join is one veth pair: lets the engine
   * make a new sandbox and all its interfaces in one kernel round trip.
   */
  vethFor?(n: NetworkRecord, ep: EndpointRecord, target: Omit<JoinTarget, 'netns'>): Omit<VethAttachment, 'netns'>;
  leave(n: NetworkRecord, ep: EndpointRecord, netns: string): Promise<void>;
}

export type DriverFactory = (ctx: DriverContext) => NetworkDriver;

export class DriverRegistry {
  private readonly drivers = new Map<string, NetworkDriver>();

  constructor(private readonly ctx: DriverContext, factories: Record<string, DriverFactory>) {
    for (const [name, make] of Object.entries(factories)) this.drivers.set(name, make(ctx));
  }

  get(name: string): NetworkDriver | undefined {
    return this.drivers.get(name);
  }
}
