import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { hostNameservers } from '../runtime/etc-files.js';
import { join } from 'node:path';
import { builtinDrivers } from '../drivers/index.js';
import { DefaultIpam } from '../ipam/allocator.js';
import { openKernel } from '../kernel/client.js';
import { Firewall } from '../drivers/bridge/firewall.js';
import { PortMapper } from '../portmap/mapper.js';
import type { Kernel } from '../kernel/types.js';
import { ProcessRuntime } from '../runtime/process-runtime.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { DaemonConfig } from './config.js';
import { Attachments } from './attachments.js';
import { ClusterHosts } from './cluster-hosts.js';
import { RemoteIpam } from '../ipam/remote.js';
import { ContainerService } from './containers.js';
import { pausePoint } from './crash-points.js';
import { DriverRegistry } from '../driverapi/registry.js';
import { endpointEvents, EventBus } from './events.js';
import { DnsObserver } from './dns-observer.js';
import { kernelNeighbourSysctls, NeighbourLimit } from './neighbour-limit.js';
import { ProcessLimits, readProcessLimits } from './process-limits.js';
import { EmbeddedDns } from '../dns/index.js';
import { Observers } from './observer.js';
import { Ipv6Forwarding } from './ipv6-forwarding.js';
import { NetworkService } from './networks.js';
import { State } from './state.js';
import { upgradeRecords } from './record-upgrades.js';
import { killProcessesInNetns } from '../runtime/netns-processes.js';
import type { ContainerRecord, IntentRecord } from '../store/records.js';
import { killShim, shimsUnder } from '../runtime/stray-shims.js';
import { ClusterMembership, type ClusterSettings } from '../cluster/membership.js';
import { GlobalEndpoints } from './global-endpoints.js';
import { GlobalNetworks } from './global-networks.js';
import { RemoteDriver } from '../drivers/remote/driver.js';
import { pluginDirs } from '../plugins/discovery.js';
import { Plugins } from '../plugins/plugins.js';

// The Container Network Model's controller: owns the store, the kernel handle, IPAM,
// drivers and the two services, and reconciles the kernel with the store at start-up.
// Usable without the daemon: `const c = await Controller.open(config)`.

export class Controller {
  readonly events = new EventBus();
  readonly observers = new Observers();
  readonly networks: NetworkService;
  readonly containers: ContainerService;
  /** sandboxes of other runtimes joined through CNI (berth-cni) */
  readonly attachments: Attachments;
  /** the neighbour-table cap and what the bridge endpoints need of it (GET /info warns) */
  readonly neighbours: NeighbourLimit;
  /** berthd's open files, the host's tasks, conntrack: said before they run out */
  readonly processLimits: ProcessLimits;
  readonly drivers: DriverRegistry;
  /** plugins found and activated (remote network drivers) */
  readonly plugins: Plugins;
  /** with --cluster-store: this host's store client, id, lease and host record */
  cluster: ClusterMembership | undefined;
  /** with --cluster-store: endpoints of global networks, here and on the other hosts */
  globalEndpoints: GlobalEndpoints | undefined;
  /** with --cluster-store: the cluster's hosts, for the drivers that reach them themselves (plugins) */
  clusterHosts: ClusterHosts | undefined;

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
    const ipam = new DefaultIpam({ defaultPools: config.defaultAddressPools, ulaSeed: () => this.engineId() });
    this.observers.add(endpointEvents(this.events));
    this.drivers = new DriverRegistry({ kernel, firewall: this.firewall, config }, builtinDrivers);
    this.plugins = new Plugins(pluginDirs(config.pluginDirs), log);
    this.drivers.plugin = (name) => new RemoteDriver(name, this.plugins, kernel, () => this.clusterHosts?.list());
    this.neighbours = new NeighbourLimit(kernelNeighbourSysctls(kernel), log, config.neighGcThresh3, (n) => this.drivers.find(n.driver).caps.hostNeighbours);
    this.observers.add(this.neighbours);
    this.processLimits = new ProcessLimits(log, () => readProcessLimits(() => runtime.watchCount()));
    this.observers.add(this.processLimits);
    if (config.ipForward) this.observers.add(new Ipv6Forwarding(kernel, log));
    this.networks = new NetworkService(state, this.drivers, ipam, kernel, this.events, this.observers, log);
    this.networks.remoteIpam = new RemoteIpam(this.plugins);
    this.containers = new ContainerService(state, this.networks, ipam, kernel, runtime, config, this.events, this.observers, ports, firewall, log);
    this.attachments = new Attachments(state, this.containers, this.networks, kernel);
  }

  static async open(config: DaemonConfig, log: (msg: string) => void = () => undefined): Promise<Controller> {
    // both are threads of their own: start them side by side
    const [kernel, dns] = await Promise.all([openKernel(), startResolver(config, log)]);
    const store = new SqliteStore(config.dataRoot);
    const firewall = new Firewall(kernel, config.iptables, config.ip6tables);
    const ports = await PortMapper.open(kernel, firewall);
    const c = new Controller(config, new State(store), kernel, new ProcessRuntime(), firewall, ports, dns, log);
    try {
      await c.start();
    } catch (err) {
      await c.close();
      throw err;
    }
    c.sweep = c.finishStart();
    c.sweep.catch(() => undefined); // its failure is the caller's to report (berthd: fatal)
    return c;
  }

  /** The engine's ID (GET /info), made once per data-root and kept (dockerd 23+ uses a UUID too). */
  engineId(): string {
    let id = this.state.store.getMeta('engine-id');
    if (!id) this.state.store.setMeta('engine-id', (id = randomUUID()));
    return id;
  }

  /** berth's nftables table as the kernel holds it (GET /berth/firewall). */
  describeFirewall(): Promise<string> {
    return this.firewall.describe();
  }

  async close(): Promise<void> {
    await this.globalEndpoints?.stop();
    await this.clusterHosts?.stop();
    await this.networks.global?.stop();
    await this.cluster?.stop();
    await this.dns.stop();
    this.runtime.close?.();
    await this.kernel.close();
    this.state.store.close();
  }

  /**
   * The second half of the start-up, after every running container's sandbox is back:
   * cut intents settled, published ports reserved again, leftovers swept. It does not hold
   * up the API's reads (the names answer, the ports forward, the containers are listed);
   * writes wait for it (server.ts), since a sweep must not meet a container being made.
   */
  sweep: Promise<void> = Promise.resolve();

  /** The first half: the state read, the drivers and networks back, every running container adopted. */
  private async start(): Promise<void> {
    if (this.config.cluster) this.joinCluster(this.config.cluster);
    // networks of a plugin's driver: its driver is there before anything asks for it
    for (const n of this.state.networks.values()) this.drivers.adoptPlugin(n.driver);
    upgradeRecords(this.state, (n) => this.networks.driverOf(n).parseConfig({ id: n.id, name: n.name, internal: n.internal, builtin: n.builtin, options: n.options }));
    if (this.config.ipForward) await this.kernel.writeSysctl('net.ipv4.ip_forward', '1');
    await this.neighbours.refresh();
    void this.processLimits.check();
    this.observers.add(new DnsObserver(this.dns, this.kernel, this.state, this.config));
    this.containers.embeddedDns = true;
    for (const n of this.state.networks.values()) this.networks.replay(n);
    // only containers whose process still runs keep their ports through the table's reset:
    // one that died while berthd was down would leave its host port forwarding to nothing
    const alive = new Set([...this.state.containers.values()].filter((c) => this.containers.isAlive(c)));
    const ports = [...alive].flatMap((c) => c.publishedPorts ?? []);
    for (const d of this.drivers.all()) await d.restart?.(this.networks.viewsOf(d), ports);
    await this.networks.ensurePredefined();
    const cut = this.state.journal.pending();
    if (cut.length) this.log(`${cut.length} operation(s) cut by a crash, to finish or undo: ${cut.map((i) => i.op).join(', ')}`);
    await this.settle(cut, 'network.remove', (i) => this.networks.settleRemove(i.network));
    for (const n of this.state.networks.values()) await this.networks.restore(n);
    const t0 = performance.now();
    await this.restoreContainers(alive, new Set(cut.flatMap((i) => (i.op === 'container.start' ? [i.containerId] : []))));
    this.adopted = { count: alive.size, t0, t1: performance.now(), cut };
  }

  private adopted: { count: number; t0: number; t1: number; cut: IntentRecord[] } | undefined;

  private async finishStart(): Promise<void> {
    const { count, t0, t1, cut } = this.adopted!;
    this.adopted = undefined;
    await pausePoint('startup-sweep');
    await this.settle(cut, 'container.connect', async (i) => this.containers.settleConnect(i));
    await this.settle(cut, 'container.disconnect', (i) => this.containers.settleDisconnect(i));
    await this.settle(cut, 'container.remove', (i) => this.containers.settleRemove(i));
    await this.settle(cut, 'cni.attach', (i) => this.containers.settleAttach(i));
    for (const i of cut.filter((x) => x.op === 'container.start')) this.state.journal.settled(i);
    // side by side: the ports are the running containers', the leftovers no container's
    const took = (p: Promise<void>) => p.then(() => performance.now() - t1);
    const both = await Promise.allSettled([took(this.restorePorts()), took(this.removeOrphans())]);
    for (const r of both) if (r.status === 'rejected') throw r.reason;
    const [portsMs, leftoversMs] = both.map((r) => (r.status === 'fulfilled' ? r.value : 0));
    // how long a restart with many containers spends where, in one line (as dockerd says "Loading containers: done.")
    if (count) this.log(`${count} running container(s) adopted in ${Math.round(performance.now() - t0)} ms (sandboxes ${Math.round(t1 - t0)} ms, then published ports ${Math.round(portsMs)} ms beside leftovers ${Math.round(leftoversMs)} ms)`);
    // the store is followed once this host is as it was: a store that is down holds nothing up
    this.networks.global?.start();
    this.globalEndpoints?.start();
    this.clusterHosts?.start();
  }

  /** --cluster-store: this host's membership (its lease is granted in the background) and the global networks' services. */
  private joinCluster(settings: ClusterSettings): void {
    this.cluster = ClusterMembership.start(settings, this.state.store, { log: this.log });
    this.networks.global = new GlobalNetworks(this.cluster, this.state, this.networks, this.kernel, this.log);
    this.globalEndpoints = new GlobalEndpoints(this.cluster, this.state, this.networks, this.dns, this.log);
    this.clusterHosts = new ClusterHosts(this.cluster, this.drivers, this.log);
    this.containers.endpoints.global = this.globalEndpoints;
    this.observers.add(this.globalEndpoints);
  }

  /**
   * Finishes or undoes the intents of one kind a crash left; each is forgotten once
   * settled. One that fails is logged and kept, so the next start-up tries again.
   */
  private async settle<K extends IntentRecord['op']>(cut: IntentRecord[], op: K, fn: (i: Extract<IntentRecord, { op: K }>) => Promise<void>): Promise<void> {
    for (const i of cut) {
      if (i.op !== op) continue;
      try {
        await fn(i as Extract<IntentRecord, { op: K }>);
        this.state.journal.settled(i);
      } catch (err) {
        this.log(`${op} cut by a crash (${i.began}): cannot settle it yet: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Containers that still run are adopted and their endpoints checked; the others are
   * marked exited, and whatever a start or a teardown cut by a crash left of them goes
   * (cutStarts: the containers whose start intent was left).
   */
  private async restoreContainers(alive: Set<ContainerRecord>, cutStarts: Set<string>): Promise<void> {
    const adopted: ContainerRecord[] = [];
    for (const c of [...this.state.containers.values()]) {
      if (alive.has(c)) {
        if (!c.attachment) this.runtime.adopt(c.id, this.containers.stateDir(c.id), c.state);
        adopted.push(c);
        continue;
      }
      if (c.attachment) {
        // its runtime deleted the netns while berthd was down: what berth held for it goes
        await this.containers.remove(c.id, { force: true }).catch((err: Error) => this.log(`attachment ${c.name}: ${err.message}`));
        continue;
      }
      if (c.state.status === 'running') {
        const exit = this.runtime.readExit(this.containers.stateDir(c.id));
        c.state = { ...c.state, status: 'exited', pid: 0, shimPid: 0, exitCode: exit?.exitCode ?? 255, finishedAt: exit?.finishedAt ?? new Date().toISOString() };
        this.state.saveContainer(c);
      }
      const cut = cutStarts.has(c.id);
      if (!cut && !c.sandboxKey && !this.state.endpointsOf({ containerId: c.id }).some((e) => e.addresses.length)) continue;
      const killed = await this.containers.settleStopped(c, cut);
      if (killed) this.log(`container ${c.name}: ${killed} process(es) of a start cut by a crash killed`);
    }
    await this.containers.restoreSandboxes(adopted);
    for (const c of adopted) {
      if (c.attachment) continue;
      await this.containers.links.open(c).catch((err: Error) => this.log(`container ${c.name}: links not restored: ${err.message}`));
      this.containers.watchExit(c.id);
    }
  }

  /** Re-reserves the host ports of running containers (their DNAT elements are already in the table). */
  private async restorePorts(): Promise<void> {
    const running = [...this.state.containers.values()].filter((c) => c.state.status === 'running' && c.publishedPorts?.length);
    const failed = await this.ports.restore(running.map((c) => ({ containerId: c.id, ports: c.publishedPorts ?? [] })));
    for (const f of failed) this.log(`container ${f.containerId.slice(0, 12)}: cannot restore its published ports: ${f.error}`);
  }

  /**
   * What berth made but no longer knows: shims of containers that are not running (a crash
   * between a spawn and its record), netns files no container holds (with any process
   * still in them: a live netns keeps its addresses), state dirs of removed containers,
   * and what each driver left (bridges, veths …).
   */
  private async removeOrphans(): Promise<void> {
    const running = [...this.state.containers.values()].filter((c) => c.state.status === 'running' && !c.attachment);
    for (const shim of shimsUnder(this.containers.stateRoot(), new Set(running.flatMap((c) => [c.state.shimPid, c.state.pid])))) {
      const c = this.state.containers.get(shim.containerId);
      if (c?.state.status === 'running' && (c.state.shimPid === shim.pid || c.state.shimPid === 0)) continue;
      this.log(`a shim no running container knows (pid ${shim.pid}, container ${shim.containerId.slice(0, 12)}): killed`);
      await killShim(shim);
    }
    const known = new Set([...this.state.containers.values()].map((c) => c.sandboxKey).filter(Boolean));
    const dir = join(this.config.execRoot, 'netns');
    for (const f of safeReaddir(dir)) {
      const p = join(dir, f);
      if (known.has(p)) continue;
      const killed = await killProcessesInNetns(p);
      if (killed) this.log(`netns ${f}: ${killed} process(es) no container knows killed`);
      await this.kernel.deleteNetns(p);
    }
    for (const id of safeReaddir(this.containers.stateRoot())) {
      if (!this.state.containers.has(id)) rmSync(this.containers.stateDir(id), { recursive: true, force: true });
    }
    const links = new Set([...this.state.endpoints.values()].map((e) => e.linkName).filter(Boolean));
    const hostLinks = await this.kernel.listLinks();
    for (const d of this.drivers.all()) await d.reconcile?.(this.networks.viewsOf(d), links, hostLinks);
  }
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
