import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import { exchange } from './wire.js';

// The CLI's way to the daemon: HTTP over the unix socket named by -H / BERTH_HOST
// (as docker uses -H / DOCKER_HOST).

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export class DaemonError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export interface Response {
  status: number;
  body: unknown;
}

export class Client {
  readonly socketPath: string;

  constructor(host: string) {
    if (!host.startsWith('unix://')) throw new DaemonError(`unsupported host ${host}: use unix:///path`, 0);
    this.socketPath = host.slice('unix://'.length);
  }

  /** A JSON call; non-2xx answers throw DaemonError with the daemon's message. */
  async call(method: string, path: string, body?: unknown): Promise<Response> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = await exchange(this.socketPath, method, path, headers(payload), payload).catch((err: Error) => {
      throw connectError(err, this.socketPath);
    });
    const text = res.body;
    const parsed = text && (res.headers['content-type'] ?? '').includes('json') ? JSON.parse(text) : text;
    if (res.status >= 400) {
      const message = parsed && typeof parsed === 'object' && 'message' in parsed ? String((parsed as { message: unknown }).message) : text;
      throw new DaemonError(message, res.status);
    }
    return { status: res.status, body: parsed };
  }

  /** A streaming GET (logs, events); the caller reads the response. */
  async open(method: string, path: string, body?: unknown): Promise<IncomingMessage> {
    const { request } = await import('node:http');
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = unixRequest(request, { socketPath: this.socketPath, method, path, headers: headers(payload) }, resolve);
      req.on('error', (err) => reject(connectError(err, this.socketPath)));
      req.end(payload);
    });
  }

  /** A hijacked connection (attach, exec start): the raw socket after the 101 answer. */
  async hijack(path: string, body?: unknown): Promise<Duplex> {
    const { request } = await import('node:http');
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = unixRequest(request, { socketPath: this.socketPath, method: 'POST', path, headers: { ...headers(payload), Connection: 'Upgrade', Upgrade: 'tcp' } });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', async (res) => {
        const text = await readAll(res);
        let message = text;
        try {
          message = JSON.parse(text).message ?? text;
        } catch {
          /* plain text */
        }
        reject(new DaemonError(message, res.statusCode ?? 500));
      });
      req.on('error', (err) => reject(connectError(err, this.socketPath)));
      req.end(payload);
    });
  }
}

type HttpRequest = typeof import('node:http').request;

/** http.request for a unix socket (node:http is loaded only by the commands that stream).
 *  The servername keeps node's agent from guessing a TLS name from the host (its IPv6
 *  regex costs ~20 ms to compile on first use); there is no TLS here: it is never sent. */
export function unixRequest(request: HttpRequest, options: RequestOptions & { socketPath: string }, onResponse?: (res: IncomingMessage) => void): ClientRequest {
  return request({ ...options, servername: 'berth' } as RequestOptions, onResponse);
}

function headers(payload: string | undefined): Record<string, string> {
  const h: Record<string, string> = { 'User-Agent': 'berth-cli' };
  if (payload !== undefined) {
    h['Content-Type'] = 'application/json';
    h['Content-Length'] = String(Buffer.byteLength(payload));
  }
  return h;
}

export async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function connectError(err: Error & { code?: string }, socket: string): Error {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
    return new DaemonError(`Cannot connect to the berth daemon at unix://${socket}. Is berthd running?`, 0);
  }
  return err;
}
