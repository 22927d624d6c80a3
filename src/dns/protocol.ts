// Messages between EmbeddedDns (main thread) and the resolver's worker thread.
// Record changes are fire-and-forget (the worker applies them in order, before any later
// message); sandbox changes and stats are requests answered by id.
import type { MessagePort } from 'node:worker_threads';
import type { DnsStats } from './handler.js';
import type { EndpointRecord } from './names.js';
import type { TcpLimits } from './tcp-budget.js';

export interface WorkerConfig {
  upstreams: string[];
  ttl: number;
  upstreamTimeoutMs: number;
  endpoints: EndpointRecord[];
  /** Ports to the sibling resolver threads: answers one caches, the others cache too. */
  peers: MessagePort[];
  /** Round-robin counters shared by all resolver threads (SharedArrayBuffer). */
  rotation: Int32Array;
  /** TCP connections each sandbox and the whole thread may hold */
  tcpLimits: TcpLimits;
}

export type DnsRequest =
  | { op: 'setEndpoint'; endpoint: EndpointRecord }
  | { op: 'removeEndpoint'; networkId: string; containerId: string }
  | { op: 'replaceAll'; endpoints: EndpointRecord[] }
  | { op: 'setUpstreams'; upstreams: string[] }
  /** serve a sandbox: its UDP and listening TCP socket (fds, process-wide), asked by one container */
  | { op: 'openSandbox'; id: number; sandbox: string; containerId: string; udp: number; tcp: number }
  | { op: 'closeSandbox'; id: number; sandbox: string }
  | { op: 'stats'; id: number }
  | { op: 'stop'; id: number };

export type DnsReply =
  | { id: number; ok: true; stats?: DnsStats }
  | { id: number; ok: false; error: string };

/** A cached upstream answer shared between sibling threads. */
export interface PeerCacheFill {
  key: string;
  answer: Uint8Array;
  question: Uint8Array;
  at: number;
}
