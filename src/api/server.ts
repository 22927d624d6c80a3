import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { statusOf, InvalidParameterError, NotFoundError } from '../util/errors.js';
import { API_VERSION, Router, splitVersion, type Reply, type Request } from './router.js';

// HTTP over a unix socket (or TCP, with mutual TLS), Docker Engine API style: version
// headers on every response, errors as {"message": …} with Docker's status codes,
// hijacked connections for attach/exec streams (Upgrade: tcp). A client that hangs up
// is its own business: at most a debug line, never an error with a stack.

export const SERVER_VERSION = '0.1.0';

/** What a handler returns: a JSON reply, or nothing when it wrote the response itself. */
export interface JsonReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Where to serve: a unix socket made at `path`, a listening one handed over (`fd`, from systemd), or TCP (with TLS when given). */
export type Endpoint = { path: string } | { fd: number } | { address: string; port: number; tls?: HttpsOptions };

/** The daemon's log as the server uses it: errors, and debug lines for clients that went away. */
export interface ServerLog {
  (msg: string): void;
  debug?(msg: string): void;
}

/** Serves the API on one endpoint; berthd calls it once per -H. */
export function listen(router: Router, on: Endpoint, log: ServerLog): Promise<Server> {
  if ('path' in on) {
    mkdirSync(dirname(on.path), { recursive: true });
    rmSync(on.path, { force: true });
  }
  // half-open as node's plain HTTP server: the docker CLI ends its side of an exec or attach
  // stream (a TLS close_notify) when its stdin is done, and still reads the output
  const server: Server = 'port' in on && on.tls ? createHttpsServer({ ...on.tls, allowHalfOpen: true }) : createServer();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => void dispatch(router, req, res, undefined, () => readJson(req), log));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // node leaves an upgraded socket without an 'error' listener: a client that hangs up
    // mid-stream would otherwise be an uncaught exception
    socket.on('error', (err: NodeJS.ErrnoException) => log.debug?.(`${req.method} ${req.url}: client went away (${err.code ?? err.message})`));
    const res = new UpgradeResponse(req, socket);
    const body = upgradeBody(req, socket, head).then(parseJson);
    body.catch(() => undefined); // a handler that never asks for it must not leave it unhandled
    void dispatch(router, req, res as unknown as ServerResponse, socket, () => body, log);
  });
  // a failed handshake (no client certificate, another CA's, plain HTTP on the TLS port) is
  // the client's business: one debug line, never an error in the log
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const peer = socket.remoteAddress ? ` with ${socket.remoteAddress}:${socket.remotePort}` : ''; // unknown once it hung up
    log.debug?.(`TLS handshake${peer} refused: ${err.code ?? err.message}`);
    socket.destroy();
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if ('fd' in on) {
      server.listen({ fd: on.fd }, () => resolve(server));
    } else if ('port' in on) {
      server.listen({ host: on.address, port: on.port }, () => resolve(server));
    } else {
      server.listen(on.path, () => {
        chmodSync(on.path, 0o660);
        resolve(server);
      });
    }
  });
}

async function dispatch(router: Router, raw: IncomingMessage, res: ServerResponse, hijack: Duplex | undefined, body: () => Promise<unknown>, log: ServerLog): Promise<void> {
  const url = new URL(raw.url ?? '/', 'http://berth');
  try {
    const { version, path } = splitVersion(url.pathname);
    const m = router.match(raw.method ?? 'GET', path);
    if (m === undefined) throw new NotFoundError(`page not found: ${raw.method} ${url.pathname}`);
    if (m === 'method') throw new NotFoundError(`method not allowed: ${raw.method} ${url.pathname}`);
    const req: Request = { method: raw.method ?? 'GET', path, params: m.params, query: url.searchParams, version, raw, body };
    if (router.writesHeld && req.method !== 'GET' && req.method !== 'HEAD') await router.writesHeld;
    const reply: Reply = { res, hijack };
    const result = (await m.handler(req, reply)) as JsonReply | undefined;
    if (result) send(res, result.status, result.body, result.headers);
  } catch (err) {
    if (clientWentAway(raw, hijack, err)) {
      log.debug?.(`${raw.method} ${url.pathname}: client went away (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return;
    }
    const status = statusOf(err);
    if (status >= 500) log(`${raw.method} ${url.pathname}: ${(err as Error).stack ?? err}`);
    if (!res.headersSent) send(res, status, { message: (err as Error).message });
    else res.end();
  }
}

/** Errors of the connection to the client (it hung up mid-request), not of berth. */
const CONNECTION_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/** Only when the client's socket is gone too: a handler's own ECONNRESET (from a plugin, etcd) is berth's error. */
function clientWentAway(raw: IncomingMessage, hijack: Duplex | undefined, err: unknown): boolean {
  const socket = hijack ?? raw.socket;
  const gone = !socket || socket.destroyed || !socket.writable;
  return gone && CONNECTION_ERRORS.has((err as NodeJS.ErrnoException)?.code ?? '');
}

export function commonHeaders(): Record<string, string> {
  return { 'Api-Version': API_VERSION, Server: `Berth/${SERVER_VERSION} (linux)`, Ostype: 'linux', 'Docker-Experimental': 'false' };
}

export function send(res: ServerResponse, status: number, body?: unknown, extra: Record<string, string> = {}): void {
  const headers: Record<string, string> = { ...commonHeaders(), ...extra };
  let payload = '';
  if (body !== undefined) {
    if (typeof body === 'string') {
      headers['Content-Type'] = 'text/plain; charset=utf-8';
      payload = body;
    } else {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body) + '\n';
    }
  }
  headers['Content-Length'] = String(Buffer.byteLength(payload));
  res.writeHead(status, headers);
  res.end(res.req?.method === 'HEAD' ? undefined : payload);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return parseJson(Buffer.concat(chunks));
}

/**
 * The body of a request that asked to hijack the connection. Node's parser stops at the
 * headers of an upgrade request: the body (Content-Length bytes, e.g. exec start's
 * {"Detach":false,"Tty":false}) is in `head` and whatever the socket brings next, and
 * must be taken off the stream before it becomes the process's stdin.
 */
function upgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(length) || length <= 0) {
    if (head.length) socket.unshift(head);
    return Promise.resolve(Buffer.alloc(0));
  }
  return new Promise((resolve, reject) => {
    let got = head;
    const done = (): boolean => {
      if (got.length < length) return false;
      socket.off('data', onData).off('end', onEnd).off('error', onEnd);
      socket.pause();
      if (got.length > length) socket.unshift(got.subarray(length));
      resolve(got.subarray(0, length));
      return true;
    };
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      done();
    };
    const onEnd = (): void => reject(new InvalidParameterError('request body ended early'));
    if (done()) return;
    socket.on('data', onData).on('end', onEnd).on('error', onEnd);
  });
}

function parseJson(raw: Buffer): unknown {
  const text = raw.toString('utf8').trim();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidParameterError('invalid JSON in request body');
  }
}

/**
 * The minimal ServerResponse surface our handlers use, over a socket that came through
 * 'upgrade' (Node hands such requests to the upgrade event, not the request handler).
 */
class UpgradeResponse {
  headersSent = false;
  constructor(readonly req: IncomingMessage, private readonly socket: Duplex) {}
  writeHead(status: number, headers: Record<string, string>): this {
    this.headersSent = true;
    if (!this.socket.writable) return this; // the client is gone; its 'error' is handled
    const reason = status === 101 ? 'UPGRADED' : status < 300 ? 'OK' : 'Error';
    const lines = [`HTTP/1.1 ${status} ${reason}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
    this.socket.write(lines.join('\r\n'));
    return this;
  }
  end(data?: string): void {
    if (!this.socket.writable) return;
    if (data) this.socket.write(data);
    this.socket.end();
  }
}
