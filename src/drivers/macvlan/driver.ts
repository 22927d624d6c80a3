import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  DriverCaps, DriverNetwork, EndpointView, InterfacePlan, NetworkDriver, NetworkPicture, NetworkSpec, SubnetView,
} from '../../driverapi/contract.js';
import { MADE_BY_BERTH_ALIAS, type Kernel, type LinkInfo } from '../../kernel/types.js';
import { InvalidParameterError, KernelError } from '../../util/errors.js';
import { gatewaysFor } from '../../driverapi/subnets.js';
import { checkNewMacvlan, type BerthBridgeTest } from './checks.js';
import { HostAccess, SHIM_NAME, shimName } from './host-access.js';
import { ownParentName, parseMacvlanConfig, type MacvlanConfig } from './options.js';

// macvlan: each container gets a sub-interface of a parent that leads to a LAN, with its
// own MAC and an address of the LAN's subnet; the LAN's router is the gateway (berth owns
// neither). No bridge, no NAT, no published ports: the LAN sees the container itself.

const OWN_PARENT_NAME = /^dm-[0-9a-f]{12}$/;

/** berth's bridges by name: br-<short id> and the default bridge. */
export function berthBridgeByName(defaultBridge: string): BerthBridgeTest {
  return (name) => name === defaultBridge || /^br-[0-9a-f]{12}$/.test(name);
}

type Net = DriverNetwork<MacvlanConfig>;

export class MacvlanDriver implements NetworkDriver<MacvlanConfig> {
  describe(net: DriverNetwork<MacvlanConfig>): NetworkPicture {
    return { parent: net.config.parent, ...(net.config.hostAccess ? { hostSide: shimName(net.id) } : {}) };
  }

  readonly name = 'macvlan';
  readonly caps: DriverCaps = {
    // the containers' neighbour is the LAN's router, not the host
    scope: 'local', multiInstance: true, ipam: true, publishesPorts: false, reservesGateway: true, hostNeighbours: false,
  };
  private readonly hostAccess: HostAccess;
  /** the networks made (or restored) so far: what a network being deleted shares its parent with */
  private readonly live = new Map<string, Net>();

  constructor(private readonly kernel: Kernel, private readonly isBerthBridge: BerthBridgeTest, private readonly execRoot: string) {
    this.hostAccess = new HostAccess(kernel);
  }

  parseConfig(spec: NetworkSpec): MacvlanConfig {
    return parseMacvlanConfig(spec);
  }

  checkNew(net: Net, others: Net[]): Promise<void> {
    return checkNewMacvlan(this.kernel, this.isBerthBridge, net, others);
  }

  async createNetwork(net: Net): Promise<void> {
    const madeParent = await this.makeParent(net);
    let promiscuous = false;
    try {
      if (net.config.promiscuous) {
        await this.kernel.setPromisc(net.config.parent, true);
        promiscuous = true;
      }
      if (net.config.hostAccess) await this.hostAccess.open(net);
    } catch (e) {
      if (promiscuous && !this.wantsPromiscuous(net)) await this.kernel.setPromisc(net.config.parent, false).catch(() => undefined);
      await this.undoParent(net, madeParent);
      throw e;
    }
    this.live.set(net.id, net);
  }

  async deleteNetwork(net: Net): Promise<void> {
    this.live.delete(net.id);
    if (net.config.hostAccess) await this.hostAccess.close(net);
    if (net.config.promiscuous && !this.wantsPromiscuous(net)) {
      await this.kernel.setPromisc(net.config.parent, false).catch(() => undefined); // the parent may be gone
    }
    if (this.siblings(net).length === 0) await this.deleteOwnParent(net);
  }

  /** The other live networks on net's parent: what it shares the parent with. */
  private siblings(net: Net): Net[] {
    return [...this.live.values()].filter((n) => n.id !== net.id && n.config.parent === net.config.parent);
  }

  private wantsPromiscuous(net: Net): boolean {
    return this.siblings(net).some((n) => n.config.promiscuous);
  }

  planEndpoint(net: Net, ep: EndpointView): InterfacePlan {
    return {
      link: { kind: 'macvlan', parent: net.config.parent, mode: net.config.mode },
      mac: ep.mac,
      mtu: net.config.mtu,
      addresses: [...ep.addresses, ...ep.linkLocal],
      ...(net.internal ? {} : gatewaysFor(net.subnets, ep.addresses)), // the LAN's router
    };
  }

  async joined(net: Net, ep: EndpointView): Promise<void> {
    if (net.config.hostAccess) await this.hostAccess.addContainer(net, ep);
  }

  async left(net: Net, ep: EndpointView): Promise<void> {
    if (net.config.hostAccess) await this.hostAccess.removeContainer(ep);
  }

  /** Start-up: shims and own parents (with their dead ends) of networks that no longer exist. */
  async reconcile(known: Net[], _knownLinks: Set<string>, hostLinks: readonly LinkInfo[]): Promise<void> {
    const keep = new Set(known.flatMap((n) => [shimName(n.id), ownParentName(n.id)]));
    // by name and kind: Docker's dm- parents on the same host are dummies, and stay
    const berths = (l: LinkInfo) => (SHIM_NAME.test(l.name) && l.kind === 'macvlan') || (OWN_PARENT_NAME.test(l.name) && l.kind === 'veth');
    for (const link of hostLinks) if (berths(link) && !keep.has(link.name)) await this.kernel.deleteLink(link.name);
    const ids = new Set(known.map((n) => n.id.slice(0, 12)));
    const dir = join(this.execRoot, 'macvlan');
    for (const name of await readdir(dir).catch(() => [] as string[])) if (!ids.has(name)) await this.kernel.deleteNetns(join(dir, name));
  }

  /** Where the far end of a parentless network's own parent lies: a netns holding only it. */
  private deadEnd(net: Net): string {
    return join(this.execRoot, 'macvlan', net.id.slice(0, 12));
  }

  /** The VLAN sub-interface or the link to nowhere a network's parent is, when berth makes it; true when this call made it. */
  private async makeParent(net: Net): Promise<boolean> {
    const c = net.config;
    if (c.source.kind === 'nowhere') {
      const made = !(await this.kernel.getLink(c.parent));
      await this.kernel.ensureLinkToNowhere(c.parent, this.deadEnd(net));
      return made;
    }
    if (c.source.kind !== 'vlan') return false;
    try {
      return await this.kernel.ensureVlan(c.source.lower, c.source.id);
    } catch (e) {
      // a kernel without 8021q: the request cannot be served here, said as such
      if (e instanceof KernelError && e.code === 'EOPNOTSUPP') throw new InvalidParameterError(e.message);
      throw e;
    }
  }

  private async undoParent(net: Net, made: boolean): Promise<void> {
    if (made) await this.deleteOwnParent(net).catch(() => undefined);
  }

  /** A parentless network's parent is its own; a VLAN is deleted only when berth made it (the user's stay). */
  private async deleteOwnParent(net: Net): Promise<void> {
    const c = net.config;
    if (c.source.kind === 'given') return;
    if (c.source.kind === 'vlan') {
      const link = await this.kernel.getLink(c.parent);
      if (link?.kind !== 'vlan' || link.alias !== MADE_BY_BERTH_ALIAS) return;
    }
    await this.kernel.deleteLink(c.parent);
    if (c.source.kind === 'nowhere') await this.kernel.deleteNetns(this.deadEnd(net));
  }
}

