// The resolver's sockets in one sandbox: UDP and TCP on 127.0.0.11:53 inside the
// container's netns, made there by the kernel worker and adopted here by fd. Whoever
// reaches them is that sandbox's container: the socket, not the source address, says who
// asks. TCP messages carry a 2-byte length prefix; a connection may send several queries,
// answers go back in whatever order they finish. How many connections a sandbox (and the
// whole thread) holds is bounded by a TcpBudget shared by the thread's listeners; one
// with no query in flight for idleMs is closed (trickling bytes does not keep it: only a
// whole query or an answer counts as activity).
// UDP datagrams are read and answered in bulk when the thread has a BatchIo: the socket
// stays libuv's (it says when there is something to read and reads the first datagram),
// the rest of the queue goes through recvmmsg/sendmmsg on its fd (udp-batch.ts).
import { createSocket, type Socket } from 'node:dgram';
import { closeSync } from 'node:fs';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { DnsHandler, Reply } from './handler.js';
import type { TcpBudget, Tracked } from './tcp-budget.js';
import type { BatchIo, BatchSocket } from './udp-batch.js';

/** Where the resolver answers inside every sandbox (Docker's address). */
export const EMBEDDED_DNS_ADDRESS = '127.0.0.11';
export const DNS_PORT = 53;

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
    /** the thread's TCP connection limits, shared with its other sandboxes */
    private readonly budget: TcpBudget,
    /** the thread's bulk reader/writer; without it, one datagram at a time through dgram */
    private readonly io?: BatchIo,
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
        const bulk = this.io && this.batchSocket(s, fd);
        s.on('message', (msg, rinfo) => {
          if (bulk && rinfo.family === 'IPv4') this.io?.serve(bulk, msg, rinfo.address, rinfo.port);
          else this.onDatagram(s, msg, rinfo.address, rinfo.port);
        });
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

  /** The socket as BatchIo serves it: fd used only while `s` is this sandbox's open socket. */
  private batchSocket(s: Socket, fd: number): BatchSocket {
    return {
      fd,
      handle: (msg) => this.handler.handle(msg, this.containerId, 'udp'),
      unread: () => this.handler.unread(),
      later: (answer, to) => {
        answer.then((r) => {
          if (r && this.udp === s) this.io?.sendTo(fd, r, to); // closed since: its fd number may be another socket's now
        }, () => undefined);
      },
    };
  }

  private adoptTcp(fd: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((c) => this.onConnection(server, c));
      server.once('error', reject);
      server.listen({ fd }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        resolve(server);
      });
    });
  }

  private onConnection(server: Server, c: TcpSocket): void {
    const tracked: Tracked = { owner: this, inFlight: 0, evict: () => c.destroy() };
    c.on('error', () => undefined);
    if (!this.budget.admit(tracked)) {
      c.resetAndDestroy(); // every connection of this sandbox (or thread) has a query in flight
      return;
    }
    this.connections.add(c);
    const idle = setTimeout(() => {
      if (tracked.inFlight > 0) idle.refresh();
      else c.destroy();
    }, this.budget.limits.idleMs);
    c.on('close', () => {
      clearTimeout(idle);
      this.connections.delete(c);
      this.budget.release(tracked);
    });
    const active = (): void => {
      idle.refresh();
      this.budget.touch(tracked);
    };
    const reply = (r: Reply): void => {
      tracked.inFlight--;
      if (c.destroyed) return;
      active();
      if (!r) return;
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(r.length, 0);
      c.write(Buffer.concat([len, r]));
    };
    let buf: Buffer = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        tracked.inFlight++;
        active();
        const r = this.handler.handle(msg, this.containerId, 'tcp');
        if (r instanceof Promise) r.then(reply, () => reply(undefined));
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
