// IPv6 text <-> bytes for the resolver: AAAA rdata, ip6.arpa names, matching upstream
// sources. Private to src/dns (src/util/ip.ts is IPv4-only today; unify when it grows v6).
import { isIPv6 } from 'node:net';

/**
 * The 32 lower-case hex digits of an IPv6 address ("fd00::2" -> "fd000000…0002"), or
 * undefined when it is not one. A zone ("%eth0") is ignored; an embedded dotted quad
 * ("::ffff:1.2.3.4") is read.
 */
export function ipv6Hex(text: string): string | undefined {
  const s = text.split('%')[0] as string;
  if (!isIPv6(s)) return undefined;
  let groups = s.split(':');
  const last = groups[groups.length - 1] as string;
  if (last.includes('.')) {
    const o = last.split('.').map(Number);
    groups = [...groups.slice(0, -1), (((o[0] as number) << 8) | (o[1] as number)).toString(16), (((o[2] as number) << 8) | (o[3] as number)).toString(16)];
  }
  const gap = groups.indexOf('');
  if (gap >= 0) {
    // "::" at either end leaves two empty groups; the missing ones fill the gap
    const head = groups.slice(0, gap).filter((g) => g !== '');
    const tail = groups.slice(gap + 1).filter((g) => g !== '');
    groups = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  }
  return groups.map((g) => g.toLowerCase().padStart(4, '0')).join('');
}

/** The 16 bytes of an IPv6 address, or undefined. */
export function ipv6Bytes(text: string): Buffer | undefined {
  const hex = ipv6Hex(text);
  return hex === undefined ? undefined : Buffer.from(hex, 'hex');
}

/** 32 hex digits -> the usual short text form (RFC 5952: longest zero run as "::"). */
export function ipv6FromHex(hex: string): string {
  const groups = Array.from({ length: 8 }, (_, i) => parseInt(hex.slice(i * 4, i * 4 + 4), 16).toString(16));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** "b.a.9.8.…(32 nibbles).ip6.arpa" (lower-case) -> the address's 32 hex digits, or undefined. */
export function ip6ArpaToHex(name: string): string | undefined {
  if (!name.endsWith('.ip6.arpa') || name.length !== 64 + '.ip6.arpa'.length - 1) return undefined;
  let hex = '';
  for (let i = 62; i >= 0; i -= 2) {
    const c = name[i] as string;
    if (!/[0-9a-f]/.test(c) || (i < 62 && name[i + 1] !== '.')) return undefined;
    hex += c;
  }
  return name[63] === '.' ? hex : undefined;
}
