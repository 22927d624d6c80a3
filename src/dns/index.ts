// berth's embedded DNS resolver: the main-thread face.
//
// The resolver runs on its own worker threads (worker.ts; 2 by default) that own every
// socket, so its latency does not depend on what the daemon's event loop is doing. It
// answers at 127.0.0.11:53, UDP and TCP, INSIDE each sandbox (as Docker does), whatever
// the drivers of the sandbox's networks: the kernel worker makes the two sockets in the
// sandbox's netns and hands their fds over; the resolver thread that serves the sandbox
// adopts them and never enters the netns. Sandboxes are spread over the threads (the
// least busy one takes the next), so several event loops answer, at no thread or process
// per container. Containers get `nameserver 127.0.0.11` in resolv.conf.
//
// The SOCKET a query comes in on says which container asks, and so what it sees: the
// names of containers on the networks it is attached to, plus its own --link aliases. A
// sandbox whose container has no record (left every such network) is REFUSED. Names it
// does not hold are forwarded to the upstreams, from the daemon's netns.
//
// How the engine drives it:
//   const dns = await EmbeddedDns.start({ upstreams: hostNameservers });   // berthd start
//   dns.setEndpoint({ networkId, containerId, ip, names: [name, shortId, ...aliases, hostname] });
//                                                    // container started / connected
//   await dns.openSandbox(netns, containerId, await kernel.bindInNetns(netns, EMBEDDED_DNS_ADDRESS, DNS_PORT));
//                                                    // its first such endpoint is up
//   dns.removeEndpoint(networkId, containerId);      // container stopped / disconnected / removed
//   await dns.closeSandbox(netns);                   // before its netns is deleted
//   await dns.stop();                                // berthd shutdown
// setEndpoint/removeEndpoint are synchronous posts applied in order, before any later
// request; `await dns.sync()` waits until everything posted so far is in effect. Every
// record change goes to each thread; round-robin counters and cached upstream answers are
// shared.
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { DEFAULT_LOCAL_TTL_S, emptyStats, type DnsStats } from './handler.js';
import { newRotation, type EndpointRecord } from './names.js';
import type { WorkerConfig } from './protocol.js';
import { closeFd, type SandboxFds } from './listener.js';
import { DEFAULT_TCP_LIMITS, type TcpLimits } from './tcp-budget.js';
import { ResolverThread } from './thread.js';

export type { EndpointRecord } from './names.js';
export type { DnsStats } from './handler.js';
export type { SandboxFds } from './listener.js';
export { DEFAULT_TCP_LIMITS, type TcpLimits } from './tcp-budget.js';
export { DNS_PORT, EMBEDDED_DNS_ADDRESS } from './listener.js';

export interface EmbeddedDnsOptions {
  /** Default upstream resolvers: the host's resolv.conf nameservers, minus localhost ones. "ip" or "ip:port". */
  upstreams: string[];
  /** TTL of the resolver's own answers, seconds (default 10). */
  ttl?: number;
  /** Total time to get an upstream answer before answering SERVFAIL (default 1500 ms). */
  upstreamTimeoutMs?: number;
  /** Endpoints known at start (berthd restart): the first snapshot. */
  endpoints?: EndpointRecord[];
  /** Resolver threads (default: 2 when the machine has 2+ CPUs, else 1); each serves its share of the sandboxes. */
  threads?: number;
  /** TCP connections per sandbox and per thread, and the idle timeout (default DEFAULT_TCP_LIMITS). */
  tcpLimits?: Partial<TcpLimits>;
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

/** Checked here, not in a resolver thread (where a bad value would end the thread). */
function checkedTcpLimits(l: TcpLimits): TcpLimits {
  const whole = (n: number) => Number.isInteger(n) && n > 0;
  if (!whole(l.perSandbox) || !whole(l.perThread) || !whole(l.idleMs) || l.perSandbox >= l.perThread) {
    throw new RangeError(`invalid DNS TCP limits ${JSON.stringify(l)}: positive integers, perSandbox below perThread`);
  }
  return l;
}

export class EmbeddedDns {
  /** sandbox -> the thread that serves it */
  private readonly served = new Map<string, ResolverThread>();
  /** how many sandboxes each thread serves (kept, not counted: the start path asks every time) */
  private readonly load = new Map<ResolverThread, number>();

  private constructor(private readonly threads: ResolverThread[]) {}

  static async start(opts: EmbeddedDnsOptions): Promise<EmbeddedDns> {
    const n = Math.max(1, Math.floor(opts.threads ?? (availableParallelism() >= 2 ? 2 : 1)));
    const rotation = newRotation(true);
    const base = {
      upstreams: opts.upstreams,
      ttl: opts.ttl ?? DEFAULT_LOCAL_TTL_S,
      upstreamTimeoutMs: opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
      endpoints: opts.endpoints ?? [],
      rotation,
      tcpLimits: checkedTcpLimits({ ...DEFAULT_TCP_LIMITS, ...opts.tcpLimits }),
    };
    const onDeath = (err: Error): void => opts.onCrash?.(err);
    const peers = peerPorts(n);
    const threads = Array.from({ length: n }, (_, i) =>
      new ResolverThread({ ...base, peers: peers[i] ?? [] } satisfies WorkerConfig, onDeath));
    const dns = new EmbeddedDns(threads);
    await dns.sync();
    return dns;
  }

  /** True when the sandbox's sockets are served already. */
  serves(sandbox: string): boolean {
    return this.served.has(sandbox);
  }

  /**
   * Serves a sandbox: adopts its sockets (fds made in its netns; they are this resolver's
   * from here on, closed even when this fails), queries on them asked by `containerId`.
   * A sandbox served already keeps its sockets and the new fds are closed.
   */
  async openSandbox(sandbox: string, containerId: string, fds: SandboxFds): Promise<void> {
    const thread = this.served.has(sandbox) ? undefined : this.leastBusy();
    if (!thread) {
      closeFd(fds.udp);
      closeFd(fds.tcp);
      if (this.served.has(sandbox)) return;
      throw new Error('DNS resolver is not running');
    }
    this.serve(sandbox, thread);
    try {
      await thread.request({ op: 'openSandbox', id: 0, sandbox, containerId, udp: fds.udp, tcp: fds.tcp });
    } catch (err) {
      // a dead thread took the fds with it; a live one closed them
      this.unserve(sandbox);
      throw err;
    }
  }

  /** Closes a sandbox's sockets, so that its netns can go (no-op when not served). */
  async closeSandbox(sandbox: string): Promise<void> {
    const thread = this.served.get(sandbox);
    this.unserve(sandbox);
    if (thread?.alive) await thread.request({ op: 'closeSandbox', id: 0, sandbox });
  }

  /** How many sandboxes each thread serves, by thread. */
  sandboxesPerThread(): number[] {
    return this.threads.map((t) => this.load.get(t) ?? 0);
  }

  /** The live thread serving the fewest sandboxes. */
  private serve(sandbox: string, thread: ResolverThread): void {
    this.served.set(sandbox, thread);
    this.load.set(thread, (this.load.get(thread) ?? 0) + 1);
  }

  private unserve(sandbox: string): void {
    const thread = this.served.get(sandbox);
    if (!thread) return;
    this.served.delete(sandbox);
    this.load.set(thread, (this.load.get(thread) ?? 1) - 1);
  }

  private leastBusy(): ResolverThread | undefined {
    const counts = this.sandboxesPerThread();
    let best = -1;
    this.threads.forEach((t, i) => {
      if (t.alive && (best < 0 || (counts[i] ?? 0) < (counts[best] ?? 0))) best = i;
    });
    return this.threads[best];
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
    this.served.clear();
    this.load.clear();
    await Promise.all(this.threads.map(async (t) => {
      if (!t.alive) return;
      await t.request({ op: 'stop', id: 0 }).catch(() => undefined);
      await t.terminate();
    }));
  }
}
