// Asking upstream resolvers: UDP from one shared socket (random query ids, answers
// matched on id + source + question), retried across the upstreams within one time
// budget, and TCP when a UDP answer comes back truncated. Never waits past the budget:
// the budget (1.5 s by default) is well under a client's own 5 s timeout, so the client
// gets our SERVFAIL instead of timing out and its own fallback still has time to help.
// Upstreams of either family: one UDP socket per family, TCP to whichever address.
import { createSocket, type Socket } from 'node:dgram';
import { connect, isIPv4 } from 'node:net';
import { ipv6Hex } from './ip6.js';
import { HEADER_LEN } from './wire.js';

export interface Upstream {
  host: string;
  port: number;
}

/**
 * "1.2.3.4", "1.2.3.4:5353", "2001:db8::1", "[2001:db8::1]:5353", "fe80::1%eth0"
 * (a link-local one needs its zone); undefined for anything else.
 */
export function parseUpstream(s: string): Upstream | undefined {
  const t = s.trim();
  const v4 = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(t);
  const v6 = v4 ? undefined : /^\[([^\]]+)\](?::(\d+))?$/.exec(t) ?? /^([0-9a-fA-F:.]*:[0-9a-fA-F:.]*(?:%[\w.-]+)?)()$/.exec(t);
  const m = v4 ?? v6;
  if (!m) return undefined;
  const host = m[1] as string;
  if (v4 ? !isIPv4(host) : ipv6Hex(host) === undefined) return undefined;
  const port = m[2] === undefined || m[2] === '' ? 53 : Number(m[2]);
  return port > 0 && port < 65536 ? { host, port } : undefined;
}

/** An upstream's identity as an answer's source shows it: IPv6 by value, without its zone (the socket reports none). */
function sourceKey(host: string, port: number): string {
  return `${host.includes(':') ? (ipv6Hex(host) ?? host) : host}|${port}`;
}

/** Query ids are 16 bits: past this many in flight, answer SERVFAIL rather than search for a free one. */
const MAX_PENDING = 30_000;

export class UpstreamError extends Error {}

interface Pending {
  question: string;
  resolve: (b: { msg: Buffer; from: Upstream }) => void;
}

function questionKey(msg: Buffer, len: number): string {
  return msg.toString('latin1', HEADER_LEN, HEADER_LEN + len).toLowerCase();
}

export class UpstreamClient {
  private readonly sockets = new Map<'udp4' | 'udp6', Socket>();
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly budgetMs: number) {}

  /**
   * Sends a query (bytes as the client sent them) and returns the first matching answer,
   * with the client's id. questionLength: bytes of the question after the header.
   * Throws UpstreamError when no upstream answered in time.
   */
  async query(msg: Buffer, questionLength: number, upstreams: Upstream[], tcpIfTruncated: boolean): Promise<Buffer> {
    if (upstreams.length === 0) throw new UpstreamError('no upstream resolvers');
    if (this.pending.size >= MAX_PENDING) throw new UpstreamError('too many queries in flight');
    const deadline = Date.now() + this.budgetMs;
    const clientId = msg.readUInt16BE(0);
    const viaUdp = await this.udp(msg, questionLength, upstreams, deadline);
    let answer = viaUdp.msg;
    if (tcpIfTruncated && ((answer[2] ?? 0) & 0x02) !== 0) {
      answer = await this.tcp(msg, viaUdp.from, deadline).catch(() => answer);
    }
    const out = Buffer.from(answer);
    out.writeUInt16BE(clientId, 0);
    return out;
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
    for (const p of this.pending.values()) p.resolve = () => undefined;
    this.pending.clear();
  }

  /** The shared socket for an upstream's family, made on first use. */
  private sock(u: Upstream): Socket {
    const family = u.host.includes(':') ? 'udp6' : 'udp4';
    const have = this.sockets.get(family);
    if (have) return have;
    const s = createSocket(family === 'udp6' ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
    s.on('message', (m, r) => this.onAnswer(m, { host: r.address, port: r.port }));
    s.on('error', () => undefined); // per-packet errors (ICMP) must not kill the worker
    s.bind(0);
    s.unref();
    this.sockets.set(family, s);
    return s;
  }

  private onAnswer(msg: Buffer, from: Upstream): void {
    if (msg.length < HEADER_LEN) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (!p || !(((msg[2] ?? 0) & 0x80) !== 0)) return;
    if (questionKey(msg, p.question.length) !== p.question) return;
    p.resolve({ msg, from });
  }

  private freshId(): number {
    for (;;) {
      const id = Math.floor(Math.random() * 0x10000);
      if (!this.pending.has(id)) return id;
    }
  }

  private udp(msg: Buffer, qlen: number, ups: Upstream[], deadline: number): Promise<{ msg: Buffer; from: Upstream }> {
    const id = this.freshId();
    const out = Buffer.from(msg);
    out.writeUInt16BE(id, 0);
    const asked = new Set<string>();
    const slice = Math.max(100, Math.floor((deadline - Date.now()) / 3));
    return new Promise((resolve, reject) => {
      let attempt = 0;
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        this.pending.delete(id);
      };
      const send = (): void => {
        if (Date.now() >= deadline) {
          finish();
          reject(new UpstreamError(`no answer from ${ups.map((u) => u.host).join(', ')}`));
          return;
        }
        const u = ups[attempt++ % ups.length] as Upstream;
        asked.add(sourceKey(u.host, u.port));
        this.sock(u).send(out, u.port, u.host, () => undefined);
        timer = setTimeout(send, Math.min(slice, Math.max(1, deadline - Date.now())));
      };
      this.pending.set(id, {
        question: questionKey(msg, qlen),
        resolve: (a) => {
          if (!asked.has(sourceKey(a.from.host, a.from.port))) return;
          finish();
          resolve(a);
        },
      });
      send();
    });
  }

  private tcp(msg: Buffer, u: Upstream, deadline: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const c = connect({ host: u.host, port: u.port });
      let got = Buffer.alloc(0);
      const timer = setTimeout(() => fail(new UpstreamError(`TCP to ${u.host} timed out`)), Math.max(1, deadline - Date.now()));
      const fail = (e: Error): void => {
        clearTimeout(timer);
        c.destroy();
        reject(e);
      };
      c.on('error', fail);
      c.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(msg.length, 0);
        c.write(Buffer.concat([len, msg]));
      });
      c.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length < 2 || got.length < 2 + got.readUInt16BE(0)) return;
        clearTimeout(timer);
        c.destroy();
        resolve(got.subarray(2, 2 + got.readUInt16BE(0)));
      });
      c.on('end', () => fail(new UpstreamError(`TCP to ${u.host} closed early`)));
    });
  }
}
