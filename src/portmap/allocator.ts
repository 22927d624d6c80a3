import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { ConflictError, InvalidParameterError } from '../util/errors.js';

// Host port allocation. A published port is held two ways: in berth's own books (so two
// containers never get the same ip/port/proto, and 0.0.0.0 conflicts with every address)
// and by a RESERVATION, a socket the daemon binds on hostIp:hostPort in its own netns and
// keeps: a TCP listener with backlog 0, or a bound UDP socket. The kernel then refuses the
// port to host processes, and a port a host process already holds fails here with Docker's
// "port is already allocated", all without a proxy process (DNAT takes the traffic before
// it could reach the socket).

export type ReservableProto = 'tcp' | 'udp';

export interface Reservation {
  close(): Promise<void>;
}

/** Binds the reservation socket; rejects with code EADDRINUSE when the port is taken. */
export type Reserver = (hostIp: string, proto: ReservableProto, port: number) => Promise<Reservation>;

export const socketReserver: Reserver = (hostIp, proto, port) => (proto === 'tcp' ? reserveTcp(hostIp, port) : reserveUdp(hostIp, port));

function reserveTcp(host: string, port: number): Promise<Reservation> {
  const server = createServer({ pauseOnConnect: true }, (s) => s.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, backlog: 0, exclusive: true }, () => {
      server.removeListener('error', reject);
      server.on('error', () => undefined);
      server.unref();
      resolve({ close: () => new Promise<void>((r) => server.close(() => r())) });
    });
  });
}

function reserveUdp(address: string, port: number): Promise<Reservation> {
  const socket = createSocket({ type: 'udp4' });
  socket.on('message', () => undefined);
  return new Promise((resolve, reject) => {
    socket.once('error', (e) => {
      socket.close();
      reject(e);
    });
    socket.bind({ address, port, exclusive: true }, () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      socket.unref();
      resolve({ close: () => new Promise<void>((r) => socket.close(() => r())) });
    });
  });
}

/** The kernel's ephemeral range (net.ipv4.ip_local_port_range), e.g. "32768\t60999". */
export function parsePortRange(text: string): { first: number; last: number } {
  const [first, last] = text.trim().split(/\s+/).map(Number);
  if (!first || !last || first > last || last > 65535) throw new InvalidParameterError(`invalid ip_local_port_range "${text.trim()}"`);
  return { first, last };
}

export interface HostPortRequest {
  hostIp: string;
  proto: ReservableProto;
  /** 0..0: any free port of the ephemeral range */
  start: number;
  end: number;
}

interface Held {
  owner: string;
  hostIp: string;
  proto: ReservableProto;
  port: number;
  reservation: Reservation;
}

export const ANY_HOST_IP = '0.0.0.0';

export function alreadyAllocated(hostIp: string, port: number | string): ConflictError {
  return new ConflictError(`Bind for ${hostIp}:${port} failed: port is already allocated`);
}

export class PortAllocator {
  /** "proto/port" → what holds it, on which addresses */
  private readonly held = new Map<string, Held[]>();
  private cursor: number;

  constructor(private readonly ephemeral: { first: number; last: number }, private readonly reserve: Reserver = socketReserver) {
    this.cursor = ephemeral.first;
  }

  /** True when berth itself already holds a binding that overlaps this one. */
  private conflicts(hostIp: string, proto: ReservableProto, port: number): boolean {
    return (this.held.get(`${proto}/${port}`) ?? []).some((h) => h.hostIp === hostIp || h.hostIp === ANY_HOST_IP || hostIp === ANY_HOST_IP);
  }

  /** Takes a host port for `owner`; rejects with ConflictError when it (or the whole range) is taken. */
  async allocate(owner: string, req: HostPortRequest): Promise<number> {
    if (req.start === 0) return this.allocateEphemeral(owner, req);
    for (let port = req.start; port <= req.end; port++) {
      if (await this.tryTake(owner, req.hostIp, req.proto, port)) return port;
    }
    const shown = req.start === req.end ? req.start : `${req.start}-${req.end}`;
    throw alreadyAllocated(req.hostIp, shown);
  }

  private async allocateEphemeral(owner: string, req: HostPortRequest): Promise<number> {
    const { first, last } = this.ephemeral;
    const size = last - first + 1;
    for (let i = 0; i < size; i++) {
      const port = this.cursor;
      this.cursor = port >= last ? first : port + 1;
      if (await this.tryTake(owner, req.hostIp, req.proto, port)) return port;
    }
    throw new ConflictError(`Bind for ${req.hostIp}:0 failed: all ports from ${first} to ${last} are allocated`);
  }

  /** Re-takes exactly this port (start-up restore); throws ConflictError when it is gone. */
  async restore(owner: string, hostIp: string, proto: ReservableProto, port: number): Promise<void> {
    if (!(await this.tryTake(owner, hostIp, proto, port))) throw alreadyAllocated(hostIp, port);
  }

  private async tryTake(owner: string, hostIp: string, proto: ReservableProto, port: number): Promise<boolean> {
    if (this.conflicts(hostIp, proto, port)) return false;
    let reservation: Reservation;
    try {
      reservation = await this.reserve(hostIp, proto, port);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES') return false;
      if (code === 'EADDRNOTAVAIL') throw new InvalidParameterError(`cannot publish on ${hostIp}: it is not an address of this host`);
      throw e;
    }
    // Another allocation may have taken it while we awaited the bind.
    if (this.conflicts(hostIp, proto, port)) {
      await reservation.close();
      return false;
    }
    const key = `${proto}/${port}`;
    this.held.set(key, [...(this.held.get(key) ?? []), { owner, hostIp, proto, port, reservation }]);
    return true;
  }

  /** Frees one binding of `owner` (or all of them when no port is given). */
  async release(owner: string, only?: { hostIp: string; proto: ReservableProto; port: number }): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, list] of this.held) {
      const keep = list.filter((h) => {
        const match = h.owner === owner && (!only || (h.hostIp === only.hostIp && h.proto === only.proto && h.port === only.port));
        if (match) closing.push(h.reservation.close());
        return !match;
      });
      if (keep.length) this.held.set(key, keep);
      else this.held.delete(key);
    }
    await Promise.all(closing);
  }

  /** How many bindings berth holds (for tests and status). */
  get size(): number {
    let n = 0;
    for (const list of this.held.values()) n += list.length;
    return n;
  }
}
