// The resolver's sockets in one sandbox: UDP and TCP on 127.0.0.11:53 inside the
// container's netns, made there by the kernel worker and adopted here by fd. Whoever
// reaches them is that sandbox's container: the socket, not the source address, says who
// asks. TCP messages carry a 2-byte length prefix; a connection may send several queries,
// answers go back in whatever order they finish. Idle or oversized connections are
// closed, so a stuck client costs a socket for a few seconds at most.
import { createSocket, type Socket } from 'node:dgram';
import { closeSync } from 'node:fs';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { DnsHandler, Reply } from './handler.js';

/** Where the resolver answers inside every sandbox (Docker's address). */
export const EMBEDDED_DNS_ADDRESS = '127.0.0.11';
export const DNS_PORT = 53;
const TCP_IDLE_MS = 10_000;
const MAX_TCP_CONNECTIONS = 64;

export interface SandboxFds {
  udp: number;
  tcp: number;
}

export class SandboxListener {
  private udp: Socket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<TcpSocket>();

  constructor(
    /** the container whose sandbox this is: its view decides every answer */
    readonly containerId: string,
    private readonly handler: DnsHandler,
  ) {}

  /** Adopts both fds; on failure none stays open. */
  async adopt(fds: SandboxFds): Promise<void> {
    let udpTaken = false;
    let tcpTaken = false;
    try {
      this.udp = await this.adoptUdp(fds.udp);
      udpTaken = true;
      this.tcp = await this.adoptTcp(fds.tcp);
      tcpTaken = true;
    } catch (err) {
      await this.close();
      if (!udpTaken) closeFd(fds.udp);
      if (!tcpTaken) closeFd(fds.tcp);
      throw new Error(`cannot serve DNS in the sandbox of ${this.containerId}: ${(err as Error).message}`);
    }
  }

  /** Resolves once every socket is closed (then the sandbox's netns is no longer held). */
  async close(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    await Promise.all([
      udp && new Promise<void>((resolve) => udp.close(() => resolve())),
      tcp && new Promise<void>((resolve) => tcp.close(() => resolve())),
    ]);
  }

  private adoptUdp(fd: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind({ fd }, () => {
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
    const r = this.handler.handle(msg, this.containerId, 'udp');
    if (r instanceof Promise) r.then(send, () => undefined);
    else send(r);
  }

  private adoptTcp(fd: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((c) => this.onConnection(server, c));
      server.maxConnections = MAX_TCP_CONNECTIONS;
      server.once('error', reject);
      server.listen({ fd }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        resolve(server);
      });
    });
  }

  private onConnection(server: Server, c: TcpSocket): void {
    let buf: Buffer = Buffer.alloc(0);
    this.connections.add(c);
    c.on('close', () => this.connections.delete(c));
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
        const r = this.handler.handle(msg, this.containerId, 'tcp');
        if (r instanceof Promise) r.then(reply, () => undefined);
        else reply(r);
      }
      if (this.tcp !== server) c.destroy();
    });
  }
}

/** An fd that was never adopted: closed directly (fs.closeSync closes any fd). */
export function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
