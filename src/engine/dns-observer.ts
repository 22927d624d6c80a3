import { DNS_PORT, EMBEDDED_DNS_ADDRESS, type EmbeddedDns, type EndpointRecord as DnsEndpoint } from '../dns/index.js';
import type { Kernel, NetnsSockets } from '../kernel/types.js';
import { ipv4Of, ipv6Of, type ContainerRecord, type EndpointRecord, type NetworkRecord } from '../store/records.js';
import type { DaemonConfig } from './config.js';
import { isUserDefined } from './container-files.js';
import { parseLink } from './links.js';
import type { EngineObserver } from './observer.js';
import type { State } from './state.js';

// Keeps the embedded resolver's view in step with the engine: one record per endpoint on
// a network that serves names (isUserDefined: not the default bridge, as in Docker), and
// the resolver's sockets at 127.0.0.11:53 inside each sandbox that has such an endpoint,
// from the first one up until the sandbox goes. Whatever the network's driver: nothing
// is asked of the network (a macvlan's gateway is the LAN's router, ptp has no host side).
// A container in `container:X` mode has no sandbox of its own: it asks through X's
// sockets, as X.

export class DnsObserver implements EngineObserver {
  /** sandboxes whose sockets are being opened: a second endpoint waits for the first */
  private readonly opening = new Map<string, Promise<void>>();

  constructor(
    private readonly dns: EmbeddedDns,
    private readonly kernel: Pick<Kernel, 'bindInNetns'>,
    private readonly state: State,
    private readonly config: DaemonConfig,
  ) {}

  async endpointUp(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    if (!isUserDefined(net) || (!ipv4Of(ep) && !ipv6Of(ep))) return;
    this.dns.setEndpoint(this.record(c, net, ep));
    if (c.sandboxKey) await this.serveSandbox(c.sandboxKey, c.id);
  }

  /** A new sandbox with an endpoint on a network that serves names gets the resolver's sockets in the same kernel call. */
  listenIn(_c: ContainerRecord, nets: NetworkRecord[]): { address: string; port: number } | undefined {
    return nets.some(isUserDefined) ? { address: EMBEDDED_DNS_ADDRESS, port: DNS_PORT } : undefined;
  }

  /**
   * Not awaited: the sockets listen already, so a query sent before a resolver thread has
   * adopted them waits in their queue, and the thread adopts and closes a sandbox's sockets
   * in the order asked; the start need not wait for it. A dead resolver has reported that
   * itself, and the fds are closed.
   */
  sandboxUp(c: ContainerRecord, netns: string, sockets: NetnsSockets): void {
    this.dns.openSandbox(netns, c.id, sockets).catch(() => undefined);
  }

  endpointDown(c: ContainerRecord, net: NetworkRecord): void {
    if (isUserDefined(net)) this.dns.removeEndpoint(net.id, c.id);
  }

  /** Its sockets hold the netns alive: they are closed before it is deleted. */
  async sandboxDown(_c: ContainerRecord, netns: string): Promise<void> {
    await this.opening.get(netns)?.catch(() => undefined);
    await this.dns.closeSandbox(netns);
  }

  private async serveSandbox(netns: string, containerId: string): Promise<void> {
    const pending = this.opening.get(netns);
    if (pending) return pending;
    if (this.dns.serves(netns)) return;
    const open = (async () => {
      const fds = await this.kernel.bindInNetns(netns, EMBEDDED_DNS_ADDRESS, DNS_PORT);
      await this.dns.openSandbox(netns, containerId, fds);
    })().finally(() => this.opening.delete(netns));
    this.opening.set(netns, open);
    return open;
  }

  /** What others resolve this endpoint by, and what this container sees beyond that. */
  record(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): DnsEndpoint {
    const names = resolvableNames(c, ep);
    const upstreams = c.hostConfig.dns?.length ? c.hostConfig.dns : undefined;
    const searchDomains = c.hostConfig.dnsSearch?.length ? c.hostConfig.dnsSearch : this.config.dnsSearch;
    return { networkId: net.id, containerId: c.id, ip: ipv4Of(ep), ip6: ipv6Of(ep) || undefined, names, upstreams, searchDomains, linkAliases: this.linkAliases(c, ep) };
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

/**
 * What others on the endpoint's network resolve it by: its name, short id, aliases and
 * hostname; the first is what its address resolves back to (for a CNI attachment, the
 * runtime's name of it, not berth's cni-… one).
 */
export function resolvableNames(c: ContainerRecord, ep: EndpointRecord): string[] {
  const names = c.attachment ? [...ep.aliases, c.name, c.id.slice(0, 12)] : [c.name, c.id.slice(0, 12), ...ep.aliases];
  if (c.config.hostname) names.push(c.config.hostname);
  return [...new Set(names)];
}
