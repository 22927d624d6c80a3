// The kill -9 drill (issue 12): a mixed workload against berthd's API — creates, runs,
// bursts of concurrent starts, connects, disconnects, stops, removals, published ports,
// static addresses, network creates and removals — while berthd is killed with SIGKILL at
// random moments and started again. After every restart, with the workload paused:
//   - the consistency check (consistency.ts): kernel, processes and store agree;
//   - nothing is lost: every container and network whose last operation was confirmed
//     is there as confirmed (a running one still runs: containers outlive berthd);
//   - the next operation works the first time (a run with a published port, then rm).
// With a cluster store (overlay: true) one network is an overlay and its claims and
// releases in etcd are cut too; the check compares etcd with the host.
// Seeded: one seed always makes the same choices (the kill moments depend on timing).
import type { Lab } from './lab.js';
import { checkConsistency, countFindings, FINDING_KINDS, type Findings } from './consistency.js';
import { sleep } from './exec.js';
import { prng } from './prng.js';

export interface DrillOptions {
  seed: number;
  /** workload operations in all (a burst counts as one) */
  operations: number;
  kills: number;
  /** workers issuing operations at once */
  concurrency: number;
  /** containers started at once by a burst */
  burst: number;
  /** at most this many containers exist at once (then removals are preferred) */
  maxContainers: number;
  /**
   * the lab's berthd has a cluster store (etcd): one of the networks is an overlay, and
   * some network creates make overlays, so kills cut claims and releases in etcd too
   * (the consistency check compares etcd with this host's endpoints)
   */
  overlay?: boolean;
  log?: (line: string) => void;
}

export interface DrillReport {
  seed: number;
  operations: number;
  kills: number;
  /** operations a kill cut (their outcome unknown until berthd was asked again) */
  cut: number;
  /** intents start-up found and finished or undone (from berthd's log) */
  intents: number;
  /** stray processes start-up killed (from berthd's log) */
  killed: number;
  /** per kind of finding, summed over every check */
  findings: Record<(typeof FINDING_KINDS)[number], number>;
  /** a few findings, verbatim */
  examples: string[];
  /** containers or networks not as their last confirmed operation left them */
  lost: string[];
  /** a 5xx from a berthd that was not being killed */
  serverErrors: string[];
  /** how long each start after a kill took, until berthd answered (start-up reconciliation included) */
  restartMs: number[];
  /** probe runs after a restart that failed */
  firstOperationFailures: string[];
}

type Known = 'created' | 'running' | 'stopped' | 'gone';


const BRIDGES = ['drill0', 'drill1', 'drill2'];
const OVERLAY = 'drillov';
const subnetOf = (i: number) => `10.90.${i}.0/24`;

class Drill {
  private readonly random: () => number;
  private readonly containers = new Map<string, Known>();
  private readonly networks = new Map<string, Known>();
  /** names with an operation in flight: one at a time per name, and unknown after a kill */
  private readonly busy = new Set<string>();
  private readonly unsure = new Set<string>();
  private next = 0;
  private done = 0;
  private paused = false;
  private killing = false;
  readonly report: DrillReport;
  /** the networks made at the start, every container picks one of them (or a later one) */
  private readonly networksAtStart: string[];

  constructor(private readonly lab: Lab, private readonly o: DrillOptions) {
    this.random = prng(o.seed);
    this.networksAtStart = o.overlay ? [...BRIDGES, OVERLAY] : BRIDGES;
    this.report = {
      seed: o.seed, operations: 0, kills: 0, cut: 0, intents: 0, killed: 0, examples: [], lost: [], serverErrors: [], firstOperationFailures: [], restartMs: [],
      findings: Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as DrillReport['findings'],
    };
  }

  private pick<T>(xs: T[]): T | undefined {
    return xs.length ? xs[Math.floor(this.random() * xs.length)] : undefined;
  }

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** One API call; a connection error while berthd is being killed is expected, a 5xx never. */
  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any } | undefined> {
    try {
      const res = await this.lab.api(method, path, body);
      if (res.status >= 500 && !this.killing) this.report.serverErrors.push(`${method} ${path}: ${res.status} ${res.text.slice(0, 160)}`);
      return res;
    } catch {
      return undefined; // the daemon went away under us
    }
  }

  /** Runs op on names (each reserved for it); a cut op leaves its names unsure. */
  private async on(names: string[], op: () => Promise<boolean>): Promise<void> {
    for (const n of names) this.busy.add(n);
    try {
      const finished = await op();
      if (!finished) {
        this.report.cut++;
        for (const n of names) this.unsure.add(n);
      }
    } finally {
      for (const n of names) this.busy.delete(n);
    }
  }

  private free(map: Map<string, Known>, want: (k: Known) => boolean): string[] {
    return [...map].filter(([n, k]) => want(k) && !this.busy.has(n) && !this.unsure.has(n)).map(([n]) => n);
  }

  private containerBody(): unknown {
    const net = this.pick([...this.networksAtStart, ...this.free(this.networks, (k) => k === 'created')])!;
    const host = this.random() < 0.08; // no netns: only its shim's command line says it runs
    const body: Record<string, any> = { Cmd: ['sleep', '100000'], HostConfig: { NetworkMode: host ? 'host' : net } };
    if (host) return body;
    if (this.random() < 0.3) {
      body.ExposedPorts = { '80/tcp': {} };
      body.HostConfig.PortBindings = { '80/tcp': [{ HostPort: String(20000 + this.int(40)) }] };
    }
    const i = this.networksAtStart.indexOf(net);
    if (i >= 0 && this.random() < 0.2) body.NetworkingConfig = { EndpointsConfig: { [net]: { IPAMConfig: { IPv4Address: `10.90.${i}.${10 + this.int(40)}` } } } };
    return body;
  }

  /** create (+ start): true when the outcome is known. */
  private async run(name: string, start: boolean): Promise<boolean> {
    const made = await this.call('POST', `/containers/create?name=${name}`, this.containerBody());
    if (!made) return false;
    if (made.status !== 201) return true;
    this.containers.set(name, 'created');
    if (!start) return true;
    const started = await this.call('POST', `/containers/${name}/start`);
    if (!started) return false;
    if (started.status === 204) this.containers.set(name, 'running');
    return true;
  }

  private async operation(): Promise<void> {
    const live = [...this.containers.values()].filter((k) => k !== 'gone').length;
    const roll = live >= this.o.maxContainers ? 0.55 + this.random() * 0.1 : this.random();
    const fresh = () => `c${this.next++}`;
    if (roll < 0.3) {
      const name = fresh();
      return this.on([name], () => this.run(name, true));
    }
    if (roll < 0.38) {
      // a burst: made one by one, started all at once
      const names = Array.from({ length: this.o.burst }, fresh);
      return this.on(names, async () => {
        for (const n of names) if (!(await this.run(n, false))) return false;
        const made = names.filter((n) => this.containers.get(n) === 'created');
        const res = await Promise.all(made.map((n) => this.call('POST', `/containers/${n}/start`)));
        res.forEach((r, i) => r?.status === 204 && this.containers.set(made[i], 'running'));
        return res.every(Boolean);
      });
    }
    if (roll < 0.5) {
      const name = this.pick(this.free(this.containers, (k) => k !== 'gone'));
      const net = this.pick([...this.networksAtStart, ...this.free(this.networks, (k) => k === 'created')]);
      if (!name || !net) return;
      const disconnect = this.random() < 0.45;
      return this.on([name, `net:${net}`], async () => {
        const r = await this.call('POST', `/networks/${net}/${disconnect ? 'disconnect' : 'connect'}`, { Container: name, Force: disconnect });
        return !!r;
      });
    }
    if (roll < 0.55) {
      const name = this.pick(this.free(this.containers, (k) => k === 'running'));
      if (!name) return;
      return this.on([name], async () => {
        const r = await this.call('POST', `/containers/${name}/stop?t=0`);
        if (r && r.status < 300) this.containers.set(name, 'stopped');
        return !!r;
      });
    }
    if (roll < 0.62) {
      const name = this.pick(this.free(this.containers, (k) => k === 'stopped' || k === 'created'));
      if (!name) return;
      return this.on([name], async () => {
        const r = await this.call('POST', `/containers/${name}/start`);
        if (r?.status === 204) this.containers.set(name, 'running');
        return !!r;
      });
    }
    if (roll < 0.9) {
      const name = this.pick(this.free(this.containers, (k) => k !== 'gone'));
      if (!name) return;
      return this.on([name], async () => {
        const r = await this.call('DELETE', `/containers/${name}?force=1`);
        if (r && (r.status === 204 || r.status === 404)) this.containers.set(name, 'gone');
        return !!r;
      });
    }
    if (roll < 0.95) {
      const name = `x${this.next++}`;
      return this.on([`net:${name}`], async () => {
        // some with a bridge name of their own: only their record (or its intent) says they are berth's
        const overlay = this.o.overlay && this.random() < 0.4;
        const options = !overlay && this.random() < 0.4 ? { 'com.docker.network.bridge.name': `drillbr${this.next}` } : {};
        const r = await this.call('POST', '/networks/create', { Name: name, CheckDuplicate: true, Options: options, ...(overlay ? { Driver: 'overlay', Attachable: true } : {}) });
        if (r?.status === 201) this.networks.set(name, 'created');
        return !!r;
      });
    }
    const net = this.pick(this.free(this.networks, (k) => k === 'created'));
    if (!net || this.busy.has(`net:${net}`)) return;
    return this.on([`net:${net}`], async () => {
      const r = await this.call('DELETE', `/networks/${net}`);
      if (r && (r.status === 204 || r.status === 404)) this.networks.set(net, 'gone');
      return !!r;
    });
  }

  private async worker(): Promise<void> {
    while (this.done < this.o.operations) {
      if (this.paused) {
        await sleep(20);
        continue;
      }
      this.done++;
      this.report.operations++;
      await this.operation();
    }
  }

  /** Kills berthd at a random moment of the workload, restarts it, checks, resumes. */
  private async killer(): Promise<void> {
    const spacing = this.o.operations / (this.o.kills + 1);
    for (let k = 0; k < this.o.kills; k++) {
      const at = Math.floor((k + 0.5 + this.random() * 0.5) * spacing);
      while (this.done < at) await sleep(5);
      // somewhere inside the operations under way: a few ms after one is in flight
      while (!this.busy.size && this.done < this.o.operations) await sleep(1);
      await sleep(this.int(25));
      // no new operation starts from here on; the ones under way are cut by the kill
      this.paused = true;
      this.killing = true;
      await this.lab.killDaemon();
      this.report.kills++;
      while (this.busy.size) await sleep(10); // the cut calls fail fast: the socket is gone
      this.killing = false;
      const t0 = Date.now();
      await this.lab.startDaemon();
      this.report.restartMs.push(Date.now() - t0);
      await this.verify(`after kill ${k + 1}`);
      this.paused = false;
    }
  }

  /** With the workload paused: the consistency check, nothing lost, the next operation works. */
  async verify(when: string): Promise<void> {
    const f: Findings = await checkConsistency(this.lab);
    for (const kind of FINDING_KINDS) {
      this.report.findings[kind] += f[kind].length;
      for (const e of f[kind]) if (this.report.examples.length < 20) this.report.examples.push(`${when}: ${kind}: ${e}`);
    }
    if (countFindings(f)) this.o.log?.(`${when}: ${countFindings(f)} finding(s)`);
    await this.checkNothingLost(when);
    const probe = `probe${this.report.kills}-${this.o.seed}`;
    const made = await this.lab.api('POST', `/containers/create?name=${probe}`, {
      Cmd: ['sleep', '100000'], ExposedPorts: { '80/tcp': {} },
      HostConfig: { NetworkMode: this.networksAtStart.at(-1), PortBindings: { '80/tcp': [{ HostPort: String(21000 + this.report.kills) }] } },
    });
    const started = made.status === 201 ? await this.lab.api('POST', `/containers/${probe}/start`) : made;
    const removed = await this.lab.api('DELETE', `/containers/${probe}?force=1`);
    for (const [what, r, want] of [['create', made, 201], ['start', started, 204], ['rm', removed, 204]] as const) {
      if (r.status !== want) this.report.firstOperationFailures.push(`${when}: ${what}: ${r.status} ${r.text.slice(0, 160)}`);
    }
  }

  private async checkNothingLost(when: string): Promise<void> {
    const list = await this.lab.api('GET', '/containers/json?all=1');
    const actual = new Map<string, string>();
    for (const c of list.body as { Names: string[]; State: string }[]) actual.set(c.Names[0].replace(/^\//, ''), c.State);
    for (const [name, known] of this.containers) {
      if (this.unsure.has(name)) continue;
      const state = actual.get(name);
      const ok = known === 'gone' ? state === undefined : known === 'running' ? state === 'running' : state !== undefined && state !== 'running';
      if (!ok) this.report.lost.push(`${when}: container ${name} was ${known}, is ${state ?? 'gone'}`);
    }
    const nets = new Set(((await this.lab.api('GET', '/networks')).body as { Name: string }[]).map((n) => n.Name));
    for (const [name, known] of this.networks) {
      if (this.unsure.has(`net:${name}`)) continue;
      if ((known === 'gone') === nets.has(name)) this.report.lost.push(`${when}: network ${name} was ${known}, is ${nets.has(name) ? 'there' : 'gone'}`);
    }
    // what a cut operation left is learnt again from berthd
    for (const name of this.unsure) {
      if (name.startsWith('net:')) this.networks.set(name.slice(4), nets.has(name.slice(4)) ? 'created' : 'gone');
      else {
        const state = actual.get(name);
        this.containers.set(name, state === undefined ? 'gone' : state === 'running' ? 'running' : 'stopped');
      }
    }
    this.unsure.clear();
  }

  async run_(): Promise<DrillReport> {
    for (const [i, name] of this.networksAtStart.entries()) {
      const driver = name === OVERLAY ? { Driver: 'overlay', Attachable: true } : {};
      const r = await this.lab.api('POST', '/networks/create', { Name: name, IPAM: { Config: [{ Subnet: subnetOf(i) }] }, ...driver });
      if (r.status !== 201) throw new Error(`drill: network ${name}: ${r.status} ${r.text}`);
    }
    await Promise.all([this.killer(), ...Array.from({ length: this.o.concurrency }, () => this.worker())]);
    const log = this.lab.daemonLog();
    this.report.intents = [...log.matchAll(/(\d+) operation\(s\) cut by a crash/g)].reduce((n, m) => n + Number(m[1]), 0);
    this.report.killed = [...log.matchAll(/(\d+) process\(es\)[^\n]*killed/g)].reduce((n, m) => n + Number(m[1]), 0)
      + (log.match(/a shim no running container knows/g) ?? []).length;
    // and a last look, then everything removed: nothing may be left then either
    await this.verify('at the end');
    for (const c of (await this.lab.api('GET', '/containers/json?all=1')).body as { Id: string }[]) await this.lab.api('DELETE', `/containers/${c.Id}?force=1`);
    for (const n of this.networks.keys()) await this.lab.api('DELETE', `/networks/${n}`);
    for (const n of this.networksAtStart) await this.lab.api('DELETE', `/networks/${n}`);
    const f = await checkConsistency(this.lab);
    for (const kind of FINDING_KINDS) {
      this.report.findings[kind] += f[kind].length;
      for (const e of f[kind]) if (this.report.examples.length < 20) this.report.examples.push(`after removing everything: ${kind}: ${e}`);
    }
    return this.report;
  }
}

export function crashDrill(lab: Lab, o: DrillOptions): Promise<DrillReport> {
  return new Drill(lab, o).run_();
}
