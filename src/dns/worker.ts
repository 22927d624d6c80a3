// The resolver's own thread: it owns the name table, the cache and the sockets of the
// sandboxes it serves, so answering never waits for the daemon's event loop (SQLite
// writes, API requests, kernel replies). The main thread only posts record changes here.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { DnsHandler } from './handler.js';
import { SandboxListener, closeFd } from './listener.js';
import { NameTable } from './names.js';
import { TcpBudget } from './tcp-budget.js';
import { BatchIo } from './udp-batch.js';
import type { DnsReply, DnsRequest, PeerCacheFill, WorkerConfig } from './protocol.js';
import { UpstreamClient } from './upstream.js';

const config = workerData as WorkerConfig;
const table = new NameTable(config.rotation);
table.replaceAll(config.endpoints);
const upstream = new UpstreamClient(config.upstreamTimeoutMs);
const handler = new DnsHandler(table, upstream, config.ttl);
handler.setUpstreams(config.upstreams);
handler.onCached = (key, answer, question, at) => {
  for (const p of config.peers) p.postMessage({ key, answer, question, at } satisfies PeerCacheFill);
};
for (const p of config.peers) {
  p.on('message', (m: PeerCacheFill) => {
    handler.cache.put(m.key, Buffer.from(m.answer), Buffer.from(m.question), m.at);
  });
  p.unref();
}
const tcpBudget = new TcpBudget(config.tcpLimits);
/** bulk UDP for every sandbox of this thread; without it (koffi failed) datagrams go one by one */
let io: BatchIo | undefined;
try {
  io = new BatchIo();
} catch {
  io = undefined;
}
/** sandbox (its netns path) -> its sockets */
const sandboxes = new Map<string, SandboxListener>();

function reply(r: DnsReply): void {
  parentPort?.postMessage(r);
}

async function openSandbox(m: Extract<DnsRequest, { op: 'openSandbox' }>): Promise<void> {
  if (sandboxes.has(m.sandbox)) {
    // served already (EmbeddedDns asks once per sandbox; a replay must not leak these)
    closeFd(m.udp);
    closeFd(m.tcp);
    return;
  }
  const l = new SandboxListener(m.containerId, handler, tcpBudget, io);
  await l.adopt({ udp: m.udp, tcp: m.tcp });
  sandboxes.set(m.sandbox, l);
}

async function closeSandbox(sandbox: string): Promise<void> {
  const l = sandboxes.get(sandbox);
  sandboxes.delete(sandbox);
  await l?.close();
}

async function stop(): Promise<void> {
  await Promise.all([...sandboxes.values()].map((l) => l.close()));
  sandboxes.clear();
  upstream.close();
  io?.free();
  io = undefined;
}

async function onRequest(m: DnsRequest): Promise<void> {
  switch (m.op) {
    case 'setEndpoint': return table.set(m.endpoint);
    case 'removeEndpoint': return table.remove(m.networkId, m.containerId);
    case 'replaceAll': return table.replaceAll(m.endpoints);
    case 'setUpstreams': return handler.setUpstreams(m.upstreams);
    case 'openSandbox':
      await openSandbox(m);
      return reply({ id: m.id, ok: true });
    case 'closeSandbox':
      await closeSandbox(m.sandbox);
      return reply({ id: m.id, ok: true });
    case 'stats':
      return reply({ id: m.id, ok: true, stats: { ...handler.stats, cpuMs: threadCpuMs() } });
    case 'stop':
      await stop();
      return reply({ id: m.id, ok: true });
  }
}

/**
 * This thread's CPU time (user + system, ms), from /proc/thread-self/stat (fields 14 and 15,
 * in USER_HZ ticks, 100 a second on Linux): what answering costs, apart from the daemon's
 * other threads. 0 where /proc cannot tell.
 */
function threadCpuMs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

// Sandbox changes adopt or close sockets (async): they run one after another, in order.
let chain: Promise<void> = Promise.resolve();

parentPort?.on('message', (m: DnsRequest) => {
  const fail = (err: Error): void => {
    if ('id' in m) reply({ id: m.id, ok: false, error: err.message });
  };
  if (m.op === 'openSandbox' || m.op === 'closeSandbox' || m.op === 'stop') {
    chain = chain.then(() => onRequest(m)).catch(fail);
  } else {
    onRequest(m).catch(fail);
  }
});
