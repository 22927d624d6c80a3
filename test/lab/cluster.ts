// A multi-host lab: N hosts, each a lab host (lab.ts) with its own netns, berthd, data-root
// and exec-root, on one underlay switch with a router to an internet, and (optionally) a
// real etcd on the underlay as the cluster store. Wiring and addresses: topology.ts.
//
// The hosts share the lab world's UTS namespace, so every berthd sees the same hostname, as
// cloned machines may: berth must never take the hostname for a host's identity.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startEtcd, ETCD_CLIENT_PORT, type LabEtcd } from './etcd.js';
import { inNetnsArgv, run, runOk, type RunOptions, type RunResult } from './exec.js';
import { assertInLabWorld, destroyWhenTestsEnd, forgetAtTestsEnd, Lab, LAB_ROOT, startInternetServers, withWorld, type LabOptions } from './lab.js';
import { LabProcess } from './process.js';
import { killLabProcesses, netnsInode, teardownSteps } from './teardown.js';
import {
  INTERNET_ADDR, INTERNET_ADDR6, netnsPath, UNDERLAY_ETCD, UNDERLAY_IF, UNDERLAY_ROUTER, UNDERLAY_SUBNET, UNDERLAY_SUBNET6,
  underlayHost, underlayPort, wireUnderlay, wireUnderlayMember, type WiredHost,
} from './topology.js';

/** The cluster store's client endpoint, for berthd's --cluster-store (when the cluster has etcd). */
export const CLUSTER_STORE = `etcd://${UNDERLAY_ETCD.addr}:${ETCD_CLIENT_PORT}`;
export const CLUSTER_ETCD_ENDPOINT = `http://${UNDERLAY_ETCD.addr}:${ETCD_CLIENT_PORT}`;
export { UNDERLAY_IF, UNDERLAY_SUBNET, UNDERLAY_SUBNET6 };

export interface ClusterOptions {
  /** how many hosts (default 3), numbered 1..hosts */
  hosts?: number;
  /** run a real etcd on the underlay at CLUSTER_ETCD_ENDPOINT (default true) */
  etcd?: boolean;
  /** that etcd also serves its v2 API (for Docker 20.10's classic overlay, bench/overlay.ts) */
  etcdV2?: boolean;
  /** extra berthd flags of every host, or of host i (e.g. --cluster-store CLUSTER_STORE) */
  daemonArgs?: string[] | ((i: number) => string[]);
  /** start every berthd in create() (default true) */
  startDaemons?: boolean;
  /** MTU of every underlay link (default 1500) */
  mtu?: number;
  /** each host's end-of-life consistency check (lab.ts; default true) */
  checkConsistency?: boolean;
}

/** One host of a cluster: a Lab on the underlay (berth(), api(), inHost(), restartDaemon() …). */
export type ClusterHost = Lab;

let clusterCounter = 0;

export class Cluster {
  readonly internetAddr = INTERNET_ADDR;
  readonly internetAddr6 = INTERNET_ADDR6;
  readonly router: WiredHost = UNDERLAY_ROUTER;
  readonly switchNs: string;
  readonly routerNs: string;
  readonly internetNs: string;
  readonly etcdNs: string;
  /** the cluster store, when made with etcd: true */
  etcd: LabEtcd | undefined;
  private readonly hosts = new Map<number, Lab>();
  private readonly dead = new Set<number>();
  private readonly helpers = new Set<LabProcess>();
  private dnsServer: LabProcess | undefined;
  private destroyed = false;

  private constructor(
    readonly name: string,
    readonly dir: string,
    private readonly opts: ClusterOptions,
  ) {
    this.switchNs = netnsPath(`${name}-sw`);
    this.routerNs = netnsPath(`${name}-rt`);
    this.internetNs = netnsPath(`${name}-inet`);
    this.etcdNs = netnsPath(`${name}-etcd`);
  }

  static async create(opts: ClusterOptions = {}): Promise<Cluster> {
    const count = opts.hosts ?? 3;
    if (!Number.isInteger(count) || count < 1 || count > 200) throw new Error(`cluster: hosts must be 1..200, not ${count}`);
    assertInLabWorld();
    mkdirSync(LAB_ROOT, { recursive: true });
    clusterCounter += 1;
    // 'n' and the '-' after it: no cluster's name is the start of another's namespaces
    const name = `cl${process.pid.toString(36)}n${clusterCounter}`;
    const cluster = new Cluster(name, mkdtempSync(join(LAB_ROOT, `${name}-`)), opts);
    destroyWhenTestsEnd(cluster);
    try {
      await cluster.wire();
      // the store first: a berthd given --cluster-store may need it to start
      if (opts.etcd ?? true) await cluster.startStore();
      const numbers = Array.from({ length: count }, (_, k) => k + 1);
      // all settled before any teardown, so that no host is still being made while it runs
      const made = await Promise.allSettled(numbers.map((i) => cluster.addHost(i)));
      const failed = made.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (err) {
      await cluster.destroy().catch(() => undefined);
      throw err;
    }
    return cluster;
  }

  private async wire(): Promise<void> {
    const mtu = this.opts.mtu ?? 1500;
    await wireUnderlay(`${this.name}-sw`, `${this.name}-rt`, `${this.name}-inet`, mtu);
    this.dnsServer = await startInternetServers((ns, argv) => this.spawnIn(ns, argv), this.internetNs);
  }

  private async startStore(): Promise<void> {
    await wireUnderlayMember(`${this.name}-sw`, 'etcd', `${this.name}-etcd`, UNDERLAY_ETCD, this.opts.mtu ?? 1500);
    this.etcd = await startEtcd((ns, argv) => this.spawnIn(ns, argv), this.etcdNs, UNDERLAY_ETCD.addr, join(this.dir, 'etcd'), undefined, { enableV2: this.opts.etcdV2 });
  }

  private async addHost(i: number): Promise<void> {
    const args = typeof this.opts.daemonArgs === 'function' ? this.opts.daemonArgs(i) : this.opts.daemonArgs ?? [];
    const labOpts: LabOptions = {
      daemonArgs: args,
      startDaemon: this.opts.startDaemons ?? true,
      checkConsistency: this.opts.checkConsistency ?? true,
      underlay: {
        name: `${this.name}-h${i}`,
        internetNs: this.internetNs,
        internetDnsLog: () => this.internetDnsLog(),
        addr: underlayHost(i),
        wireHost: (nsName) => wireUnderlayMember(`${this.name}-sw`, underlayPort(i), nsName, underlayHost(i), this.opts.mtu ?? 1500),
      },
    };
    // Lab.create destroys a half-made host itself; the Map entry is only for made ones
    this.hosts.set(i, await Lab.create(labOpts));
  }

  /** The number of hosts the cluster was made with (dead ones included). */
  get size(): number {
    return this.opts.hosts ?? 3;
  }

  /** Host i (1..size); throws for a host killHost took away. */
  host(i: number): ClusterHost {
    if (this.dead.has(i)) throw new Error(`cluster: host ${i} is dead (killHost)`);
    const h = this.hosts.get(i);
    if (!h) throw new Error(`cluster: no host ${i} (hosts are 1..${this.size})`);
    return h;
  }

  /** The hosts still alive, by number. */
  liveHosts(): ClusterHost[] {
    return [...this.hosts.entries()].filter(([i]) => !this.dead.has(i)).sort(([a], [b]) => a - b).map(([, h]) => h);
  }

  /** Host i's addresses on the underlay (also host(i).hostUplinkAddr / hostUplinkAddr6). */
  addrOf(i: number): WiredHost {
    return underlayHost(i);
  }

  /**
   * Host i dies as a machine does: its berthd is SIGKILLed (no goodbye to the store), it is
   * unplugged from the switch, and everything of it (containers, shims, netns, data) goes.
   * Its records in the store stay until their lease runs out: that is what tests observe.
   */
  async killHost(i: number): Promise<void> {
    const h = this.host(i);
    this.dead.add(i);
    await h.killDaemon();
    await runOk(['ip', '-n', `${this.name}-sw`, 'link', 'delete', underlayPort(i)]);
    await h.destroy();
  }

  /**
   * Pulls host i's cable: its switch port goes down (its eth0 loses carrier), so the host
   * lives on, berthd and containers included, cut off from the others, the store and the
   * internet: a partition. plug(i) puts it back.
   */
  async unplug(i: number): Promise<void> {
    this.host(i);
    await runOk(['ip', '-n', `${this.name}-sw`, 'link', 'set', underlayPort(i), 'down']);
  }

  async plug(i: number): Promise<void> {
    this.host(i);
    await runOk(['ip', '-n', `${this.name}-sw`, 'link', 'set', underlayPort(i), 'up']);
  }

  /** Runs argv in the internet netns (where the echo and DNS servers are). */
  inInternet(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(inNetnsArgv(this.internetNs, argv), opts);
  }

  /** What the internet's DNS server saw: lines "query NAME TYPE from ADDR". */
  internetDnsLog(): string {
    return this.dnsServer?.output() ?? '';
  }

  /** Starts a long-running process in a netns; destroy() stops it. */
  spawnIn(nsPath: string, argv: string[], env?: Record<string, string>): LabProcess {
    const p = new LabProcess(inNetnsArgv(nsPath, argv), env);
    this.helpers.add(p);
    return p;
  }

  /** Every host's berthd log, headed by its number (for a failed test's diagnostics). */
  daemonLogs(chars = 4000): string {
    return [...this.hosts.entries()]
      .map(([i, h]) => {
        const log = h.daemonLog();
        return `---- host ${i}${this.dead.has(i) ? ' (dead)' : ''} berthd:\n${log.length <= chars ? log : `…${log.slice(-chars)}`}`;
      })
      .join('\n');
  }

  /**
   * Best effort, every step runs: each live host's Lab.destroy (with its consistency check
   * while its berthd still runs), then the store, the servers, the underlay namespaces and
   * the dir. Errors are collected and thrown together at the end.
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    forgetAtTestsEnd(this);
    const { step, done } = teardownSteps(`cluster ${this.name}`);
    // one after another: a host's check must not see another host's processes half torn down
    for (const h of this.liveHosts()) await step(`host ${h.name}`, () => h.destroy());
    await step('stop helpers', () => Promise.all([...this.helpers].map((p) => p.stop('SIGKILL'))));
    const namespaces = [this.etcdNs, this.internetNs, this.routerNs, this.switchNs];
    const inodes = new Set(namespaces.map(netnsInode).filter((x): x is number => x !== undefined));
    await step('kill cluster processes', () => killLabProcesses(this.dir, inodes));
    for (const ns of namespaces) {
      if (existsSync(ns)) await step(`delete netns ${ns}`, () => runOk(['ip', 'netns', 'delete', ns.split('/').pop() ?? '']));
    }
    await step(`remove ${this.dir}`, () => rm(this.dir, { recursive: true, force: true }));
    done();
  }
}

/** Makes a cluster for one test, and always destroys it; when fn fails, the berthd logs go to the test's output. */
export async function withCluster<T>(t: TestContext, opts: ClusterOptions, fn: (cluster: Cluster) => Promise<T>): Promise<T> {
  const cluster = await Cluster.create(opts);
  return withWorld(t, cluster, () => cluster.daemonLogs(), fn);
}

/** A cluster destroyed when the test (or suite) ends: for one cluster shared by several subtests. */
export async function clusterFor(t: TestContext, opts: ClusterOptions = {}): Promise<Cluster> {
  const cluster = await Cluster.create(opts);
  t.after(() => cluster.destroy());
  return cluster;
}
