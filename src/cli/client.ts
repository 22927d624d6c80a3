import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { connect as connectNet, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { exchange, upgrade } from './wire.js';

// The CLI's way to the daemon: HTTP over the unix socket or the TCP address named by -H /
// BERTH_HOST / DOCKER_HOST, with TLS as the docker CLI's flags ask (tls-flags.ts).

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export class DaemonError extends Error {
  /** `body`: the daemon's error answer, parsed (berth's own routes add fields to the message) */
  constructor(message: string, readonly status: number, readonly body?: unknown) {
    super(message);
  }
}

export interface Response {
  status: number;
  body: unknown;
}

/** -H's transport: a unix socket, or TCP (with TLS when given). */
export type Transport = { path: string } | { host: string; port: number; tls?: ClientTls };

/** What the docker CLI's TLS flags come to, the files already read. */
export interface ClientTls {
  /** --tlsverify: the server's certificate must chain to `ca` and name the host; else it is not checked (--tls) */
  verify: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export class Client {
  readonly transport: Transport;
  private tlsModule?: typeof import('node:tls');

  /** `host` as the user named it (unix:///path, tcp://HOST:PORT), also for messages. */
  constructor(readonly host: string, tls?: ClientTls) {
    this.transport = parseClientHost(host, tls);
  }

  private get overTls(): boolean {
    return 'port' in this.transport && !!this.transport.tls;
  }

  /** A new connection to berthd; node:tls is loaded only by the first one that needs it. */
  async connect(): Promise<Duplex> {
    const t = this.transport;
    if ('path' in t) return connectNet(t.path);
    if (!t.tls) return connectNet({ host: t.host, port: t.port });
    this.tlsModule ??= await import('node:tls');
    // an IP is checked against the certificate's IP SANs; SNI must not carry one (RFC 6066)
    const servername = isIP(t.host) ? undefined : t.host;
    // what is written before the handshake ends waits for it
    return this.tlsModule.connect({ host: t.host, port: t.port, servername, ca: t.tls.ca, cert: t.tls.cert, key: t.tls.key, rejectUnauthorized: t.tls.verify });
  }

  /** A JSON call; non-2xx answers throw DaemonError with the daemon's message. */
  async call(method: string, path: string, body?: unknown): Promise<Response> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = await exchange(await this.connect(), method, path, headers(payload), payload).catch((err: Error) => {
      throw connectError(err, this.host, this.overTls);
    });
    const text = res.body;
    const parsed = text && (res.headers['content-type'] ?? '').includes('json') ? JSON.parse(text) : text;
    if (res.status >= 400) {
      const message = parsed && typeof parsed === 'object' && 'message' in parsed ? String((parsed as { message: unknown }).message) : text;
      throw new DaemonError(message, res.status, parsed);
    }
    return { status: res.status, body: parsed };
  }

  /**
   * node:http's request over this client's connection (streams, uploads, upgrades); its
   * 'error' carries the connection's, in the words connectError gives them.
   */
  async request(options: RequestOptions, onResponse?: (res: IncomingMessage) => void): Promise<ClientRequest> {
    const { request } = await import('node:http');
    const socket = await this.connect();
    const req = request({ ...options, createConnection: () => socket as Socket }, onResponse);
    // a refused connection or a failed handshake shows on the socket, before node:http owns it
    socket.once('error', (err) => req.destroy(connectError(err, this.host, this.overTls)));
    return req;
  }

  /** A streaming GET (logs, events); the caller reads the response. */
  async open(method: string, path: string, body?: unknown): Promise<IncomingMessage> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = await this.request({ method, path, headers: headers(payload) });
    return new Promise((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', (err) => reject(connectError(err, this.host, this.overTls)));
      req.end(payload);
    });
  }

  /** A hijacked connection (attach, exec start): the raw socket after the 101 answer. */
  async hijack(path: string, body?: unknown): Promise<Duplex> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const socket = await this.connect();
    const answer = await upgrade(socket, 'POST', path, headers(payload), payload).catch((err: Error) => {
      throw connectError(err, this.host, this.overTls);
    });
    if (!('status' in answer)) return answer;
    socket.destroy();
    let message = answer.body;
    try {
      message = JSON.parse(answer.body).message ?? answer.body;
    } catch {
      /* plain text */
    }
    throw new DaemonError(message, answer.status);
  }
}

/** unix:///path, or tcp://HOST[:PORT] with docker's default ports (2376 with TLS, 2375 without). */
export function parseClientHost(host: string, tls: ClientTls | undefined): Transport {
  if (host.startsWith('unix://')) return { path: host.slice('unix://'.length) };
  const m = /^tcp:\/\/(?:\[([^\]]+)\]|([^:/[\]]*))(?::(\d+))?\/?$/.exec(host);
  if (!m) throw new DaemonError(`unsupported host ${host}: use unix:///path or tcp://HOST:PORT`, 0);
  const port = m[3] ? Number(m[3]) : tls ? 2376 : 2375;
  if (port < 1 || port > 65535) throw new DaemonError(`invalid host ${host}: port ${port} is not 1-65535`, 0);
  return { host: m[1] ?? (m[2] || 'localhost'), port, tls };
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

function connectError(err: Error & { code?: string }, host: string, overTls: boolean): Error {
  if (err instanceof DaemonError) return err;
  // berthd checks a client's certificate after the handshake and closes without a word
  // (node sends no alert) when another CA signed it
  if (overTls && err.code === 'ECONNRESET') {
    return new DaemonError(`error during connect to ${host}: TLS: the daemon closed the connection (was this client's certificate signed by the daemon's --tlscacert?)`, 0);
  }
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
    return new DaemonError(`Cannot connect to the berth daemon at ${host}. Is berthd running?`, 0);
  }
  // our certificate refused by berthd, or berthd's not trusted by us
  if (err.code?.startsWith('ERR_SSL') || err.code?.startsWith('ERR_TLS') || /certificate|self.signed|handshake|alert/i.test(err.message)) {
    return new DaemonError(`error during connect to ${host}: TLS: ${err.message}`, 0);
  }
  return err;
}
