// The resolver's sockets on one network's gateway address: UDP and TCP port 53. TCP
// messages carry a 2-byte length prefix; a connection may send several queries, answers
// go back in whatever order they finish. Idle or oversized connections are closed, so a
// stuck client costs a socket for a few seconds at most.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { DnsHandler, Reply } from './handler.js';
import { reusePortUdpFd } from './reuseport.js';

export interface ListenerOptions {
  port: number;
  /** Share the UDP port with the other resolver threads (SO_REUSEPORT). */
  reusePort: boolean;
  /** Serve TCP too (one thread does). */
  tcp: boolean;
}

export const DNS_PORT = 53;
const TCP_IDLE_MS = 10_000;
const MAX_TCP_CONNECTIONS = 512;

export class Listener {
  private udp: Socket | undefined;
  private tcp: Server | undefined;

  private readonly port: number;

  constructor(
    readonly gateway: string,
    private readonly handler: DnsHandler,
    private readonly opts: ListenerOptions = { port: DNS_PORT, reusePort: false, tcp: true },
  ) {
    this.port = opts.port;
  }

  /** Binds both sockets; on failure neither stays bound. */
  async start(): Promise<void> {
    try {
      this.udp = await this.bindUdp();
      if (this.opts.tcp) this.tcp = await this.bindTcp();
    } catch (err) {
      this.close();
      throw new Error(`cannot listen for DNS on ${this.gateway}:${this.port}: ${(err as Error).message}`);
    }
  }

  close(): void {
    this.udp?.close();
    this.tcp?.close();
    this.udp = undefined;
    this.tcp = undefined;
  }

  private bindUdp(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      const where = this.opts.reusePort ? { fd: reusePortUdpFd(this.gateway, this.port) } : { port: this.port, address: this.gateway };
      s.bind(where, () => {
        s.off('error', reject);
        s.on('error', () => undefined); // e.g. ICMP-caused send errors: never fatal
        s.on('message', (msg, rinfo) => this.onDatagram(s, msg, rinfo.address, rinfo.port));
        resolve(s);
      });
    });
  }

  private onDatagram(s: Socket, msg: Buffer, address: string, port: number): void {
    const send = (r: Reply): void => {
      if (r && this.udp === s) s.send(r, port, address); // no callback: lets Node try a direct send
    };
    const r = this.handler.handle(msg, address, 'udp');
    if (r instanceof Promise) r.then(send, () => undefined);
    else send(r);
  }

  private bindTcp(): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((c) => this.onConnection(server, c));
      server.maxConnections = MAX_TCP_CONNECTIONS;
      server.once('error', reject);
      server.listen({ port: this.port, host: this.gateway, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        resolve(server);
      });
    });
  }

  private onConnection(server: Server, c: TcpSocket): void {
    let buf: Buffer = Buffer.alloc(0);
    const address = c.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    c.setTimeout(TCP_IDLE_MS, () => c.destroy());
    c.on('error', () => undefined);
    const reply = (r: Reply): void => {
      if (!r || c.destroyed) return;
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(r.length, 0);
      c.write(Buffer.concat([len, r]));
    };
    c.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const r = this.handler.handle(msg, address, 'tcp');
        if (r instanceof Promise) r.then(reply, () => undefined);
        else reply(r);
      }
      if (this.tcp !== server) c.destroy();
    });
  }
}
