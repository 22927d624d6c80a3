import { readdirSync } from 'node:fs';
import { hostNameservers } from '../runtime/etc-files.js';
import { join } from 'node:path';
import { builtinDrivers } from '../drivers/index.js';
import { DefaultIpam } from '../ipam/allocator.js';
import { chooseDefaultBridgeSubnet } from '../ipam/choose-subnet.js';
import { fixedCidrSubPool } from '../ipam/fixed-cidr.js';
import { openKernel } from '../kernel/client.js';
import { Firewall, type NetworkPolicy } from '../kernel/firewall.js';
import { PortMapper } from '../portmap/mapper.js';
import type { Kernel } from '../kernel/types.js';
import { ProcessRuntime } from '../runtime/process-runtime.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { NetworkRecord } from '../store/records.js';
import { InvalidParameterError } from '../util/errors.js';
import { parseCidr } from '../util/ip.js';
import { DEFAULT_BRIDGE_NAME, type DaemonConfig } from './config.js';
import { ContainerService } from './containers.js';
import { DriverRegistry } from './driver.js';
import { endpointEvents, EventBus } from './events.js';
import { DnsObserver } from './dns-observer.js';
import { kernelNeighbourSysctls, NeighbourLimit } from './neighbour-limit.js';
import { EmbeddedDns } from '../dns/index.js';
import { Observers } from './observer.js';
import { NetworkService } from './networks.js';
import { State } from './state.js';
import { upgradeRecords } from './record-upgrades.js';
import { BridgeDriver } from '../drivers/bridge/driver.js';

// The Container Network Model's controller: owns the store, the kernel handle, IPAM,
// drivers and the two services, and reconciles the kernel with the store at start-up.
// Usable without the daemon: `const c = await Controller.open(config)`.

export class Controller {
  readonly events = new EventBus();
  readonly observers = new Observers();
  readonly networks: NetworkService;
  readonly containers: ContainerService;
  /** the neighbour-table cap and what the bridge endpoints need of it (GET /info warns) */
  readonly neighbours: NeighbourLimit;
  private readonly drivers: DriverRegistry;

  private constructor(
    readonly config: DaemonConfig,
    readonly state: State,
    readonly kernel: Kernel,
    readonly runtime: ProcessRuntime,
    readonly firewall: Firewall,
    readonly ports: PortMapper,
    private readonly dns: EmbeddedDns,
    private readonly log: (msg: string) => void,
  ) {
    const ipam = new DefaultIpam({ defaultPools: config.defaultAddressPools });
    this.observers.add(endpointEvents(this.events));
    this.neighbours = new NeighbourLimit(kernelNeighbourSysctls(kernel), log, config.neighGcThresh3);
    this.observers.add(this.neighbours);
    this.drivers = new DriverRegistry({ kernel, firewall: this.firewall, config }, builtinDrivers);
    this.networks = new NetworkService(state, this.drivers, ipam, kernel, this.events, this.observers);
    this.containers = new ContainerService(state, this.networks, ipam, kernel, runtime, config, this.events, this.observers, ports, firewall, log);
  }

  static async open(config: DaemonConfig, log: (msg: string) => void = () => undefined): Promise<Controller> {
    // both are threads of their own: start them side by side
    const [kernel, dns] = await Promise.all([openKernel(), startResolver(config, log)]);
    const store = new SqliteStore(config.dataRoot);
    const firewall = new Firewall(kernel, config.iptables);
    const ports = await PortMapper.open(kernel, firewall);
    const c = new Controller(config, new State(store), kernel, new ProcessRuntime(), firewall, ports, dns, log);
    try {
      await c.start();
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  async close(): Promise<void> {
    await this.dns.stop();
    this.runtime.close?.();
    await this.kernel.close();
    this.state.store.close();
  }

  private async start(): Promise<void> {
    upgradeRecords(this.state);
    if (this.config.ipForward) await this.kernel.writeSysctl('net.ipv4.ip_forward', '1');
    await this.neighbours.refresh();
    this.observers.add(new DnsObserver(this.dns, this.kernel, this.state, this.config));
    this.containers.embeddedDns = true;
    for (const n of this.state.networks.values()) this.networks.replay(n);
    // published ports of running containers stay in the table across the replace: no dark window
    const running = [...this.state.containers.values()].filter((c) => c.state.status === 'running');
    await this.firewall.reset(this.bridgePolicies(), { ports: running.flatMap((c) => c.publishedPorts ?? []) });
    await this.ensurePredefined();
    for (const n of this.state.networks.values()) await this.networks.restore(n);
    await this.restoreContainers();
    await this.restorePorts();
    await this.removeOrphans();
  }

  private bridgePolicies(): NetworkPolicy[] {
    const bridge = this.drivers.get('bridge') as BridgeDriver;
    return [...this.state.networks.values()].filter((n) => n.driver === 'bridge').map((n) => bridge.policy(n));
  }

  /** bridge, host and none exist from the first start on; --bip/-b shape the default bridge. */
  private async ensurePredefined(): Promise<void> {
    const byName = (name: string) => this.networks.byName(name);
    if (!byName('host')) await this.networks.create({ name: 'host', driver: 'host' }, { builtin: true });
    if (!byName('none')) await this.networks.create({ name: 'none', driver: 'null' }, { builtin: true });
    const existing = byName('bridge');
    const wanted = await this.defaultBridgeShape();
    if (existing && sameShape(existing, wanted)) return;
    if (existing) {
      if (this.state.endpointsOf({ networkId: existing.id }).length) {
        throw new InvalidParameterError(`the default bridge's settings changed (${wanted.subnet}) but containers are still attached to it; remove them first`);
      }
      this.state.dropNetwork(existing.id);
      await this.networks.driverOf(existing).deleteNetwork(existing).catch(() => undefined);
      this.networks.forget(existing);
    }
    await this.networks.create(
      {
        name: 'bridge',
        driver: 'bridge',
        ipamConfig: [{ subnet: wanted.subnet, gateway: wanted.gateway, ipRange: this.config.fixedCidr ? fixedCidrSubPool(wanted.subnet, this.config.fixedCidr) : undefined }],
        options: {
          'com.docker.network.bridge.default_bridge': 'true',
          'com.docker.network.bridge.enable_icc': String(this.config.icc),
          'com.docker.network.bridge.enable_ip_masquerade': 'true',
          'com.docker.network.bridge.host_binding_ipv4': this.config.ip,
          'com.docker.network.bridge.name': wanted.bridge,
          'com.docker.network.driver.mtu': String(this.config.mtu),
        },
      },
      { builtin: true, externalBridge: wanted.external },
    );
  }

  private async defaultBridgeShape(): Promise<{ bridge: string; subnet: string; gateway: string; external: boolean }> {
    const bridge = this.config.bridge || DEFAULT_BRIDGE_NAME;
    const external = !!this.config.bridge;
    if (this.config.bip) {
      const bip = parseCidr(this.config.bip);
      return { bridge, external, subnet: `${bip.network}/${bip.prefix}`, gateway: bip.address };
    }
    if (external) {
      const addr = (await this.kernel.listAddresses()).find((a) => a.ifname === bridge);
      if (!(await this.kernel.getLink(bridge))) throw new InvalidParameterError(`bridge ${bridge} (from -b) does not exist`);
      if (addr) {
        const c = parseCidr(addr.cidr);
        return { bridge, external, subnet: `${c.network}/${c.prefix}`, gateway: c.address };
      }
    }
    const stored = this.networks.byName('bridge');
    if (stored?.ipamConfig[0]?.gateway && stored.bridgeName === bridge) {
      return { bridge, external, subnet: stored.ipamConfig[0].subnet, gateway: stored.ipamConfig[0].gateway };
    }
    const routes = (await this.kernel.listRoutes()).filter((r) => r.dst !== 'default' && r.dev !== bridge).map((r) => r.dst);
    const taken = [...this.state.networks.values()].filter((n) => n.name !== 'bridge').flatMap((n) => n.ipamConfig.map((c) => c.subnet));
    const { subnet, gateway } = chooseDefaultBridgeSubnet([...routes, ...taken]);
    return { bridge, external, subnet, gateway };
  }

  /** Containers that still run are adopted and their endpoints checked; the others are marked exited. */
  private async restoreContainers(): Promise<void> {
    for (const c of [...this.state.containers.values()]) {
      if (c.state.status !== 'running') continue;
      if (this.runtime.isRunning(c.state)) {
        this.runtime.adopt(c.id, this.containers.stateDir(c.id), c.state);
        await this.containers.restoreSandbox(c);
        await this.containers.links.open(c).catch((err: Error) => this.log(`container ${c.name}: links not restored: ${err.message}`));
        this.containers.watchExit(c.id);
      } else {
        const exit = this.runtime.readExit(this.containers.stateDir(c.id));
        c.state = { ...c.state, status: 'exited', pid: 0, shimPid: 0, exitCode: exit?.exitCode ?? 255, finishedAt: exit?.finishedAt ?? new Date().toISOString() };
        this.state.saveContainer(c);
        await this.containers.tearDownSandbox(c);
      }
    }
  }

  /** Re-reserves the host ports of running containers (their DNAT elements are already in the table). */
  private async restorePorts(): Promise<void> {
    const running = [...this.state.containers.values()].filter((c) => c.state.status === 'running' && c.publishedPorts?.length);
    const failed = await this.ports.restore(running.map((c) => ({ containerId: c.id, ports: c.publishedPorts ?? [] })));
    for (const f of failed) this.log(`container ${f.containerId.slice(0, 12)}: cannot restore its published ports: ${f.error}`);
  }

  /** What berth made but no longer knows: stale netns files, bridges, veths. */
  private async removeOrphans(): Promise<void> {
    const known = new Set([...this.state.containers.values()].map((c) => c.sandboxKey).filter(Boolean));
    const dir = join(this.config.execRoot, 'netns');
    for (const f of safeReaddir(dir)) {
      const p = join(dir, f);
      if (!known.has(p)) await this.kernel.deleteNetns(p);
    }
    const bridges = new Set([...this.state.networks.values()].map((n) => n.bridgeName).filter(Boolean));
    const hostIfs = new Set([...this.state.endpoints.values()].map((e) => e.hostIfName).filter(Boolean));
    const links = await this.kernel.listLinks();
    const berthBridges = new Set(links.filter((l) => bridges.has(l.name)).map((l) => l.index));
    for (const l of links) {
      const staleBridge = l.kind === 'bridge' && /^br-[0-9a-f]{12}$/.test(l.name) && !bridges.has(l.name);
      const staleVeth = l.kind === 'veth' && berthBridges.has(l.master) && !hostIfs.has(l.name);
      if (staleBridge || staleVeth) await this.kernel.deleteLink(l.name);
    }
  }
}

function sameShape(n: NetworkRecord, w: { bridge: string; subnet: string; gateway: string }): boolean {
  const cfg = n.ipamConfig[0];
  return n.bridgeName === w.bridge && cfg?.subnet === w.subnet && cfg?.gateway === w.gateway;
}

/** The embedded resolver, on its own threads; upstreams: --dns, else the host's resolv.conf. */
function startResolver(config: DaemonConfig, log: (msg: string) => void): Promise<EmbeddedDns> {
  const upstreams = config.dns.length ? config.dns : hostNameservers();
  return EmbeddedDns.start({ upstreams, onCrash: (err) => log(`embedded DNS stopped: ${err.message}`) });
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
