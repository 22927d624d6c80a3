// berth's embedded DNS resolver: the main-thread face.
//
// The resolver runs on its own worker threads (worker.ts; 2 by default, each with its own
// SO_REUSEPORT UDP socket per listener, thread 0 also serving TCP) that own every socket,
// so its latency does not depend on what the daemon's event loop is doing. It listens on each
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
// request; `await dns.sync()` waits until everything posted so far is in effect. Every
// call goes to each thread; round-robin counters and cached upstream answers are shared.
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { DEFAULT_LOCAL_TTL_S, emptyStats, type DnsStats } from './handler.js';
import { newRotation, type EndpointRecord } from './names.js';
import type { WorkerConfig } from './protocol.js';
import { DNS_PORT } from './listener.js';
import { ResolverThread } from './thread.js';

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
  /**
   * Resolver threads (default: 2 when the machine has 2+ CPUs, else 1). With more than
   * one, each binds its own UDP socket with SO_REUSEPORT; thread 0 also serves TCP.
   */
  threads?: number;
  /** Called if a resolver thread dies (it should not); the daemon should log it. */
  onCrash?: (err: Error) => void;
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 1500;

/** A channel between every two threads: ports[i] are thread i's ends. */
function peerPorts(n: number): MessagePort[][] {
  const ports: MessagePort[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const ch = new MessageChannel();
      ports[i]?.push(ch.port1);
      ports[j]?.push(ch.port2);
    }
  }
  return ports;
}

export class EmbeddedDns {
  private constructor(private readonly threads: ResolverThread[]) {}

  static async start(opts: EmbeddedDnsOptions): Promise<EmbeddedDns> {
    const n = Math.max(1, Math.floor(opts.threads ?? (availableParallelism() >= 2 ? 2 : 1)));
    const rotation = newRotation(true);
    const base = {
      upstreams: opts.upstreams,
      ttl: opts.ttl ?? DEFAULT_LOCAL_TTL_S,
      upstreamTimeoutMs: opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
      endpoints: opts.endpoints ?? [],
      port: opts.port ?? DNS_PORT,
      reusePort: n > 1,
      rotation,
    };
    const onDeath = (err: Error): void => opts.onCrash?.(err);
    const peers = peerPorts(n);
    const threads = Array.from({ length: n }, (_, i) =>
      new ResolverThread({ ...base, tcp: i === 0, peers: peers[i] ?? [] } satisfies WorkerConfig, onDeath));
    const dns = new EmbeddedDns(threads);
    await dns.sync();
    return dns;
  }

  /** Binds gateway:53 (UDP and TCP) for a network. Idempotent; throws if the bind fails. */
  async addListener(networkId: string, gateway: string): Promise<void> {
    try {
      await Promise.all(this.threads.map((t) => t.request({ op: 'addListener', id: 0, networkId, gateway })));
    } catch (err) {
      await this.removeListener(networkId).catch(() => undefined);
      throw err;
    }
  }

  /** Closes a network's listener (no-op when it has none). */
  async removeListener(networkId: string): Promise<void> {
    await Promise.all(this.threads.map((t) => t.request({ op: 'removeListener', id: 0, networkId })));
  }

  /** The whole record of one container endpoint on one network (replaces any earlier one). */
  setEndpoint(e: EndpointRecord): void {
    for (const t of this.threads) t.post({ op: 'setEndpoint', endpoint: e });
  }

  removeEndpoint(networkId: string, containerId: string): void {
    for (const t of this.threads) t.post({ op: 'removeEndpoint', networkId, containerId });
  }

  /** Replaces every record at once (a full re-sync after reconciliation). */
  replaceAll(endpoints: EndpointRecord[]): void {
    for (const t of this.threads) t.post({ op: 'replaceAll', endpoints });
  }

  /** New default upstreams (container-specific ones are part of their records). Clears the cache. */
  setUpstreams(upstreams: string[]): void {
    for (const t of this.threads) t.post({ op: 'setUpstreams', upstreams });
  }

  /** Counters since start, summed over threads. Also a barrier: every earlier post is in effect. */
  async stats(): Promise<DnsStats> {
    const all = await Promise.all(this.threads.map((t) => t.request({ op: 'stats', id: 0 })));
    const sum = emptyStats();
    for (const r of all) {
      for (const k of Object.keys(sum) as (keyof DnsStats)[]) sum[k] += r.stats?.[k] ?? 0;
    }
    return sum;
  }

  /** Resolves once every change posted so far is in effect. */
  async sync(): Promise<void> {
    await this.stats();
  }

  /** Closes every socket and ends the threads. */
  async stop(): Promise<void> {
    await Promise.all(this.threads.map(async (t) => {
      if (!t.alive) return;
      await t.request({ op: 'stop', id: 0 }).catch(() => undefined);
      await t.terminate();
    }));
  }
}
