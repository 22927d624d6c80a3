import { createSocket } from 'node:dgram';
import { createServer, isIPv6 } from 'node:net';
import { ConflictError, InvalidParameterError } from '../util/errors.js';
import { joinHostPort } from '../util/ip-family.js';
import { relayTcp, relayUdp, type RelayTarget } from './loopback-relay.js';

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

/**
 * Binds the reservation socket; rejects with code EADDRINUSE when the port is taken. With
 * `relay` (an IPv6 binding that covers ::1) the socket relays IPv6 loopback connections to
 * the container (see loopback-relay.ts); any other connection reaching it is closed.
 */
export type Reserver = (hostIp: string, proto: ReservableProto, port: number, relay?: RelayTarget) => Promise<Reservation>;

export const socketReserver: Reserver = (hostIp, proto, port, relay) => (proto === 'tcp' ? reserveTcp(hostIp, port, relay) : reserveUdp(hostIp, port, relay));

// '::' is bound IPv6-only: 0.0.0.0 and :: are two bindings (as Docker shows them), each
// published and released on its own.
function reserveTcp(host: string, port: number, relay?: RelayTarget): Promise<Reservation> {
  const server = createServer({ pauseOnConnect: true }, (s) => (relay && s.localAddress === LOOPBACK6 ? relayTcp(s, relay) : s.destroy()));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, backlog: relay ? 511 : 0, exclusive: true, ipv6Only: isIPv6(host) }, () => {
      server.removeListener('error', reject);
      server.on('error', () => undefined);
      server.unref();
      resolve({ close: () => new Promise<void>((r) => server.close(() => r())) });
    });
  });
}

function reserveUdp(address: string, port: number, relay?: RelayTarget): Promise<Reservation> {
  const socket = isIPv6(address) ? createSocket({ type: 'udp6', ipv6Only: true }) : createSocket({ type: 'udp4' });
  if (!relay) socket.on('message', () => undefined);
  return new Promise((resolve, reject) => {
    socket.once('error', (e) => {
      socket.close();
      reject(e);
    });
    socket.bind({ address, port, exclusive: true }, () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      socket.unref();
      const relaying = relay ? relayUdp(socket, relay) : undefined;
      resolve({ close: () => new Promise<void>((r) => {
        relaying?.close();
        socket.close(() => r());
      }) });
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
  /** the container's IPv6 address and port, for the bindings that relay ::1 */
  relay?: RelayTarget;
  /**
   * false: no reservation socket, the port is in berth's books only. For a sandbox lent by
   * another runtime that holds its host ports itself (podman binds them, as CNI's portmap
   * plugin expects of its runtime): berth's socket would make the runtime's bind fail.
   */
  bind?: boolean;
}

/** How one port is taken: relayed (::1) or not, and with a socket or in the books only. */
type TakeOptions = Pick<HostPortRequest, 'relay' | 'bind'>;

const NO_SOCKET: Reservation = { close: async () => undefined };

interface Held {
  owner: string;
  hostIp: string;
  proto: ReservableProto;
  port: number;
  reservation: Reservation;
}

export const ANY_HOST_IP = '0.0.0.0';
export const ANY_HOST_IP6 = '::';
export const LOOPBACK6 = '::1';

/** The IPv6 bindings a host process can reach through ::1: they relay it (loopback-relay.ts). */
export function coversLoopback6(hostIp: string): boolean {
  return hostIp === ANY_HOST_IP6 || hostIp === LOOPBACK6;
}

export function alreadyAllocated(hostIp: string, port: number | string): ConflictError {
  return new ConflictError(`Bind for ${joinHostPort(hostIp, port)} failed: port is already allocated`);
}

export function isAnyHostIp(ip: string): boolean {
  return ip === ANY_HOST_IP || ip === ANY_HOST_IP6;
}

export class PortAllocator {
  /** "proto/port" → what holds it, on which addresses */
  private readonly held = new Map<string, Held[]>();
  private cursor: number;

  constructor(private readonly ephemeral: { first: number; last: number }, private readonly reserve: Reserver = socketReserver) {
    this.cursor = ephemeral.first;
  }

  /** True when berth itself already holds a binding that overlaps this one (0.0.0.0 and :: each cover their family). */
  private conflicts(hostIp: string, proto: ReservableProto, port: number): boolean {
    const v6 = isIPv6(hostIp);
    return (this.held.get(`${proto}/${port}`) ?? []).some((h) =>
      isIPv6(h.hostIp) === v6 && (h.hostIp === hostIp || isAnyHostIp(h.hostIp) || isAnyHostIp(hostIp)));
  }

  /** Takes a host port for `owner`; rejects with ConflictError when it (or the whole range) is taken. */
  async allocate(owner: string, req: HostPortRequest): Promise<number> {
    return this.allocateOn(owner, [req.hostIp], req);
  }

  /**
   * Takes one host port on every address in hostIps (`-p 8080:80` on 0.0.0.0 and :: gets
   * the same port on both, as Docker gives it), or none of them.
   */
  async allocateOn(owner: string, hostIps: string[], req: Omit<HostPortRequest, 'hostIp'>): Promise<number> {
    const opts = { relay: req.relay, bind: req.bind };
    if (req.start === 0) return this.allocateEphemeral(owner, hostIps, req.proto, opts);
    for (let port = req.start; port <= req.end; port++) {
      if (await this.tryTakeAll(owner, hostIps, req.proto, port, opts)) return port;
    }
    const shown = req.start === req.end ? req.start : `${req.start}-${req.end}`;
    throw alreadyAllocated(hostIps[0] ?? ANY_HOST_IP, shown);
  }

  private async allocateEphemeral(owner: string, hostIps: string[], proto: ReservableProto, opts: TakeOptions): Promise<number> {
    const { first, last } = this.ephemeral;
    const size = last - first + 1;
    for (let i = 0; i < size; i++) {
      const port = this.cursor;
      this.cursor = port >= last ? first : port + 1;
      if (await this.tryTakeAll(owner, hostIps, proto, port, opts)) return port;
    }
    throw new ConflictError(`Bind for ${joinHostPort(hostIps[0] ?? ANY_HOST_IP, 0)} failed: all ports from ${first} to ${last} are allocated`);
  }

  private async tryTakeAll(owner: string, hostIps: string[], proto: ReservableProto, port: number, opts: TakeOptions): Promise<boolean> {
    const taken: string[] = [];
    try {
      for (const hostIp of hostIps) {
        if (!(await this.tryTake(owner, hostIp, proto, port, opts))) break;
        taken.push(hostIp);
      }
    } finally {
      if (taken.length < hostIps.length) for (const hostIp of taken) await this.release(owner, { hostIp, proto, port });
    }
    return taken.length === hostIps.length;
  }

  /** Re-takes exactly this port (start-up restore); throws ConflictError when it is gone. */
  async restore(owner: string, hostIp: string, proto: ReservableProto, port: number, opts: TakeOptions = {}): Promise<void> {
    if (!(await this.tryTake(owner, hostIp, proto, port, opts))) throw alreadyAllocated(hostIp, port);
  }

  private async tryTake(owner: string, hostIp: string, proto: ReservableProto, port: number, opts: TakeOptions): Promise<boolean> {
    if (this.conflicts(hostIp, proto, port)) return false;
    let reservation: Reservation;
    try {
      reservation = opts.bind === false ? NO_SOCKET : await this.reserve(hostIp, proto, port, coversLoopback6(hostIp) ? opts.relay : undefined);
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
