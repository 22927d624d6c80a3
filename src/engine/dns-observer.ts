import type { EmbeddedDns, EndpointRecord as DnsEndpoint } from '../dns/index.js';
import { ipv4Of, type ContainerRecord, type EndpointRecord, type NetworkRecord } from '../store/records.js';
import type { DaemonConfig } from './config.js';
import { isUserDefined } from './container-files.js';
import { parseLink } from './links.js';
import type { EngineObserver } from './observer.js';
import type { State } from './state.js';

// Keeps the embedded resolver's view in step with the engine: one listener per
// user-defined network (on its gateway), one record per endpoint on such a network.
// The default bridge has no embedded DNS, as in Docker.

export class DnsObserver implements EngineObserver {
  constructor(
    private readonly dns: EmbeddedDns,
    private readonly state: State,
    private readonly config: DaemonConfig,
    private readonly log: (msg: string) => void,
  ) {}

  async networkUp(net: NetworkRecord): Promise<void> {
    const gateway = net.ipamConfig[0]?.gateway;
    if (!isUserDefined(net) || !gateway) return;
    try {
      await this.dns.addListener(net.id, gateway);
    } catch (err) {
      // a host resolver already bound to 0.0.0.0:53 must not make networks impossible
      this.log(`embedded DNS not available on network ${net.name} (${gateway}:53): ${(err as Error).message}`);
    }
  }

  async networkDown(net: NetworkRecord): Promise<void> {
    if (isUserDefined(net)) await this.dns.removeListener(net.id);
  }

  endpointUp(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): void {
    if (isUserDefined(net) && ipv4Of(ep)) this.dns.setEndpoint(this.record(c, net, ep));
  }

  endpointDown(c: ContainerRecord, net: NetworkRecord): void {
    if (isUserDefined(net)) this.dns.removeEndpoint(net.id, c.id);
  }

  /** What others resolve this endpoint by, and what this container sees beyond that. */
  record(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): DnsEndpoint {
    const names = [c.name, c.id.slice(0, 12), ...ep.aliases];
    if (c.config.hostname) names.push(c.config.hostname);
    const upstreams = c.hostConfig.dns?.length ? c.hostConfig.dns : undefined;
    const searchDomains = c.hostConfig.dnsSearch?.length ? c.hostConfig.dnsSearch : this.config.dnsSearch;
    return { networkId: net.id, containerId: c.id, ip: ipv4Of(ep), names: [...new Set(names)], upstreams, searchDomains, linkAliases: this.linkAliases(c, ep) };
  }

  /** The container's own view changed (a link removed): its records are sent again. */
  containerChanged(c: ContainerRecord): void {
    for (const ep of this.state.endpointsOf({ containerId: c.id })) {
      const net = this.state.networks.get(ep.networkId);
      if (net) this.endpointUp(c, net, ep);
    }
  }

  /**
   * --link on a user-defined network: ALIAS resolves, for this container only, to whatever
   * the target's name means on this network when the query comes: the target may be
   * created, started or given a new address later (dockerd allows all three).
   */
  private linkAliases(c: ContainerRecord, ep: EndpointRecord): Record<string, string> | undefined {
    const out: Record<string, string> = {};
    for (const spec of ep.links.map(parseLink)) {
      // a full id names no DNS record: the container it names is looked up by its name
      out[spec.alias] = this.state.containers.get(spec.name)?.name ?? spec.name;
    }
    return Object.keys(out).length ? out : undefined;
  }
}
