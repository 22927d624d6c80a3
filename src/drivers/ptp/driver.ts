import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  DriverCaps, DriverNetwork, EndpointView, InterfacePlan, NetworkDriver, NetworkSpec,
} from '../../driverapi/contract.js';
import type { Kernel } from '../../kernel/types.js';
import { familyOf, subnetOf, type Family } from '../../driverapi/subnets.js';
import { ConflictError } from '../../util/errors.js';
import { canonicalIPv6 } from '../../util/ip6.js';
import { parsePtpConfig, type PtpConfig } from './options.js';

// ptp: a network of two endpoints whose interfaces are the two ends of one veth pair,
// straight from one sandbox to the other: no bridge, no host end, no NAT (containerlab's
// links). Between joins the network's pair is parked, both ends down, in a netns of its
// own under the exec-root; a join moves the free end into the sandbox, a leave gives it
// back. No default route through it: the link carries what its two ends send each other
// (a container's default route comes from its other networks). Either family or both: each
// end gets the network's addresses of its families, on-link over the pair.

type Net = DriverNetwork<PtpConfig>;

/** The pair's ends: unique per network, as the engine may record them with the endpoints. */
export function pairEnds(networkId: string): [string, string] {
  const base = `ptp${networkId.slice(0, 10)}`;
  return [`${base}a`, `${base}b`];
}

export class PtpDriver implements NetworkDriver<PtpConfig> {
  readonly name = 'ptp';
  readonly caps: DriverCaps = {
    scope: 'local', multiInstance: true, ipam: true, publishesPorts: false, maxEndpoints: 2, reservesGateway: false, hostNeighbours: false,
  };

  constructor(private readonly kernel: Kernel, private readonly execRoot: string) {}

  /** Where the network's pair waits between joins. */
  parking(net: Pick<Net, 'id'>): string {
    return join(this.execRoot, 'ptp', net.id.slice(0, 12));
  }

  parseConfig(spec: NetworkSpec): PtpConfig {
    return parsePtpConfig(spec);
  }

  /** The parking netns and the pair in it; idempotent, so a reboot (an empty /run) gets both back. */
  async createNetwork(net: Net): Promise<void> {
    const [a, b] = pairEnds(net.id);
    await this.kernel.createNetns(this.parking(net));
    try {
      await this.kernel.createVethPair(a, b, this.parking(net), net.config.mtu);
    } catch (e) {
      await this.kernel.deleteNetns(this.parking(net)).catch(() => undefined);
      throw e;
    }
  }

  /** Its parked ends go with the parking netns. */
  async deleteNetwork(net: Net): Promise<void> {
    await this.kernel.deleteNetns(this.parking(net));
  }

  linkName(net: Net, taken: (name: string) => boolean): string {
    const free = pairEnds(net.id).filter((end) => !taken(end));
    if (free.length === 0) throw new ConflictError(`network ${net.name} is a point-to-point link and both its ends are in use`);
    return free[0];
  }

  planEndpoint(net: Net, ep: EndpointView): InterfacePlan {
    const [a, b] = pairEnds(net.id);
    const pair = ep.linkName === a ? b : a;
    return {
      link: { kind: 'existing', name: ep.linkName, netns: this.parking(net), giveBack: true, pair },
      mac: ep.mac,
      mtu: net.config.mtu,
      addresses: [...ep.addresses, ...ep.linkLocal],
      // a default route only when asked (--gateway, per family): through the end that holds that address
      gateway4: offeredGateway(net, ep, 4),
      gateway6: offeredGateway(net, ep, 6),
    };
  }

  /** Start-up: parking netns of networks that no longer exist. */
  async reconcile(known: Net[]): Promise<void> {
    const keep = new Set(known.map((n) => n.id.slice(0, 12)));
    const dir = join(this.execRoot, 'ptp');
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) if (!keep.has(name)) await this.kernel.deleteNetns(join(dir, name));
  }
}

/** The family's --gateway G, for the end that does not hold G itself (its peer does, or will). */
function offeredGateway(net: Net, ep: EndpointView, family: Family): string | undefined {
  const gw = subnetOf(net.subnets, family)?.gateway;
  if (!gw || net.internal) return undefined;
  const mine = ep.addresses.map((a) => a.slice(0, a.indexOf('/'))).filter((ip) => familyOf(ip) === family);
  const same = (ip: string) => (family === 6 ? canonicalIPv6(ip) === canonicalIPv6(gw) : ip === gw);
  if (mine.some(same)) return undefined;
  return gw;
}
