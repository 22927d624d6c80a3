// berth's embedded DNS resolver: the main-thread face.
//
// The resolver runs on its own worker thread (worker.ts) that owns every socket, so its
// latency does not depend on what the daemon's event loop is doing. It listens on each
// user-defined network's gateway address, UDP and TCP port 53, in the daemon's network
// namespace; containers get `nameserver <gateway>` in resolv.conf.
//
// A query's SOURCE address says which container asks, and so what it sees: the names of
// containers on the networks it is attached to, plus its own --link aliases. Queries from
// any other address are REFUSED. Names it does not hold are forwarded to the upstreams.
//
// How the engine drives it:
//   const dns = await EmbeddedDns.start({ upstreams: hostNameservers });   // berthd start
//   await dns.addListener(net.id, net.gateway);      // user network created (or at start-up)
//   dns.setEndpoint({ networkId, containerId, ip, names: [name, shortId, ...aliases, hostname] });
//                                                    // container started / connected
//   dns.removeEndpoint(networkId, containerId);      // container stopped / disconnected / removed
//   await dns.removeListener(net.id);                // network removed
//   await dns.stop();                                // berthd shutdown
// setEndpoint/removeEndpoint are synchronous posts applied in order, before any later
// request; `await dns.sync()` waits until everything posted so far is in effect.
import { Worker } from 'node:worker_threads';
import type { DnsStats } from './handler.js';
import { DEFAULT_LOCAL_TTL_S } from './handler.js';
import type { EndpointRecord } from './names.js';
import type { DnsReply, DnsRequest, WorkerConfig } from './protocol.js';
import { DNS_PORT } from './listener.js';

export type { EndpointRecord } from './names.js';
export type { DnsStats } from './handler.js';

export interface EmbeddedDnsOptions {
  /** Default upstream resolvers: the host's resolv.conf nameservers, minus localhost ones. "ip" or "ip:port". */
  upstreams: string[];
  /** TTL of the resolver's own answers, seconds (default 10). */
  ttl?: number;
  /** Total time to get an upstream answer before answering SERVFAIL (default 1500 ms). */
  upstreamTimeoutMs?: number;
  /** Endpoints known at start (berthd restart): the first snapshot. */
  endpoints?: EndpointRecord[];
  /** Listening port (53). Tests and benchmarks may use another one. */
  port?: number;
  /** Called if the resolver's thread dies (it should not); the daemon should log it. */
  onCrash?: (err: Error) => void;
}

interface Pending {
  resolve: (r: DnsReply) => void;
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 1500;

export class EmbeddedDns {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | undefined;

  private constructor(private readonly worker: Worker, onCrash?: (err: Error) => void) {
    worker.on('message', (r: DnsReply) => this.onReply(r));
    const die = (err: Error): void => {
      if (this.dead) return;
      this.dead = err;
      for (const p of this.pending.values()) p.resolve({ id: 0, ok: false, error: err.message });
      this.pending.clear();
      onCrash?.(err);
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`DNS resolver thread exited (code ${code})`)));
    // Listening sockets live in the worker; the daemon's own handles keep the process alive.
    worker.unref();
  }

  static async start(opts: EmbeddedDnsOptions): Promise<EmbeddedDns> {
    const config: WorkerConfig = {
      upstreams: opts.upstreams,
      ttl: opts.ttl ?? DEFAULT_LOCAL_TTL_S,
      upstreamTimeoutMs: opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
      endpoints: opts.endpoints ?? [],
      port: opts.port ?? DNS_PORT,
    };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: config });
    const dns = new EmbeddedDns(worker, opts.onCrash);
    await dns.sync();
    return dns;
  }

  /** Binds gateway:53 (UDP and TCP) for a network. Idempotent; throws if the bind fails. */
  async addListener(networkId: string, gateway: string): Promise<void> {
    await this.request({ op: 'addListener', id: 0, networkId, gateway });
  }

  /** Closes a network's listener (no-op when it has none). */
  async removeListener(networkId: string): Promise<void> {
    await this.request({ op: 'removeListener', id: 0, networkId });
  }

  /** The whole record of one container endpoint on one network (replaces any earlier one). */
  setEndpoint(e: EndpointRecord): void {
    this.post({ op: 'setEndpoint', endpoint: e });
  }

  removeEndpoint(networkId: string, containerId: string): void {
    this.post({ op: 'removeEndpoint', networkId, containerId });
  }

  /** Replaces every record at once (a full re-sync after reconciliation). */
  replaceAll(endpoints: EndpointRecord[]): void {
    this.post({ op: 'replaceAll', endpoints });
  }

  /** New default upstreams (container-specific ones are part of their records). Clears the cache. */
  setUpstreams(upstreams: string[]): void {
    this.post({ op: 'setUpstreams', upstreams });
  }

  /** Counters since start. Also a barrier: every earlier post is in effect when it resolves. */
  async stats(): Promise<DnsStats> {
    const r = await this.request({ op: 'stats', id: 0 });
    if (!r.ok || !r.stats) throw new Error('DNS resolver returned no stats');
    return r.stats;
  }

  /** Resolves once every change posted so far is in effect. */
  async sync(): Promise<void> {
    await this.stats();
  }

  /** Closes every socket and ends the thread. */
  async stop(): Promise<void> {
    if (this.dead) return;
    await this.request({ op: 'stop', id: 0 }).catch(() => undefined);
    this.dead = new Error('DNS resolver stopped');
    await this.worker.terminate();
  }

  private post(m: DnsRequest): void {
    if (this.dead) throw new Error(`DNS resolver is not running: ${this.dead.message}`);
    this.worker.postMessage(m);
  }

  private async request(m: DnsRequest & { id: number }): Promise<DnsReply & { ok: true }> {
    if (this.dead) throw new Error(`DNS resolver is not running: ${this.dead.message}`);
    const id = this.nextId++;
    const reply = new Promise<DnsReply>((resolve) => this.pending.set(id, { resolve }));
    if (this.pending.size === 1) this.worker.ref();
    this.worker.postMessage({ ...m, id });
    const r = await reply;
    if (!r.ok) throw new Error(r.error);
    return r;
  }

  private onReply(r: DnsReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0) this.worker.unref();
    p.resolve(r);
  }
}
