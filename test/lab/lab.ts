// The lab every integration test runs in: a fresh "host" network namespace where berthd
// runs as if it were the machine, an "internet" namespace behind an uplink with an echo
// server, and a temp dir for the daemon's state. See topology.ts for the wiring.
//
// Labs must be made inside a throwaway world (scripts/in-lab.sh, which npm test uses):
// then even a test killed with -9 leaves nothing behind. destroy() cleans up eagerly so
// that many labs can live one after another in one world.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, type TestContext } from 'node:test';
import { apiRequest, type ApiResponse } from './api-client.js';
import { inNetnsArgv, run, runOk, sleep, type RunOptions, type RunResult } from './exec.js';
import { LabProcess } from './process.js';
import { killLabProcesses, netnsInode, netnsInodesUnder, teardownSteps, unmountUnder } from './teardown.js';
import {
  HOST_UPLINK_ADDR, HOST_UPLINK_ADDR6, INTERNET_ADDR, INTERNET_ADDR6, LAN_HOST_SIDE_ADDR, LAN_HOST_SIDE_ADDR6, LAN_PARENT_IF, LAN_ROUTER_ADDR,
  LAN_ROUTER_ADDR6, LAN_SUBNET, LAN_SUBNET6, netnsPath, wireLab,
  wireLanBridge, wireLanHost, wireSwitchedHost, wireSwitchedLan, type WiredHost,
} from './topology.js';

import { checkConsistency, countFindings } from './consistency.js';
import { startEtcd, type LabEtcd } from './etcd.js';
export type { RunResult, RunOptions } from './exec.js';
export type { ApiResponse } from './api-client.js';
export { LabProcess } from './process.js';

/** A host on one of the lab's LANs (see addLanHost, addHostOnLan). */
export interface LanHost {
  name: string;
  /** /run/netns/... of its own network namespace */
  ns: string;
  addr: string;
  /** its IPv6 address (the lab's LANs are dual stack) */
  addr6: string;
}

/** The switched LAN the lab host is a member of through eth1 (see addLan). */
export interface Lan {
  /** /run/netns/... of the netns holding its switch and router */
  ns: string;
  /** the lab host's interface on it: the parent for macvlan networks */
  parent: string;
  subnet: string;
  /** the LAN's router (a macvlan network's gateway) */
  router: string;
  /** the lab host's own address on eth1 */
  hostAddr: string;
  /** the same, for IPv6: the LAN's prefix, its router and the lab host's address on it */
  subnet6: string;
  router6: string;
  hostAddr6: string;
}

export interface LabOptions {
  /** Extra berthd flags, used by every start of the daemon. */
  daemonArgs?: string[];
  /** Start berthd in create() (default true). */
  startDaemon?: boolean;
  /**
   * destroy() first compares kernel, processes and store (consistency.ts) while berthd
   * still runs, and fails on any finding: every test's end state is checked for leaks
   * (default true; off for a test that puts the store in a state on purpose).
   */
  checkConsistency?: boolean;
  /**
   * Puts the lab host on a network made by someone else (a cluster's underlay, cluster.ts)
   * instead of on the lab's own uplink to a private internet.
   */
  underlay?: LabUnderlay;
}

/**
 * Where a lab host is wired when it is one of several hosts (cluster.ts). The lab then
 * neither makes nor deletes the internet's netns, starts no internet servers and kills
 * nothing running there: those are shared, and their owner's.
 */
export interface LabUnderlay {
  /** the lab's name (its netns is NAME-host), unique in the lab world */
  name: string;
  /** the netns of the internet the host reaches through the underlay */
  internetNs: string;
  /** what the shared internet's DNS server saw (Lab.internetDnsLog) */
  internetDnsLog(): string;
  /** the host's own addresses on the underlay: what it masquerades its containers to */
  addr: WiredHost;
  /** makes the host's netns (named nsName) and plugs it into the underlay */
  wireHost(nsName: string): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIST = join(REPO_ROOT, 'dist');
/** the CLI's plain bundle (what bin/berth falls back to without a startup snapshot) */
export const CLI_PATH = join(DIST, 'src/cli/main.js');
/** the CLI as users start it, from its startup snapshot when the build made one for this node */
export const BERTH_BIN = join(REPO_ROOT, 'bin/berth');
/** BERTH_LAB_DAEMON lets the harness itself be tried against a stand-in before berthd exists. */
export const DAEMON_PATH = process.env.BERTH_LAB_DAEMON ?? join(DIST, 'src/daemon/main.js');
export const ECHO_SERVER = fileURLToPath(new URL('./echo-server.js', import.meta.url));
export const ECHO_CLIENT = fileURLToPath(new URL('./echo-client.js', import.meta.url));
const DNS_SERVER = fileURLToPath(new URL('./dns-server.js', import.meta.url));
export const LAB_ROOT = '/run/berth-lab';
const ECHO_PORT = 7777;
const PING_TIMEOUT_MS = 40_000; // a loaded 2-core CI machine starts three worker threads slowly

let labCounter = 0;

/** Only lo in our netns and the in-lab marker: we are not in the machine's root namespace. */
export function assertInLabWorld(): void {
  const ifaces = readFileSync('/proc/self/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]?.trim())
    .filter((n): n is string => !!n);
  const foreign = ifaces.filter((n) => n !== 'lo');
  if (process.env.BERTH_LAB_WORLD !== '1' || foreign.length > 0 || process.getuid?.() !== 0) {
    throw new Error(
      'labs run only as root inside scripts/in-lab.sh (npm test does that); ' +
        `here: uid ${process.getuid?.()}, interfaces ${ifaces.join(',')}, BERTH_LAB_WORLD=${process.env.BERTH_LAB_WORLD ?? ''}`,
    );
  }
}

function uniqueName(): string {
  labCounter += 1;
  return `lab${process.pid.toString(36)}${labCounter}`;
}

export class Lab {
  /** the host's address on its uplink (on a cluster's underlay: its underlay address) */
  readonly hostUplinkAddr: string;
  readonly internetAddr = INTERNET_ADDR;
  readonly hostUplinkAddr6: string;
  readonly internetAddr6 = INTERNET_ADDR6;
  readonly echoPort = ECHO_PORT;
  /** The internet's DNS server (UDP 53): names in dns-server.ts, NXDOMAIN for the rest. */
  readonly internetDns = INTERNET_ADDR;
  readonly socket: string;
  readonly hostNs: string;
  readonly internetNs: string;
  private daemon: LabProcess | undefined;
  private daemonHistory = '';
  private lastExtraArgs: string[] = [];
  private readonly helpers = new Set<LabProcess>();
  private dnsServer: LabProcess | undefined;
  private readonly lanHosts: LanHost[] = [];
  private lan: Lan | undefined;
  private readonly lanMembers: LanHost[] = [];
  private destroyed = false;

  private constructor(
    readonly name: string,
    readonly dir: string,
    private readonly opts: LabOptions,
  ) {
    this.socket = join(dir, 'berth.sock');
    this.hostNs = netnsPath(`${name}-host`);
    this.internetNs = opts.underlay?.internetNs ?? netnsPath(`${name}-inet`);
    this.hostUplinkAddr = opts.underlay?.addr.addr ?? HOST_UPLINK_ADDR;
    this.hostUplinkAddr6 = opts.underlay?.addr.addr6 ?? HOST_UPLINK_ADDR6;
  }

  static async create(opts: LabOptions = {}): Promise<Lab> {
    assertInLabWorld();
    mkdirSync(LAB_ROOT, { recursive: true });
    const name = opts.underlay?.name ?? uniqueName();
    const lab = new Lab(name, mkdtempSync(join(LAB_ROOT, `${name}-`)), opts);
    destroyWhenTestsEnd(lab);
    try {
      mkdirSync(join(lab.dir, 'data'));
      mkdirSync(join(lab.dir, 'exec'));
      writeFileSync(lab.configFile, '{}\n');
      if (opts.underlay) {
        await opts.underlay.wireHost(`${name}-host`);
      } else {
        await wireLab(`${name}-host`, `${name}-inet`);
        lab.dnsServer = await startInternetServers((ns, argv) => lab.spawnIn(ns, argv), lab.internetNs);
      }
      if (opts.startDaemon ?? true) await lab.startDaemon();
    } catch (err) {
      await lab.destroy().catch(() => undefined);
      throw err;
    }
    return lab;
  }

  get dataRoot(): string {
    return join(this.dir, 'data');
  }

  /** berthd's configuration file in this lab ('{}' unless a test writes it). */
  get configFile(): string {
    return join(this.dir, 'daemon.json');
  }

  get execRoot(): string {
    return join(this.dir, 'exec');
  }

  /** What the internet's DNS server saw: lines "query NAME TYPE from ADDR". */
  internetDnsLog(): string {
    return this.opts.underlay?.internetDnsLog() ?? this.dnsServer?.output() ?? '';
  }

  /**
   * Adds a host on the "lan" bridge lan0 of the lab host (198.18.0.1/24; hosts from .2):
   * its own netns with eth0 and a default route via the lab host.
   */
  async addLanHost(name: string): Promise<LanHost> {
    if (!/^[a-z0-9]{1,8}$/.test(name)) throw new Error(`lan host name must be [a-z0-9]{1,8}: ${name}`);
    if (this.lanHosts.length === 0) {
      await wireLanBridge(`${this.name}-host`);
      this.foreignLinks.add('lan0');
    }
    const nsName = `${this.name}-lan-${name}`;
    const host: LanHost = { name, ns: netnsPath(nsName), addr: '', addr6: '' };
    this.lanHosts.push(host);
    Object.assign(host, await wireLanHost(`${this.name}-host`, nsName, this.lanHosts.length + 1));
    return host;
  }

  /**
   * The switched LAN (made on first call): a switch and router 198.18.1.1/24 in a netns of
   * their own, reached from the lab host by eth1 (198.18.1.250/24, up), a plain interface
   * like a machine's NIC on its LAN: the parent of macvlan networks.
   */
  async addLan(): Promise<Lan> {
    if (this.lan) return this.lan;
    const nsName = `${this.name}-lan`;
    const lan: Lan = { ns: netnsPath(nsName), parent: LAN_PARENT_IF, subnet: LAN_SUBNET, router: LAN_ROUTER_ADDR, hostAddr: LAN_HOST_SIDE_ADDR,
      subnet6: LAN_SUBNET6, router6: LAN_ROUTER_ADDR6, hostAddr6: LAN_HOST_SIDE_ADDR6 };
    this.lan = lan;
    await wireSwitchedLan(`${this.name}-host`, nsName);
    return lan;
  }

  /** Adds a host on the switched LAN (198.18.1.2, .3, …): its own netns, eth0, default route via the router. */
  async addHostOnLan(name: string): Promise<LanHost> {
    if (!/^[a-z0-9]{1,8}$/.test(name)) throw new Error(`lan host name must be [a-z0-9]{1,8}: ${name}`);
    await this.addLan();
    const nsName = `${this.name}-sw-${name}`;
    const host: LanHost = { name, ns: netnsPath(nsName), addr: '', addr6: '' };
    this.lanMembers.push(host);
    Object.assign(host, await wireSwitchedHost(`${this.name}-lan`, nsName, this.lanMembers.length + 1));
    return host;
  }

  /** Starts the echo server (TCP and UDP on echoPort, answering with the client's address) in a host's netns. */
  async serveEcho(nsPath: string): Promise<void> {
    await this.spawnIn(nsPath, ['node', ECHO_SERVER, String(ECHO_PORT), '::']).waitForOutput('ready\n');
  }

  /**
   * A real etcd for this lab (test/lab/etcd.ts), by default in the lab host's netns on its
   * loopback, where that host's berthd reaches it; destroy() stops it with the rest.
   */
  startEtcd(ns: string = this.hostNs, addr = '127.0.0.1'): Promise<LabEtcd> {
    return startEtcd((n, argv) => this.spawnIn(n, argv), ns, addr, join(this.dir, 'etcd'));
  }

  /** Starts a long-running process in a netns; destroy() stops it. */
  spawnIn(nsPath: string, argv: string[], env?: Record<string, string>): LabProcess {
    const p = new LabProcess(inNetnsArgv(nsPath, argv), env);
    this.helpers.add(p);
    return p;
  }

  // ---- the daemon ----

  daemonArgv(extraArgs: string[]): string[] {
    return [
      'node', DAEMON_PATH,
      '--data-root', this.dataRoot,
      '--exec-root', this.execRoot,
      '-H', `unix://${this.socket}`,
      // the lab's own (empty) daemon.json: the machine's /etc/berth/daemon.json is not the lab's
      '--config-file', this.configFile,
      ...(this.opts.daemonArgs ?? []),
      ...extraArgs,
    ];
  }

  /** The flags of the daemon's last start (or of its next, before one): what it runs with. */
  get daemonFlags(): string[] {
    return this.daemonArgv(this.lastExtraArgs);
  }

  /**
   * env: for this start only (e.g. BERTH_CRASH_AT, src/engine/crash-points.ts). Returns once
   * berthd's start-up sweep is over too, or with untilSwept false once it answers /_ping.
   */
  async startDaemon(extraArgs?: string[], env?: Record<string, string>, { untilSwept = true } = {}): Promise<void> {
    if (this.daemon?.running) throw new Error('lab: berthd is already running');
    if (!existsSync(DAEMON_PATH)) throw new Error(`lab: no daemon at ${DAEMON_PATH} (npm run build?)`);
    this.lastExtraArgs = extraArgs ?? this.lastExtraArgs;
    this.daemon = new LabProcess(inNetnsArgv(this.hostNs, this.daemonArgv(this.lastExtraArgs)), env);
    await this.waitForPing(this.daemon, untilSwept);
  }

  private async waitForPing(daemon: LabProcess, untilSwept: boolean): Promise<void> {
    const deadline = Date.now() + PING_TIMEOUT_MS;
    for (;;) {
      if (!daemon.running) throw new Error(`berthd ${daemon.describeExit()} before answering /_ping:\n${daemon.output()}`);
      const res = await apiRequest(this.socket, 'GET', '/_ping', undefined, 1000).catch(() => undefined);
      // a test looks at the host once berthd's start is over, its sweep too
      if (res?.status === 200 && (!untilSwept || !res.headers['berth-writes'])) return;
      if (Date.now() > deadline) {
        await daemon.stop('SIGKILL');
        throw new Error(`berthd did not answer /_ping within ${PING_TIMEOUT_MS} ms:\n${daemon.output()}`);
      }
      await sleep(50);
    }
  }

  async stopDaemon(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const d = this.daemon;
    if (!d) return;
    await d.stop(signal);
    this.daemonHistory += `${d.output()}\n[lab] berthd ${d.describeExit()}\n`;
    this.daemon = undefined;
  }

  killDaemon(): Promise<void> {
    return this.stopDaemon('SIGKILL');
  }

  async restartDaemon(extraArgs?: string[]): Promise<void> {
    await this.stopDaemon();
    await this.startDaemon(extraArgs);
  }

  /** Everything every berthd of this lab printed, oldest first. */
  daemonLog(): string {
    return this.daemonHistory + (this.daemon?.output() ?? '');
  }

  // ---- commands ----

  berth(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.inHost([BERTH_BIN, '-H', `unix://${this.socket}`, ...args], opts);
  }

  inHost(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.inNetns(this.hostNs, argv, opts);
  }

  inInternet(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.inNetns(this.internetNs, argv, opts);
  }

  inNetns(nsPath: string, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(inNetnsArgv(nsPath, argv), opts);
  }

  /**
   * Asks the internet's echo server, from inside nsPath, which source address it sees.
   * Returns that address (e.g. '198.51.100.2'); throws when there is no answer.
   */
  async echoFrom(nsPath: string, proto: 'tcp' | 'udp' = 'tcp', host: string = INTERNET_ADDR): Promise<string> {
    const argv = ['node', ECHO_CLIENT, proto, host, String(ECHO_PORT), '3000'];
    const r = await this.inNetns(nsPath, argv, { timeoutMs: 10_000 });
    const m = /^from (\S+)$/m.exec(r.stdout);
    if (r.code !== 0 || !m?.[1]) throw new Error(`echo ${proto} from ${nsPath} failed: ${r.stderr.trim() || r.stdout.trim()}`);
    return m[1];
  }

  api(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    return apiRequest(this.socket, method, path, body);
  }

  /** Links in the lab host that are not berth's (the lab's LAN bridge, a test's own): the end check leaves them alone. */
  readonly foreignLinks = new Set<string>();

  /** The lab's own namespaces besides the host and the internet: LAN hosts, the LAN switch, hosts on it, runtimes' netns. */
  extraNamespaces(): string[] {
    return [...this.lanHosts.map((h) => h.ns), ...(this.lan ? [this.lan.ns] : []), ...this.lanMembers.map((h) => h.ns), ...this.runtimeNetns];
  }

  private readonly runtimeNetns: string[] = [];

  /** A netns as another runtime makes one for its container (CNI tests: the sandbox it lends), lo up; destroy() deletes it. */
  async addRuntimeNetns(name: string): Promise<string> {
    const full = `${this.name}-${name}`;
    await runOk(['ip', 'netns', 'add', full]);
    const ns = netnsPath(full);
    this.runtimeNetns.push(ns);
    await runOk(inNetnsArgv(ns, ['ip', 'link', 'set', 'lo', 'up']));
    return ns;
  }

  /** The namespaces destroy() empties and deletes: all but a shared internet. */
  private ownNamespaces(): string[] {
    return [this.hostNs, ...(this.opts.underlay ? [] : [this.internetNs]), ...this.extraNamespaces()];
  }

  // ---- teardown ----

  /** Best effort: every step runs, errors are collected and thrown together at the end. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    forgetAtTestsEnd(this);
    const { step, done } = teardownSteps(`lab ${this.name}`);
    if (this.daemon?.running && (this.opts.checkConsistency ?? true)) {
      await step('consistency of kernel, processes and store', async () => {
        const f = await checkConsistency(this, 5000);
        if (countFindings(f)) throw new Error(JSON.stringify(f));
      });
    }
    await step('stop berthd', () => this.stopDaemon());
    await step('stop helpers', () => Promise.all([...this.helpers].map((p) => p.stop('SIGKILL'))));
    const netns = netnsInodesUnder(this.dir);
    const allNetns = this.ownNamespaces();
    for (const ns of allNetns) {
      const ino = netnsInode(ns);
      if (ino !== undefined) netns.add(ino);
    }
    await step('kill lab processes', () => killLabProcesses(this.dir, netns));
    await step('unmount', async () => {
      const failed = await unmountUnder(this.dir);
      if (failed.length) throw new Error(failed.join('; '));
    });
    for (const ns of allNetns) {
      if (existsSync(ns)) await step(`delete netns ${ns}`, () => runOk(['ip', 'netns', 'delete', ns.split('/').pop() ?? '']));
    }
    await step(`remove ${this.dir}`, () => rm(this.dir, { recursive: true, force: true }));
    done();
  }
}

function tail(text: string, chars: number): string {
  return text.length <= chars ? text : `…${text.slice(-chars)}`;
}

/** The internet's echo server (TCP and UDP) and DNS server in netns ns, started side by side; returns the DNS server. */
export async function startInternetServers(spawn: (ns: string, argv: string[]) => LabProcess, ns: string): Promise<LabProcess> {
  // on its own addresses, not '::': UDP answers then come from the address a container asked
  const echo = spawn(ns, ['node', ECHO_SERVER, String(ECHO_PORT), `${INTERNET_ADDR},${INTERNET_ADDR6}`]);
  const dns = spawn(ns, ['node', DNS_SERVER, INTERNET_ADDR, '53']);
  await Promise.all([echo.waitForOutput('ready\n'), dns.waitForOutput('ready\n')]);
  return dns;
}

/** Something a test made that must not outlive the test file: a lab, a cluster. */
export interface Destroyable {
  readonly name: string;
  destroy(): Promise<void>;
}

/**
 * Labs (and clusters) not destroyed yet. When a test file's tests are over, any left (a
 * teardown that threw before reaching them) are destroyed, oldest first: their daemons and
 * helper processes would otherwise keep the test process, and with it its lab world, alive.
 * Only under node's test runner (NODE_TEST_CONTEXT): a hook outside it would start a test
 * run of its own.
 */
const LIVE_LABS = new Set<Destroyable>();
if (process.env.NODE_TEST_CONTEXT) {
  after(async () => {
    for (const lab of [...LIVE_LABS]) await lab.destroy().catch((err: Error) => process.stderr.write(`lab ${lab.name}: ${err.message}\n`));
  });
}

/** Registers x with the runner-wide after hook; x.destroy() calls forgetAtTestsEnd(x). */
export function destroyWhenTestsEnd(x: Destroyable): void {
  LIVE_LABS.add(x);
}

export function forgetAtTestsEnd(x: Destroyable): void {
  LIVE_LABS.delete(x);
}

/**
 * Runs fn on a world made for one test (a lab, a cluster), and always destroys it. When fn
 * fails, `logs()` (its daemons' logs) goes to the test's output.
 */
export async function withWorld<W extends Destroyable, T>(t: TestContext, world: W, logs: () => string, fn: (w: W) => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn(world);
  } catch (err) {
    const log = logs();
    if (log) t.diagnostic(log);
    // The test's own failure matters more than a teardown error that may follow from it.
    await world.destroy().catch((e: Error) => t.diagnostic(e.message));
    throw err;
  }
  await world.destroy();
  return result;
}

/** Makes a lab for one test, and always destroys it; when fn fails, the daemon's log is attached. */
export async function withLab<T>(t: TestContext, opts: LabOptions, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.create(opts);
  return withWorld(t, lab, () => (lab.daemonLog() ? `berthd log:\n${tail(lab.daemonLog(), 6000)}` : ''), fn);
}

/** A lab destroyed when the test (or suite) ends: for labs shared by several subtests. */
export async function labFor(t: TestContext, opts: LabOptions = {}): Promise<Lab> {
  const lab = await Lab.create(opts);
  t.after(() => lab.destroy());
  return lab;
}
