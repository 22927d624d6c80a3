// The resolver's own thread: it owns the name table, the cache and every socket, so
// answering never waits for the daemon's event loop (SQLite writes, API requests, kernel
// replies). The main thread only posts record changes here.
import { parentPort, workerData } from 'node:worker_threads';
import { DnsHandler } from './handler.js';
import { Listener } from './listener.js';
import { NameTable } from './names.js';
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
const listeners = new Map<string, Listener>();

function reply(r: DnsReply): void {
  parentPort?.postMessage(r);
}

async function addListener(networkId: string, gateway: string): Promise<void> {
  const existing = listeners.get(networkId);
  if (existing?.gateway === gateway) return;
  existing?.close();
  listeners.delete(networkId);
  const l = new Listener(gateway, handler, { port: config.port, reusePort: config.reusePort, tcp: config.tcp });
  await l.start();
  listeners.set(networkId, l);
}

function stop(): void {
  for (const l of listeners.values()) l.close();
  listeners.clear();
  upstream.close();
}

async function onRequest(m: DnsRequest): Promise<void> {
  switch (m.op) {
    case 'setEndpoint': return table.set(m.endpoint);
    case 'removeEndpoint': return table.remove(m.networkId, m.containerId);
    case 'replaceAll': return table.replaceAll(m.endpoints);
    case 'setUpstreams': return handler.setUpstreams(m.upstreams);
    case 'addListener':
      await addListener(m.networkId, m.gateway);
      return reply({ id: m.id, ok: true });
    case 'removeListener':
      listeners.get(m.networkId)?.close();
      listeners.delete(m.networkId);
      return reply({ id: m.id, ok: true });
    case 'stats':
      return reply({ id: m.id, ok: true, stats: { ...handler.stats } });
    case 'stop':
      stop();
      return reply({ id: m.id, ok: true });
  }
}

// Listener changes bind sockets (async): they run one after another, in order.
let chain: Promise<void> = Promise.resolve();

parentPort?.on('message', (m: DnsRequest) => {
  const fail = (err: Error): void => {
    if ('id' in m) reply({ id: m.id, ok: false, error: err.message });
  };
  if (m.op === 'addListener' || m.op === 'removeListener' || m.op === 'stop') {
    chain = chain.then(() => onRequest(m)).catch(fail);
  } else {
    onRequest(m).catch(fail);
  }
});
