import { EventEmitter, once } from 'node:events';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Ipam } from '../ipam/types.js';
import type { Kernel } from '../kernel/types.js';
import type { ProcessRuntime } from '../runtime/process-runtime.js';
import type { TopAnswer } from '../runtime/top.js';
import type { ExecSpec, LogOptions } from '../runtime/types.js';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { ipv4Of, ipv6Of, ZERO_TIME, type Attachment, type ContainerConfig, type ContainerRecord, type EndpointRecord, type HostConfig, type NetworkRecord } from '../store/records.js';
import { BerthError, ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from '../util/errors.js';
import { newId, shortId, validateContainerName } from '../util/names.js';
import { randomName } from '../util/random-name.js';
import { berthOwnPaths, type DaemonConfig } from './config.js';
import { checkPrivileges, privilegesOf } from '../runtime/privileges.js';
import type { NetworkService } from './networks.js';
import type { State } from './state.js';
import { KeyedLock } from './keyed-lock.js';
import { hasLegacyLinks, parseExtraHost, sandboxFiles } from './container-files.js';
import { ContainerLinks } from './container-links.js';
import { parseLink } from './links.js';
import { containerAttributes, type EventBus } from './events.js';
import type { Observers } from './observer.js';
import type { Firewall } from '../drivers/bridge/firewall.js';
import type { PortMapper } from '../portmap/mapper.js';
import { fromPortBindings } from '../portmap/spec.js';
import { checkPidMode, pidNamespaceOf } from './pid-mode.js';
import { EndpointService, type EndpointRequest } from './endpoints.js';
import { SandboxService, type NetnsRole } from './sandbox.js';
import { checkFileValues } from './file-values.js';
import { crashPoint } from './crash-points.js';
import { killProcessesInNetns } from '../runtime/netns-processes.js';
import { killShim, shimsUnder } from '../runtime/stray-shims.js';
import { parseNetworkMode, primaryNetwork, sharedWith } from './network-mode.js';

export type { EndpointRequest } from './endpoints.js';

// Containers: a process sandbox joined to networks. The sandbox (netns under the
// exec-root, endpoints, addresses) is made when the container starts, before its
// process, and torn down when the process ends; endpoint records keep what the user
// asked for (networks, --ip, aliases) across restarts, as Docker's do.

export interface ContainerCreateRequest {
  name?: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** extra settings per network (NetworkingConfig.EndpointsConfig), keyed by network name or id */
  endpoints: Record<string, EndpointRequest>;
  /** --mac-address (Config.MacAddress) for the primary network */
  mac?: string;
}

/** A sandbox another runtime made, to join to one berth network (CNI ADD, engine/attachments.ts). */
export interface AttachRequest {
  name: string;
  network: string;
  endpoint: EndpointRequest;
  portBindings: HostConfig['portBindings'];
  labels: Record<string, string>;
  attachment: Attachment;
}

export class ContainerService {
  readonly lock = new KeyedLock();
  /** emits a container's id once its exit has been recorded and its sandbox torn down, and `start:<id>` once it runs */
  private readonly exited = new EventEmitter().setMaxListeners(0);

  constructor(
    private readonly state: State,
    private readonly networks: NetworkService,
    ipam: Ipam,
    kernel: Kernel,
    private readonly runtime: ProcessRuntime,
    private readonly config: DaemonConfig,
    private readonly events: EventBus,
    observers: Observers,
    private readonly ports: PortMapper,
    firewall: Firewall,
    private readonly log: (msg: string) => void = () => undefined,
  ) {
    this.links = new ContainerLinks(state, this.lock, observers, firewall, (c) => this.rewriteFiles(c));
    this.endpoints = new EndpointService(state, networks, ipam, observers, log);
    this.sandboxes = new SandboxService(state, networks, this.endpoints, kernel, observers, log);
  }

  readonly endpoints: EndpointService;
  private readonly sandboxes: SandboxService;

  /** legacy links while containers come and go, and `rm --link` */
  readonly links: ContainerLinks;

  /** Where the containers' state dirs are (their shims', logs, /etc files). */
  stateRoot(): string {
    return join(this.config.execRoot, 'containers');
  }

  stateDir(id: string): string {
    return join(this.stateRoot(), id);
  }

  /** Where a container's /etc files are: its own state dir, or that of the container whose network it shares. */
  etcDirOf(c: ContainerRecord): string {
    const shared = sharedWith(c.hostConfig.networkMode);
    const owner = shared ? this.state.containers.get(shared) : undefined;
    return this.stateDir((owner ?? c).id);
  }

  netnsPath(id: string): string {
    return join(this.config.execRoot, 'netns', shortId(id));
  }

  // ---- create ---------------------------------------------------------------------

  /** Records a new container; `warnings` are dockerd's create warnings (settings it discarded). */
  create(req: ContainerCreateRequest): { container: ContainerRecord; warnings: string[] } {
    const name = req.name ? validateContainerName(req.name.replace(/^\//, '')) : this.freeName();
    const other = this.state.containerNamed(name);
    if (other) {
      throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    if (!req.config.cmd.length) throw new InvalidParameterError('no command specified');
    req.hostConfig.extraHosts.forEach(parseExtraHost);
    checkFileValues(req.hostConfig, req.config.hostname, req.config.domainname);
    checkPrivileges(req.hostConfig);
    const id = newId();
    const mode = this.networkModeOf(req.hostConfig.networkMode || 'bridge');
    // As dockerd (registerLinks): HostConfig.Links are legacy links, kept for the default
    // bridge only; on a user-defined network links live on the endpoint (EndpointSettings.Links).
    const links = hasLegacyLinks({ hostConfig: { networkMode: mode } }, this.state) ? req.hostConfig.links : [];
    this.checkLegacyLinks(links);
    const pidMode = checkPidMode(req.hostConfig.pidMode, this.state);
    const warnings = this.checkPublishing(mode, req.hostConfig);
    const plan = this.planEndpoints(id, mode, req);
    const c: ContainerRecord = {
      id,
      name,
      created: new Date().toISOString(),
      config: { ...req.config, hostname: req.config.hostname || (mode === 'host' ? '' : id.slice(0, 12)) },
      hostConfig: { ...req.hostConfig, networkMode: mode, pidMode, links },
      state: { status: 'created', pid: 0, shimPid: 0, exitCode: 0, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, error: '' },
      sandboxKey: '',
    };
    mkdirSync(this.stateDir(id), { recursive: true, mode: 0o700 });
    this.state.store.transaction(() => {
      this.state.saveContainer(c);
      for (const ep of plan) this.state.saveEndpoint(ep);
    });
    this.events.publish('container', 'create', c.id, containerAttributes(c));
    return { container: c, warnings };
  }

  /** Legacy link targets must exist (links on a user-defined network are the endpoint's, and may name a container made later). */
  private checkLegacyLinks(links: string[]): void {
    for (const { name } of links.map(parseLink)) {
      // a 400, not a 404: the docker CLI takes a 404 from create for a missing image and pulls
      if (!this.state.tryFindContainer(name)) throw new InvalidParameterError(`could not get container for ${name}: No such container: ${name}`);
    }
  }

  /** Docker's rules for -p/-P per network mode; bad bindings are a 400 here, before anything exists. */
  private checkPublishing(mode: string, hc: HostConfig): string[] {
    const bindings = fromPortBindings(hc.portBindings);
    if (!bindings.length && !hc.publishAllPorts) return [];
    const m = parseNetworkMode(mode);
    if (m.kind === 'container') throw new ConflictError('conflicting options: port publishing and the container type network mode');
    const discard = (why: string): string[] => {
      // as dockerd does for host mode: there is nothing to forward through
      hc.portBindings = {};
      hc.publishAllPorts = false;
      return [`Published ports are discarded when using ${why}`];
    };
    if (m.kind === 'host') return discard('host network mode');
    if (m.kind === 'none') return discard('network mode none').slice(1); // dropped silently, as dockerd does
    const net = this.state.findNetwork(m.network);
    // a macvlan container is on the LAN with its own address: there is nothing to publish on
    const caps = this.networks.capsOf(net);
    if (!caps.publishesPorts && !caps.portsByDriver) return discard(`network driver ${net.driver} (network ${net.name})`);
    if (net.internal && bindings.length) throw new InvalidParameterError(`cannot publish ports of a container on internal network "${net.name}": internal networks have no way in`);
    return [];
  }

  private nameTaken(name: string): boolean {
    return this.state.containerNamed(name) !== undefined;
  }

  /** Docker-style random names; once those run short, with a number added, so it always ends. */
  private freeName(): string {
    for (let attempt = 0; ; attempt++) {
      const n = randomName(attempt < 10 ? 0 : attempt);
      if (!this.nameTaken(n)) return n;
    }
  }

  /**
   * container:NAME is kept as container:<id>, as dockerd keeps it: a rename or a name
   * reused later cannot re-point it. A missing one is a 400, not a 404: the docker CLI
   * takes a 404 from create for a missing image and tries to pull.
   */
  private networkModeOf(mode: string): string {
    const term = sharedWith(mode);
    if (term === undefined) return mode;
    const target = this.state.tryFindContainer(term);
    if (!target) throw new InvalidParameterError(`No such container: ${term}`);
    return `container:${target.id}`;
  }

  /** Validates the network mode and per-network settings; returns the endpoint records. */
  private planEndpoints(containerId: string, mode: string, req: ContainerCreateRequest): EndpointRecord[] {
    const m = parseNetworkMode(mode);
    if (m.kind === 'container') {
      const target = this.state.findContainer(m.target);
      if (target.id === containerId) throw new InvalidParameterError('cannot join own network namespace');
      if (Object.keys(req.endpoints).length) throw new ConflictError('conflicting options: networking settings and the network mode container');
      return [];
    }
    const primary = this.state.findNetwork(m.kind === 'network' ? m.network : m.kind);
    const wanted = new Map<string, { net: NetworkRecord; req: EndpointRequest }>();
    // dockerd: the "default" mode's network only when no EndpointsConfig names others
    // (docker-py's networking_config without network_mode lands on that network alone)
    if (mode !== 'default' || !Object.keys(req.endpoints).length) wanted.set(primary.id, { net: primary, req: { mac: req.mac } });
    for (const [term, epReq] of Object.entries(req.endpoints)) {
      // docker 25+ keys the network mode's own entry "default" when no --network is given
      const net = this.state.findNetwork(term === 'default' ? 'bridge' : term);
      const prev = wanted.get(net.id)?.req ?? {};
      wanted.set(net.id, { net, req: { ...prev, ...epReq, mac: epReq.mac || prev.mac } });
    }
    if (wanted.size > 1 && [...wanted.values()].some((w) => !this.networks.capsOf(w.net).ipam)) {
      throw new InvalidParameterError(`container cannot be connected to the ${primary.name} network and other networks`);
    }
    return [...wanted.values()].map(({ net, req: r }) => this.endpoints.create(containerId, net, r));
  }

  // ---- start ----------------------------------------------------------------------

  /** Starts the container; returns the network set-up time in ms (the daemon's own timing). */
  async start(term: string): Promise<number> {
    const c = this.state.findContainer(term);
    const setupMs = await this.lock.run([c.id], async () => {
      if (c.state.status === 'running') return 0;
      return this.state.journal.run({ op: 'container.start', containerId: c.id }, () => this.startNow(c));
    });
    await this.links.targetChanged(c, true);
    return setupMs;
  }

  /** The start itself, under the container's lock and its intent: sandbox, ports, links, then the process. */
  private async startNow(c: ContainerRecord): Promise<number> {
    const pidns = pidNamespaceOf(c, this.state, (t) => this.runtime.isRunning(t.state));
    const t0 = process.hrtime.bigint();
    const netns = await this.setUpSandbox(c);
    const setupMs = Number(process.hrtime.bigint() - t0) / 1e6;
    try {
      crashPoint('start.sandbox');
      await this.publishPorts(c);
      crashPoint('start.ports');
      await this.links.open(c);
      const files = sandboxFiles(c, this.state, this.config, (id) => this.stateDir(id), this.embeddedDns);
      const proc = await this.runtime.start({
        id: c.id,
        netns: c.hostConfig.networkMode === 'host' ? null : netns,
        hostname: c.config.hostname || undefined,
        pidns,
        rootfs: c.hostConfig.rootfs,
        binds: files.binds,
        argv: c.config.cmd,
        env: [...c.config.env, ...files.env],
        workdir: c.config.workdir || undefined,
        interactive: c.config.openStdin,
        tty: c.config.tty,
        stateDir: this.stateDir(c.id),
        privileges: privilegesOf(c.hostConfig),
        hiddenPaths: berthOwnPaths(this.config),
      });
      crashPoint('start.process');
      c.state = { ...c.state, status: 'running', pid: proc.pid, shimPid: proc.shimPid, pidStartTime: proc.pidStartTime, startedAt: proc.startedAt, finishedAt: ZERO_TIME, exitCode: 0, error: '' };
      this.state.saveContainer(c);
    } catch (err) {
      await this.tearDownSandbox(c);
      c.state = { ...c.state, error: (err as Error).message };
      this.state.saveContainer(c);
      throw err;
    }
    this.watchExit(c.id);
    this.exited.emit(`start:${c.id}`);
    this.events.publish('container', 'start', c.id, containerAttributes(c));
    return setupMs;
  }

  /**
   * Records and joins a sandbox another runtime made (a CNI ADD): the endpoint goes into
   * its netns, ports are published, and the record runs with no process of berth's. On
   * failure nothing of it stays.
   */
  async attach(req: AttachRequest): Promise<ContainerRecord> {
    const net = this.state.findNetwork(req.network);
    const name = validateContainerName(req.name);
    if (this.nameTaken(name)) throw new ConflictError(`Conflict. The container name "/${name}" is already in use`);
    const hostConfig: HostConfig = {
      networkMode: net.name, autoRemove: false, dns: null, dnsSearch: null, dnsOptions: null, extraHosts: [], links: [],
      portBindings: req.portBindings, publishAllPorts: false,
    };
    const id = newId();
    const c: ContainerRecord = {
      id,
      name,
      created: new Date().toISOString(),
      config: { image: '', cmd: [], env: [], hostname: '', domainname: '', workdir: '', tty: false, openStdin: false, exposedPorts: Object.keys(req.portBindings), labels: req.labels },
      hostConfig,
      state: { status: 'created', pid: 0, shimPid: 0, exitCode: 0, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, error: '' },
      sandboxKey: '',
      attachment: req.attachment,
    };
    this.checkPublishing(net.name, hostConfig);
    return this.lock.run([id], () => this.state.journal.run({ op: 'cni.attach', containerId: id }, async () => {
      const ep = this.endpoints.create(id, net, req.endpoint);
      this.state.store.transaction(() => {
        this.state.saveContainer(c);
        this.state.saveEndpoint(ep);
      });
      try {
        await this.sandboxes.create(c, req.attachment.netns, [ep], publishesPorts(c), 'lent');
        crashPoint('attach.sandbox');
        await this.publishPorts(c);
      } catch (err) {
        await this.tearDownSandbox(c).catch((e: Error) => this.log(`attachment ${name}: ${e.message}`));
        this.state.dropContainer(id);
        throw err;
      }
      c.state = { ...c.state, status: 'running', startedAt: new Date().toISOString() };
      this.state.saveContainer(c);
      this.events.publish('container', 'start', c.id, containerAttributes(c));
      return c;
    }));
  }

  /** A CNI ADD cut by a crash: undone (the runtime had no answer; its DEL will find nothing). */
  async settleAttach(i: { containerId: string }): Promise<void> {
    const c = this.state.containers.get(i.containerId);
    if (c?.state.status === 'running') return;
    if (c) await this.remove(c.id, { force: true });
  }

  /** containers on user-defined networks use the embedded resolver (set when it runs) */
  embeddedDns = false;

  /** containers whose exit is being handled (recorded, torn down, link parents told) */
  private readonly exiting = new Set<string>();

  watchExit(id: string): void {
    this.runtime.onExit(id, (exit) => {
      let ended: ContainerRecord | undefined;
      this.exiting.add(id);
      void this.lock.run([id], async () => {
        const c = this.state.containers.get(id);
        if (!c || c.state.status !== 'running') return;
        ended = c;
        c.state = { ...c.state, status: 'exited', pid: 0, shimPid: 0, exitCode: exit.exitCode, finishedAt: exit.finishedAt };
        this.state.saveContainer(c);
        crashPoint('exit.recorded');
        await this.tearDownSandbox(c);
        this.events.publish('container', 'die', id, { ...containerAttributes(c), exitCode: String(exit.exitCode) });
      })
        // a teardown that failed is logged: an exit handler must never take berthd down
        .catch((err: Error) => this.log(`container ${id.slice(0, 12)}: exit handling failed: ${err.message}`))
        // before the exit is announced: a stop returns with the link parents updated
        .then(() => ended && this.links.targetChanged(ended, false))
        .finally(() => {
          this.exiting.delete(id);
          this.exited.emit(id);
        })
        .then(() => {
          const c = this.state.containers.get(id);
          if (c?.hostConfig.autoRemove) return this.remove(id, { force: true }).catch(() => undefined);
        });
    });
  }

  /**
   * Publishes -p/-P on the endpoint that carries the default route (Docker's choice); with
   * none (every network internal), on the first that can. Not at all when that endpoint's
   * driver does not publish ports (the create warned).
   */
  private async publishPorts(c: ContainerRecord): Promise<void> {
    const hc = c.hostConfig;
    if (!publishesPorts(c)) return;
    const publisher = (e: EndpointRecord) => this.networks.capsOf(this.state.networks.get(e.networkId)!).publishesPorts;
    const gateway = this.sandboxes.gatewayEndpoint(c);
    const ep = gateway ? (publisher(gateway.ep) ? gateway.ep : undefined) : this.orderedEndpoints(c).find((e) => e.ifName && publisher(e));
    if (!ep) return;
    const net = this.state.networks.get(ep.networkId)!;
    const driver = this.networks.driverOf(net);
    c.publishedPorts = await this.ports.publish({
      containerId: c.id,
      containerIp: ipv4Of(ep),
      containerIp6: ipv6Of(ep),
      network: { name: net.name, internal: net.internal, hostBindingIpv4: driver.hostBindingIpv4?.(this.networks.view(net)) ?? this.config.ip },
      bindings: fromPortBindings(hc.portBindings),
      exposed: c.config.exposedPorts,
      publishAll: hc.publishAllPorts,
      runtimeBinds: !!c.attachment && !c.attachment.bindsPorts,
    });
    this.state.saveContainer(c);
  }

  /** A running container's hosts, hostname and resolv.conf rewritten in place (the bind mounts keep the inode). */
  private rewriteFiles(c: ContainerRecord): void {
    sandboxFiles(c, this.state, this.config, (id) => this.stateDir(id), this.embeddedDns, false);
  }

  private async closeLinksAndPorts(c: ContainerRecord): Promise<void> {
    await this.links.close(c);
    delete c.driverPorts;
    if (c.publishedPorts?.length) {
      await this.ports.unpublish(c.id, c.publishedPorts).catch(() => undefined);
      c.publishedPorts = [];
    }
  }

  /** Makes the netns and joins every endpoint; on failure undoes all of it. */
  private async setUpSandbox(c: ContainerRecord): Promise<string> {
    const mode = parseNetworkMode(c.hostConfig.networkMode);
    if (mode.kind === 'container') {
      const target = this.state.findContainer(mode.target);
      if (target.state.status !== 'running' || !target.sandboxKey) {
        throw new ConflictError(`cannot join network of a non running container: ${target.name}`);
      }
      c.sandboxKey = target.sandboxKey;
      return target.sandboxKey;
    }
    if (mode.kind === 'host') {
      c.sandboxKey = '';
      return '';
    }
    const netns = this.netnsPath(c.id);
    try {
      await this.sandboxes.create(c, netns, this.orderedEndpoints(c), publishesPorts(c));
    } catch (err) {
      await this.tearDownSandbox(c);
      throw err;
    }
    return netns;
  }

  /** The primary network first (eth0), then the others by name. */
  private orderedEndpoints(c: ContainerRecord): EndpointRecord[] {
    const eps = this.state.endpointsOf({ containerId: c.id });
    const nameOf = (e: EndpointRecord) => this.state.networks.get(e.networkId)?.name ?? '';
    const primary = primaryNetwork(c.hostConfig.networkMode);
    return eps.sort((a, b) => {
      const pa = nameOf(a) === primary || a.networkId === primary ? 0 : 1;
      const pb = nameOf(b) === primary || b.networkId === primary ? 0 : 1;
      return pa - pb || nameOf(a).localeCompare(nameOf(b));
    });
  }

  /** The container's own netns (not another's in container: mode, not the host's, not one lent by another runtime). */
  ownsNetns(c: ContainerRecord): boolean {
    return !!c.sandboxKey && c.sandboxKey === this.netnsPath(c.id);
  }

  private netnsRole(c: ContainerRecord): NetnsRole {
    if (c.attachment) return 'lent';
    return this.ownsNetns(c) ? 'own' : 'shared';
  }

  /** Recorded as running, and it does: its process (or, for an attachment, the runtime's netns) is still there. */
  isAlive(c: ContainerRecord): boolean {
    if (c.state.status !== 'running') return false;
    return c.attachment ? existsSync(c.attachment.netns) : this.runtime.isRunning(c.state);
  }

  /** After a daemon restart, for the containers whose processes still run: their sandboxes as they were. */
  async restoreSandboxes(cs: ContainerRecord[]): Promise<void> {
    await this.sandboxes.restoreAll(cs.map((c) => ({ c, role: this.netnsRole(c), publishes: publishesPorts(c) })));
  }

  /** Releases addresses and deletes the netns; the kernel then removes the veths itself. */
  async tearDownSandbox(c: ContainerRecord): Promise<void> {
    await this.closeLinksAndPorts(c);
    await this.sandboxes.destroy(c, this.netnsRole(c), publishesPorts(c));
    c.sandboxKey = '';
    if (this.state.containers.has(c.id)) this.state.saveContainer(c);
  }

  // ---- stop, kill, remove --------------------------------------------------------

  async stop(term: string, timeoutSec = 10): Promise<void> {
    const c = this.state.findContainer(term);
    refuseAttachment(c, 'stopped');
    if (c.state.status !== 'running') return;
    await this.runtime.stop(c.id, timeoutSec);
    await this.waitNotRunning(c.id);
  }

  async kill(term: string, signal = 'SIGKILL'): Promise<void> {
    const c = this.state.findContainer(term);
    refuseAttachment(c, 'killed');
    if (c.state.status !== 'running') throw new ConflictError(`Container ${c.id} is not running`);
    this.runtime.kill(c.id, signal);
  }

  /** `docker top`; a 409 when it does not run, as dockerd says. */
  async top(term: string, psArgs?: string): Promise<TopAnswer> {
    const c = this.state.findContainer(term);
    refuseAttachment(c, 'listed by top');
    if (c.state.status !== 'running') throw new ConflictError(`Container ${c.id} is not running`);
    return this.runtime.top(c.state, psArgs);
  }

  // ---- the container's streams (logs, attach, exec) -----------------------------

  logStream(c: ContainerRecord, opts: LogOptions): Readable {
    return this.runtime.logStream(this.stateDir(c.id), opts);
  }

  writeStdin(c: ContainerRecord, data: Buffer): void {
    this.runtime.writeStdin(this.stateDir(c.id), data);
  }

  closeStdin(c: ContainerRecord): void {
    this.runtime.closeStdin(this.stateDir(c.id));
  }

  resizeTty(c: ContainerRecord, rows: number, cols: number): void {
    this.runtime.resize(this.stateDir(c.id), rows, cols);
  }

  exec(c: ContainerRecord, spec: ExecSpec): ChildProcess {
    refuseAttachment(c, 'exec\'d into');
    return this.runtime.exec(c.state, { ...spec, privileges: privilegesOf(c.hostConfig, spec.privileged) });
  }

  resizeExec(child: ChildProcess, rows: number, cols: number): void {
    this.runtime.resizeExec(child, rows, cols);
  }

  /** Resolves when the container is no longer running; returns its exit code. */
  async wait(term: string, condition: 'not-running' | 'next-exit' = 'not-running'): Promise<number> {
    const c = this.state.findContainer(term);
    if (condition === 'next-exit') await this.nextExit(c.id);
    else await this.waitNotRunning(c.id);
    return this.state.containers.get(c.id)?.state.exitCode ?? c.state.exitCode;
  }

  /** Resolves when the container next starts (attach delivers stdin only to a running process). */
  async nextStart(id: string): Promise<void> {
    await once(this.exited, `start:${id}`);
  }

  /** Resolves when the container next exits (for attach and `wait --condition next-exit` before start). */
  async nextExit(id: string): Promise<void> {
    await once(this.exited, id);
  }

  /** Resolves once the container is not running (its exit recorded, its sandbox gone). */
  exitOf(id: string): Promise<void> {
    return this.waitNotRunning(id);
  }

  private async waitNotRunning(id: string): Promise<void> {
    // the status says exited before the teardown is over: a stop returns once all of it is
    while (this.state.containers.get(id)?.state.status === 'running' || this.exiting.has(id)) await once(this.exited, id);
  }

  async remove(term: string, opts: { force: boolean }): Promise<void> {
    const c = this.state.findContainer(term);
    if (c.state.status === 'running' && !opts.force) {
      throw new ConflictError(`You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`);
    }
    await this.state.journal.run({ op: 'container.remove', containerId: c.id }, async () => {
      if (c.state.status === 'running' && !c.attachment) {
        this.runtime.kill(c.id, 'SIGKILL');
        await this.waitNotRunning(c.id);
      }
      await this.lock.run([c.id], async () => {
        if (!this.state.containers.has(c.id)) return;
        const dependents = this.state.netnsGuestsOf(c.id).filter((o) => o.state.status === 'running');
        if (dependents.length && !opts.force) {
          throw new ConflictError(`container ${c.name} is in use as the network of container ${dependents[0].name}`);
        }
        await this.tearDownSandbox(c);
        crashPoint('remove.torn-down');
        this.state.dropContainer(c.id);
        crashPoint('remove.dropped');
        rmSync(this.stateDir(c.id), { recursive: true, force: true });
        this.events.publish('container', 'destroy', c.id, containerAttributes(c));
      });
    });
  }

  /**
   * Removes every container that does not run and `match` keeps; returns their ids. One
   * still in use (a running container shares its network namespace) stays, as under dockerd.
   */
  async prune(match: (c: ContainerRecord) => boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const c of [...this.state.containers.values()]) {
      if (c.state.status === 'running' || !match(c)) continue;
      try {
        await this.remove(c.id, { force: false });
        removed.push(c.id);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return removed;
  }

  // ---- connect, disconnect --------------------------------------------------------

  async connect(netTerm: string, containerTerm: string, r: EndpointRequest): Promise<void> {
    const net = this.state.findNetwork(netTerm);
    const c = this.state.findContainer(containerTerm);
    refuseAttachment(c, 'connected to another network');
    await this.lock.run([c.id], async () => {
      if (parseNetworkMode(c.hostConfig.networkMode).kind !== 'network') {
        throw new ForbiddenContainerModeError(c.hostConfig.networkMode);
      }
      if (!this.networks.capsOf(net).ipam) throw new InvalidParameterError(`container cannot be connected to network ${net.name} (driver ${net.driver})`);
      if (this.state.endpointsOf({ containerId: c.id, networkId: net.id }).length) {
        // libnetwork's answer, a 403 (Forbidden), as dockerd gives it
        throw new ForbiddenError(`endpoint with name ${c.name} already exists in network ${net.name}`);
      }
      const ep = this.endpoints.create(c.id, net, r);
      if (c.state.status !== 'running' || !c.sandboxKey) return this.state.saveEndpoint(ep);
      await this.state.journal.run({ op: 'container.connect', containerId: c.id, endpointId: ep.id }, async () => {
        this.state.saveEndpoint(ep);
        crashPoint('connect.recorded');
        try {
          await this.sandboxes.join(c, net, ep, publishesPorts(c));
        } catch (err) {
          this.state.dropEndpoint(ep.id);
          throw err;
        }
        crashPoint('connect.joined');
        // its hosts file gains the new address; resolv.conf turns to the embedded resolver
        // when this is its first network that serves names (dockerd rewrites both too)
        this.rewriteFiles(c);
      });
    });
  }

  async disconnect(netTerm: string, containerTerm: string, force: boolean): Promise<void> {
    const net = this.state.findNetwork(netTerm);
    const c = force ? this.state.tryFindContainer(containerTerm) : this.state.findContainer(containerTerm);
    if (!c) return;
    refuseAttachment(c, 'disconnected (its runtime detaches it with CNI DEL, or `rm -f` does)');
    await this.lock.run([c.id], async () => {
      const [ep] = this.state.endpointsOf({ containerId: c.id, networkId: net.id });
      // dockerd 20.10's words; its 500 becomes a 404: the caller's mistake is a 4xx here
      if (!ep) throw new NotFoundError(`container ${c.id} is not connected to network ${net.name}`);
      await this.state.journal.run({ op: 'container.disconnect', containerId: c.id, endpointId: ep.id }, async () => {
        await this.sandboxes.leave(c, net, ep, publishesPorts(c));
        crashPoint('disconnect.left');
        this.state.dropEndpoint(ep.id);
        // its hosts file loses the addresses it had there, as a connect added them
        if (c.state.status === 'running') this.rewriteFiles(c);
      });
    });
  }

  // ---- after a crash: what its intents left (the controller calls these at start-up) ----

  /**
   * A container that does not run holds no process and no sandbox. After a start cut by a
   * crash (cut: its intent was left) or a teardown cut half-way, whatever is left goes: a
   * shim and its process (found by the shim's command line and the netns, since nothing
   * recorded their pids), ports, links, addresses and the netns. Returns how many processes
   * were killed.
   */
  async settleStopped(c: ContainerRecord, cut: boolean): Promise<number> {
    let killed = 0;
    for (const shim of shimsUnder(this.stateRoot())) {
      if (shim.containerId !== c.id) continue;
      await killShim(shim);
      killed++;
    }
    if (this.ownsNetns(c)) killed += await killProcessesInNetns(c.sandboxKey);
    await this.tearDownSandbox(c);
    if (cut) {
      c.state = { ...c.state, error: 'the start was cut short: berthd stopped before the container ran' };
      this.state.saveContainer(c);
    }
    return killed;
  }

  /** A connect cut by a crash: whole once restore made its interface (it had one planned), else undone. */
  settleConnect(i: { containerId: string; endpointId: string }): void {
    const c = this.state.containers.get(i.containerId);
    const ep = this.state.endpoints.get(i.endpointId);
    if (!c || !ep || c.state.status !== 'running') return;
    if (ep.ifName) this.rewriteFiles(c);
    else this.state.dropEndpoint(ep.id); // cut before its address was taken: nothing of it is in the kernel
  }

  /** A disconnect cut by a crash: finished (its interface, if restore made it again, goes). */
  async settleDisconnect(i: { containerId: string; endpointId: string }): Promise<void> {
    const c = this.state.containers.get(i.containerId);
    const ep = this.state.endpoints.get(i.endpointId);
    const net = ep && this.state.networks.get(ep.networkId);
    if (!c || !ep || !net) return;
    await this.sandboxes.leave(c, net, ep, publishesPorts(c));
    this.state.dropEndpoint(ep.id);
    if (c.state.status === 'running') this.rewriteFiles(c);
  }

  /** A removal cut by a crash: finished, state dir included. */
  async settleRemove(i: { containerId: string }): Promise<void> {
    if (this.state.containers.has(i.containerId)) await this.remove(i.containerId, { force: true });
    rmSync(this.stateDir(i.containerId), { recursive: true, force: true });
  }
}

/** -p, or -P with exposed ports: the container may reach itself through a published port. */
function publishesPorts(c: ContainerRecord): boolean {
  const hc = c.hostConfig;
  return fromPortBindings(hc.portBindings).length > 0 || (hc.publishAllPorts && c.config.exposedPorts.length > 0);
}

/** An attachment has no process of berth's and one network, joined and left by its runtime (CNI ADD/DEL). */
function refuseAttachment(c: ContainerRecord, what: string): void {
  if (c.attachment) throw new ConflictError(`container ${c.name} is a sandbox of another runtime attached through CNI: it cannot be ${what}`);
}

class ForbiddenContainerModeError extends BerthError {
  constructor(mode: string) {
    super(`container sharing network namespace with another container or host cannot be connected to any other network (network mode ${mode})`, 403);
  }
}
