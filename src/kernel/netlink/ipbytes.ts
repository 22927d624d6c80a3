import { isIPv4, isIPv6 } from 'node:net';
import { AF_INET, AF_INET6 } from './constants.js';

// IP addresses as netlink carries them: 4 or 16 raw bytes, network order.

export interface IpBytes {
  family: number;
  bytes: Buffer;
}

export function ipToBytes(ip: string): IpBytes {
  if (isIPv4(ip)) return { family: AF_INET, bytes: Buffer.from(ip.split('.').map(Number)) };
  if (isIPv6(ip)) return { family: AF_INET6, bytes: ipv6ToBytes(ip) };
  throw new Error(`invalid IP address: ${ip}`);
}

function ipv6ToBytes(ip: string): Buffer {
  // An embedded IPv4 tail ("::ffff:1.2.3.4") becomes two hex groups first.
  const text = ip.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
    `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
  const groups = (s: string): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const [head, tail] = text.split('::');
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const words = h.concat(new Array<number>(8 - h.length - t.length).fill(0), t);
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

export function bytesToIp(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(b.readUInt16BE(i));
  return compressV6(words);
}

/** RFC 5952: the longest run (≥2) of zero groups becomes "::". */
function compressV6(words: number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j > i ? j : i + 1;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
