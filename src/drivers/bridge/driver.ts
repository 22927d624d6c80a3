import type { DriverContext, JoinTarget, NetworkDriver } from '../../engine/driver.js';
import type { NetworkPolicy } from '../../kernel/firewall.js';
import type { VethAttachment } from '../../kernel/types.js';
import type { EndpointRecord, NetworkRecord } from '../../store/records.js';
import { InvalidParameterError } from '../../util/errors.js';
import { parseCidr } from '../../util/ip.js';
import { linkLocalCidr } from '../../util/link-local.js';
import { parseBridgeOptions, type BridgeOptions } from './options.js';

/** A Linux bridge per network; containers hang off it by veth pairs. */
export class BridgeDriver implements NetworkDriver {
  readonly name = 'bridge';
  readonly multiInstance = true;
  readonly needsIpam = true;

  constructor(private readonly ctx: DriverContext) {}

  prepare(n: NetworkRecord): void {
    const opts = parseBridgeOptions(n, this.ctx.config);
    if (Buffer.byteLength(opts.bridgeName) > 15 || !/^[a-zA-Z0-9_.-]+$/.test(opts.bridgeName)) {
      throw new InvalidParameterError(`invalid bridge name "${opts.bridgeName}": at most 15 characters of [a-zA-Z0-9_.-]`);
    }
    n.bridgeName = opts.bridgeName;
  }

  private options(n: NetworkRecord): BridgeOptions {
    return parseBridgeOptions(n, this.ctx.config);
  }

  async createNetwork(n: NetworkRecord): Promise<void> {
    const opts = this.options(n);
    const { kernel } = this.ctx;
    if (!n.externalBridge) await kernel.ensureBridge(opts.bridgeName, opts.mtu);
    const gw = gatewayCidr(n);
    if (gw) await kernel.addAddress(opts.bridgeName, gw);
    await this.ctx.firewall.addNetwork(this.policy(n));
  }

  async deleteNetwork(n: NetworkRecord): Promise<void> {
    const opts = this.options(n);
    await this.ctx.firewall.removeNetwork(this.policy(n));
    if (n.externalBridge) {
      const gw = gatewayCidr(n);
      if (gw) await this.ctx.kernel.deleteAddress(opts.bridgeName, gw).catch(() => undefined);
    } else {
      await this.ctx.kernel.deleteLink(opts.bridgeName);
    }
  }

  async join(n: NetworkRecord, ep: EndpointRecord, target: JoinTarget): Promise<void> {
    await this.ctx.kernel.attachVeth({ netns: target.netns, ...this.vethFor(n, ep, target) });
  }

  vethFor(n: NetworkRecord, ep: EndpointRecord, target: Omit<JoinTarget, 'netns'>): Omit<VethAttachment, 'netns'> {
    const opts = this.options(n);
    const { prefix } = parseCidr(n.ipamConfig[0].subnet);
    return {
      hostIfName: ep.hostIfName,
      bridge: opts.bridgeName,
      ifName: ep.ifName,
      mac: ep.mac,
      mtu: opts.mtu,
      addresses: [`${ep.ipv4}/${prefix}`, ...(ep.linkLocalIps ?? []).map(linkLocalCidr)],
      gateway: target.isGateway && !n.internal ? n.ipamConfig[0].gateway : undefined,
      hairpin: target.publishes,
    };
  }

  async leave(_n: NetworkRecord, ep: EndpointRecord, netns: string): Promise<void> {
    await this.ctx.kernel.detachVeth(netns, ep.ifName);
  }

  /** The firewall's view of this network. */
  policy(n: NetworkRecord): NetworkPolicy {
    const opts = this.options(n);
    return {
      bridge: opts.bridgeName,
      subnet: n.ipamConfig[0].subnet,
      internal: n.internal,
      masquerade: opts.masquerade,
      icc: opts.icc,
    };
  }
}

function gatewayCidr(n: NetworkRecord): string | undefined {
  const cfg = n.ipamConfig[0];
  if (!cfg?.gateway) return undefined;
  return `${cfg.gateway}/${parseCidr(cfg.subnet).prefix}`;
}
