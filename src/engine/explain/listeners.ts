import { readFile } from 'node:fs/promises';
import { formatIPv6 } from '../../util/ip6.js';

// Who listens on a port in a network namespace, from /proc/PID/net/{tcp,tcp6,udp,udp6}
// (the tables of the netns PID lives in): the last step of a path is a socket, and "the
// firewall lets it through but nothing listens" is an answer too.

export interface Listener {
  /** the bound address as text ("0.0.0.0", "::", "127.0.0.1", …) */
  addr: string;
  port: number;
  /** an IPv6 socket bound to :: that takes IPv4 too (not v6only: the kernel's default) */
  dual: boolean;
}

const TCP_LISTEN = '0A';
const UDP_UNCONNECTED = '07';

/** The sockets listening on proto/port in PID's netns ('self': berthd's, the host's). */
export async function listenersOn(pid: number | 'self', proto: 'tcp' | 'udp', port: number): Promise<Listener[]> {
  const out: Listener[] = [];
  for (const v6 of [false, true]) {
    const text = await readFile(`/proc/${pid}/net/${proto}${v6 ? '6' : ''}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      const [hexAddr, hexPort] = f[1]!.split(':') as [string, string];
      if (parseInt(hexPort, 16) !== port || f[3] !== (proto === 'tcp' ? TCP_LISTEN : UDP_UNCONNECTED)) continue;
      const addr = v6 ? ipv6FromProc(hexAddr) : ipv4FromProc(hexAddr);
      out.push({ addr, port, dual: v6 && addr === '::' });
    }
  }
  return out;
}

/** Whether one of these sockets takes a packet to daddr. */
export function takes(listeners: Listener[], daddr: string): boolean {
  const v4 = !daddr.includes(':');
  return listeners.some((l) => l.addr === daddr || (v4 ? l.addr === '0.0.0.0' || l.dual : l.addr === '::'));
}

// /proc prints each 32-bit word of the address in host byte order (little-endian here)
function ipv4FromProc(hex: string): string {
  const b = Buffer.from(hex, 'hex');
  return [b[3], b[2], b[1], b[0]].join('.');
}

function ipv6FromProc(hex: string): string {
  let ordered = '';
  for (let i = 0; i < 32; i += 8) ordered += Buffer.from(hex.slice(i, i + 8), 'hex').reverse().toString('hex');
  return formatIPv6(BigInt(`0x${ordered}`));
}
