import { isIP } from 'node:net';

// berthd's -H addresses, as dockerd reads them: unix:///path, fd:// (the socket systemd
// passes) and tcp://ADDR:PORT. A TCP address is an IP literal (or "localhost"): whether it
// is loopback decides whether berthd may serve it without mutual TLS, and a name that
// resolves later could change that answer.

export type Host =
  | { kind: 'unix'; path: string }
  | { kind: 'fd' }
  | { kind: 'tcp'; address: string; port: number };

/** dockerd's ports for a tcp:// without one: 2376 with TLS, 2375 without. */
const TLS_PORT = 2376;
const PLAIN_PORT = 2375;

export class HostError extends Error {}

export function parseHost(value: string, tls: boolean): Host {
  if (value === 'fd://') return { kind: 'fd' };
  if (value.startsWith('unix://')) {
    const path = value.slice('unix://'.length);
    if (!path.startsWith('/')) throw new HostError(`invalid -H ${value}: a unix socket needs an absolute path (unix:///run/berth/berth.sock)`);
    return { kind: 'unix', path };
  }
  if (value.startsWith('tcp://')) return parseTcp(value, tls);
  throw new HostError(`unsupported -H ${value}: berthd listens on unix:///path, fd:// (from systemd) or tcp://ADDR:PORT`);
}

function parseTcp(value: string, tls: boolean): Host {
  const rest = value.slice('tcp://'.length).replace(/\/$/, '');
  // [v6]:port, v4:port, :port, or an address alone
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*))(?::(\d*))?$/.exec(rest);
  if (!m) throw new HostError(`invalid -H ${value}: want tcp://ADDR:PORT (an IPv6 address in brackets)`);
  let address = m[1] ?? m[2] ?? '';
  // as dockerd, no address is localhost, never every interface
  if (address === '' || address === 'localhost') address = '127.0.0.1';
  if (!isIP(address)) throw new HostError(`invalid -H ${value}: give an IP address, not a name (berthd must know whether it is loopback)`);
  const port = m[3] ? Number(m[3]) : tls ? TLS_PORT : PLAIN_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new HostError(`invalid -H ${value}: port ${m[3]} is not 1-65535`);
  return { kind: 'tcp', address, port };
}

/** 127.0.0.0/8, ::1 and 127/8 mapped into IPv6: reachable from this host only. */
export function isLoopback(address: string): boolean {
  const v4 = address.replace(/^::ffff:/i, '');
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(address);
}

/** How the log and messages name a host: tcp://127.0.0.1:2376, tcp://[::1]:2376. */
export function describeHost(h: Host): string {
  if (h.kind === 'unix') return `unix://${h.path}`;
  if (h.kind === 'fd') return 'fd://';
  return `tcp://${isIP(h.address) === 6 ? `[${h.address}]` : h.address}:${h.port}`;
}
