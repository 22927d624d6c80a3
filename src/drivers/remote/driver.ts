import type { ClusterHostView, DriverCaps, PublishedPortView, DriverNetwork, EndpointView, InterfacePlan, NetworkDriver, NetworkSpec, SandboxView, SubnetView } from '../../driverapi/contract.js';
import type { Kernel } from '../../kernel/types.js';
import type { Plugins } from '../../plugins/plugins.js';
import { PluginError } from '../../plugins/client.js';

// A network driver that is a plugin (libnetwork's remote driver): every network and
// endpoint operation is a NetworkDriver.* call to it, over Docker's plugin protocol v1.
// The plugin makes the endpoint's interface outside berth and names it in its Join
// answer (InterfaceName.SrcName); that answer is the endpoint's interface plan: berth
// moves the link into the sandbox under the engine's name, with the address IPAM gave and
// the plugin's gateway and static routes. Addresses come from berth's IPAM or an IPAM
// plugin. A plugin of Scope "global" (with --cluster-store) has its networks and their
// endpoints' addresses in the cluster store, as overlay networks do, and one of
// ConnectivityScope "global" hears of the cluster's hosts (DiscoverNew/DiscoverDelete with
// libnetwork's node discovery data), to reach them itself.

/** Docker's generic option map: the `-o` options of `network create`, as the plugin receives them. */
const GENERIC = 'com.docker.network.generic';

export interface RemoteConfig {
  /** -o options, given to the plugin under com.docker.network.generic */
  options: Record<string, string>;
}

type Net = DriverNetwork<RemoteConfig>;

interface JoinAnswer {
  InterfaceName?: { SrcName?: string; DstPrefix?: string; DstName?: string };
  Gateway?: string;
  GatewayIPv6?: string;
  StaticRoutes?: { Destination?: string; RouteType?: number; NextHop?: string }[];
  DisableGatewayService?: boolean;
}

interface Joined {
  srcName: string;
  gateway4?: string;
  gateway6?: string;
  routes: { dst: string; via?: string }[];
}

/** libnetwork's discoverapi.NodeDiscovery */
const NODE_DISCOVERY = 1;

/** The cluster's hosts, when berthd has a cluster store. */
export type ClusterHostsSource = () => { hosts: ClusterHostView[]; self: ClusterHostView } | undefined;

export class RemoteDriver implements NetworkDriver<RemoteConfig> {
  /** scope as GetCapabilities says (local until the plugin has been asked) */
  readonly caps: DriverCaps = {
    scope: 'local', multiInstance: true, ipam: true, publishesPorts: false, portsByDriver: true, reservesGateway: true, hostNeighbours: false,
  };
  /** ConnectivityScope global: the plugin reaches other hosts itself and hears of them */
  private connectsHosts = false;
  private activated = false;
  /** host addresses the plugin was told of (DiscoverNew), since it was last activated */
  private readonly told = new Set<string>();
  /** endpoints this process created at the plugin, and the Join answer once joined */
  private readonly endpoints = new Map<string, Joined | null>();
  /** endpoints whose external connectivity the plugin was asked to program */
  private readonly programmed = new Set<string>();

  constructor(readonly name: string, private readonly plugins: Plugins, private readonly kernel: Pick<Kernel, 'getLink'>, private readonly clusterHosts: ClusterHostsSource = () => undefined) {}

  private call<T extends object>(method: string, body: unknown): Promise<T | undefined> {
    return this.plugins.call<T>(this.name, 'NetworkDriver', `NetworkDriver.${method}`, body);
  }

  /** Activation and GetCapabilities: before the plugin's first network, and after a restart before its networks are used. */
  async activate(): Promise<void> {
    const caps = await this.call<{ Scope?: string; ConnectivityScope?: string }>('GetCapabilities', undefined);
    const scope = caps?.Scope ?? '';
    if (scope !== 'local' && scope !== 'global') throw new PluginError(`plugin ${this.name}: GetCapabilities: invalid Scope ${JSON.stringify(scope)} (local or global)`);
    const connectivity = caps?.ConnectivityScope || scope;
    if (connectivity !== 'local' && connectivity !== 'global') throw new PluginError(`plugin ${this.name}: GetCapabilities: invalid ConnectivityScope ${JSON.stringify(connectivity)} (local or global)`);
    this.caps.scope = scope;
    this.connectsHosts = connectivity === 'global';
    this.activated = true;
    // a plugin (re-)activated hears of every host again
    this.told.clear();
    const known = this.clusterHosts();
    if (known) await this.tellHosts(known.hosts, known.self);
  }

  /** EndpointOperInfo: the portmap the plugin says it programmed (Docker's netlabel.PortMap), as dockerd reads it for Ports. */
  async endpointPorts(net: Net, ep: EndpointView): Promise<PublishedPortView[]> {
    const info = await this.call<{ Value?: Record<string, unknown> | null }>('EndpointOperInfo', { NetworkID: net.id, EndpointID: ep.id }).catch(() => undefined);
    const portmap = info?.Value?.['com.docker.network.portmap'];
    if (!Array.isArray(portmap)) return [];
    const ip = ep.addresses.find((a) => !a.includes(':'))?.split('/')[0] ?? '';
    return portmap.flatMap((p: { Proto?: number; Port?: number; HostIP?: string; HostPort?: number }) => {
      const proto = p.Proto === 17 ? 'udp' : p.Proto === 6 ? 'tcp' : undefined;
      if (!proto || !p.Port || !p.HostPort) return [];
      return [{ proto, containerPort: p.Port, hostIp: p.HostIP || '0.0.0.0', hostPort: p.HostPort, containerIp: ip }];
    });
  }

  async hostsChanged(hosts: ClusterHostView[], self: ClusterHostView): Promise<void> {
    // a plugin driver registered at start-up is asked for its capabilities here first
    if (!this.activated) return this.activate();
    await this.tellHosts(hosts, self);
  }

  /** DiscoverNew for each host not told yet, DiscoverDelete for each gone, as libnetwork's pushNodeDiscovery sends them. */
  private async tellHosts(hosts: ClusterHostView[], self: ClusterHostView): Promise<void> {
    if (!this.connectsHosts) return;
    const data = (address: string) => ({ DiscoveryType: NODE_DISCOVERY, DiscoveryData: { Address: address, BindAddress: self.address, Self: address === self.address } });
    const now = new Set(hosts.map((h) => h.address));
    for (const address of now) {
      if (this.told.has(address)) continue;
      await this.plugins.call(this.name, 'NetworkDriver', 'NetworkDriver.DiscoverNew', data(address), { optional: true });
      this.told.add(address);
    }
    for (const address of [...this.told]) {
      if (now.has(address)) continue;
      await this.plugins.call(this.name, 'NetworkDriver', 'NetworkDriver.DiscoverDelete', data(address), { optional: true });
      this.told.delete(address);
    }
  }

  parseConfig(spec: NetworkSpec): RemoteConfig {
    const options: Record<string, string> = {};
    for (const [k, v] of Object.entries(spec.options)) if (!k.startsWith('com.docker.network.')) options[k] = v;
    return { options };
  }

  async createNetwork(net: Net): Promise<void> {
    const data = (v6: boolean) => net.subnets.filter((s) => s.subnet.includes(':') === v6).map(ipamData);
    await this.call('CreateNetwork', {
      NetworkID: net.id,
      // dockerd 20.10's keys (a later dockerd adds enable_ipv4, which absent means true)
      Options: {
        'com.docker.network.enable_ipv6': data(true).length > 0,
        ...(net.internal ? { 'com.docker.network.internal': true } : {}),
        [GENERIC]: net.config.options,
      },
      IPv4Data: data(false),
      IPv6Data: data(true),
    });
  }

  /**
   * After a restart the plugin still has its networks (it keeps its own state, as with
   * dockerd): nothing to ask it. It is found and activated at the first call, so a plugin
   * that is down while berthd starts holds nothing up.
   */
  async restoreNetwork(): Promise<void> {}

  async deleteNetwork(net: Net): Promise<void> {
    await this.call('DeleteNetwork', { NetworkID: net.id });
  }

  /**
   * CreateEndpoint, then Join, with the options dockerd gives (the container's exposed
   * ports and -p bindings): the plugin makes the interface and names it. As with dockerd
   * the MAC is left to the plugin (berth's own, from the address, when it picks none).
   * A failed Join deletes the endpoint at the plugin again.
   */
  async prepareEndpoint(net: Net, ep: EndpointView, sandbox: SandboxView): Promise<{ linkName: string; mac?: string }> {
    const given = {
      Address: ep.addresses.find((a) => !a.includes(':')) ?? '',
      AddressIPv6: ep.addresses.find((a) => a.includes(':')) ?? '',
      MacAddress: '',
    };
    const options = endpointOptions(sandbox);
    const created = await this.call<{ Interface?: Partial<typeof given> | null }>('CreateEndpoint', {
      NetworkID: net.id, EndpointID: ep.id, Options: options, Interface: given,
    });
    this.endpoints.set(ep.id, null);
    try {
      // the plugin may fill what was empty, never change what berth gave (libnetwork's rule)
      for (const [k, v] of Object.entries(created?.Interface ?? {})) {
        const was = given[k as keyof typeof given];
        if (v && was && v !== was) throw new PluginError(`plugin ${this.name}: CreateEndpoint: it changed the endpoint's ${k} (${was} → ${v}); berth's IPAM gives the addresses`);
      }
      const mac = created?.Interface?.MacAddress || undefined;
      const answer = await this.call<JoinAnswer>('Join', { NetworkID: net.id, EndpointID: ep.id, SandboxKey: sandbox.key, Options: options });
      // joined at the plugin from here on: an answer that fails the checks below is left (Leave) too
      this.endpoints.set(ep.id, { srcName: '', routes: [] });
      const joined = await this.readJoin(answer ?? {});
      this.endpoints.set(ep.id, joined);
      return { linkName: joined.srcName, mac };
    } catch (err) {
      await this.releaseEndpoint(net, ep).catch(() => undefined);
      throw err;
    }
  }

  /** The container's gateway endpoint: ProgramExternalConnectivity, with the same options (optional: a 404 is fine). */
  async gatewayUp(net: Net, ep: EndpointView, sandbox: SandboxView): Promise<void> {
    await this.plugins.call(this.name, 'NetworkDriver', 'NetworkDriver.ProgramExternalConnectivity', {
      NetworkID: net.id, EndpointID: ep.id, Options: endpointOptions(sandbox),
    }, { optional: true });
    this.programmed.add(ep.id);
  }

  /**
   * RevokeExternalConnectivity (when programmed), Leave (when it joined), then
   * DeleteEndpoint (when it was created), dockerd's order. What a restart forgot, the
   * endpoint's record says: a recorded link means it joined; whether it was programmed
   * it does not say, so the revoke is asked then too, and a refusal of it ignored.
   */
  async releaseEndpoint(net: Net, ep: EndpointView): Promise<void> {
    const state = this.endpoints.get(ep.id);
    const restored = !this.endpoints.has(ep.id);
    // prepared but no link on record: a crash cut CreateEndpoint or Join; the plugin may hold either
    const cut = restored && ep.prepared && !ep.linkName;
    const joined = !!state || !!ep.linkName || cut;
    if (!joined && restored) return;
    this.endpoints.delete(ep.id);
    let first: unknown;
    if (this.programmed.delete(ep.id) || restored) {
      await this.plugins.call(this.name, 'NetworkDriver', 'NetworkDriver.RevokeExternalConnectivity', { NetworkID: net.id, EndpointID: ep.id }, { optional: true })
        .catch((err) => (restored ? undefined : (first = err)));
    }
    if (joined) await this.call('Leave', { NetworkID: net.id, EndpointID: ep.id }).catch((err) => (first = err));
    await this.call('DeleteEndpoint', { NetworkID: net.id, EndpointID: ep.id }).catch((err) => (first ??= err));
    // after a cut, the plugin may not know the endpoint at all: its refusal is no failure
    if (first && !cut) throw first;
  }

  /** What the Join answer means, checked: the link it names must exist in berthd's netns. */
  private async readJoin(a: JoinAnswer): Promise<Joined> {
    const src = a.InterfaceName?.SrcName;
    if (!src) throw new PluginError(`plugin ${this.name}: Join: no InterfaceName.SrcName (the interface berth moves into the container)`);
    if (!(await this.kernel.getLink(src))) throw new PluginError(`plugin ${this.name}: Join: its interface ${src} does not exist on this host`);
    const routes: { dst: string; via?: string }[] = [];
    for (const r of a.StaticRoutes ?? []) {
      if (!r.Destination) throw new PluginError(`plugin ${this.name}: Join: a static route without a Destination`);
      if (r.RouteType === 0 && !r.NextHop) throw new PluginError(`plugin ${this.name}: Join: static route ${r.Destination} of type next-hop without a NextHop`);
      routes.push(r.RouteType === 1 ? { dst: r.Destination } : { dst: r.Destination, via: r.NextHop });
    }
    return { srcName: src, gateway4: a.Gateway || undefined, gateway6: a.GatewayIPv6 || undefined, routes };
  }

  /** The plugin's interface under the engine's name. After a restart (no Join answer kept) the plan serves its removal only. */
  planEndpoint(_net: Net, ep: EndpointView): InterfacePlan {
    const j = this.endpoints.get(ep.id);
    return {
      link: { kind: 'existing', name: j?.srcName || ep.linkName || ep.ifName },
      mac: ep.mac,
      addresses: [...ep.addresses, ...ep.linkLocal],
      gateway4: j?.gateway4,
      gateway6: j?.gateway6,
      routes: j?.routes ?? [],
    };
  }
}

/** dockerd's endpoint options for CreateEndpoint, Join and ProgramExternalConnectivity: exposed ports and -p bindings. */
function endpointOptions(s: SandboxView): Record<string, unknown> {
  return {
    'com.docker.network.endpoint.exposedports': s.exposedPorts.map((p) => ({ Proto: p.proto, Port: p.port })),
    'com.docker.network.portmap': s.portBindings.map((b) => ({ Proto: b.proto, IP: '', Port: b.port, HostIP: b.hostIp, HostPort: b.hostPort, HostPortEnd: b.hostPortEnd })),
  };
}

/** Docker's IPAMData: the gateway and aux addresses as CIDRs with the pool's prefix. */
function ipamData(s: SubnetView): { AddressSpace: string; Pool: string; Gateway?: string; AuxAddresses?: Record<string, string> } {
  const prefix = s.subnet.slice(s.subnet.indexOf('/'));
  const aux = Object.entries(s.auxAddresses ?? {});
  return {
    AddressSpace: 'LocalDefault',
    Pool: s.subnet,
    ...(s.gateway ? { Gateway: `${s.gateway}${prefix}` } : {}),
    ...(aux.length ? { AuxAddresses: Object.fromEntries(aux.map(([k, v]) => [k, `${v}${prefix}`])) } : {}),
  };
}
