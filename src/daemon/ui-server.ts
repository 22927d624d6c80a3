import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Controller } from '../engine/controller.js';
import { buildTopology } from '../engine/topology.js';

// berthd --ui ADDR:PORT: the topology page, on a listener of its own (off by default).
// It serves the page, its script (dist/ui/app.js) and elkjs from the package, the
// topology (GET /graph) and berth's events as server-sent events (GET /events), which
// the page redraws on. Read-only: nothing here changes berth. Only loopback unless the
// user says otherwise, with a warning: the page shows every container's addresses.

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>berth: the network of this host</title>
<style>body{font-family:system-ui,sans-serif;margin:0;color:#0f172a}header{padding:8px 14px;background:#0f172a;color:#f8fafc;display:flex;gap:16px;align-items:baseline}
header b{font-size:16px}#status{font-size:12px;opacity:.8}#graph{padding:10px;overflow:auto}#graph g.network{cursor:pointer}</style></head>
<body><header><b>berth</b><span id="status">drawing…</span></header><div id="graph"></div>
<script src="elk.js"></script><script src="app.js"></script></body></html>
`;

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address.startsWith('127.') || address === '::1';
}

/** "127.0.0.1:7070", "[::1]:7070", "localhost:7070" → host and port. */
export function parseUiAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!host || !(port > 0 && port < 65536) || (host !== 'localhost' && !isIP(host))) throw new Error(`--ui ${text}: expected ADDRESS:PORT (127.0.0.1:7070, [::1]:7070)`);
  return { host, port };
}

export async function startUi(ctl: Controller, at: { host: string; port: number }): Promise<Server> {
  const require = createRequire(import.meta.url);
  const elk = readFileSync(require.resolve('elkjs/lib/elk.bundled.js'));
  const app = readFileSync(fileURLToPath(new URL('../../ui/app.js', import.meta.url)));
  const send = (res: ServerResponse, type: string, body: string | Buffer) => {
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(body);
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/') return send(res, 'text/html; charset=utf-8', PAGE);
    if (path === '/app.js') return send(res, 'text/javascript', app);
    if (path === '/elk.js') return send(res, 'text/javascript', elk);
    if (path === '/graph') return send(res, 'application/json', JSON.stringify(buildTopology(ctl.state, ctl.networks, ctl.globalEndpoints?.remoteEndpoints())));
    if (path === '/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': berth events\n\n');
      const stop = ctl.events.subscribe((ev) => res.write(`data: ${JSON.stringify({ type: ev.Type, action: ev.Action, id: ev.Actor.ID })}\n\n`));
      req.on('close', stop);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
  return server;
}
