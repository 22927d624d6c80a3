// IPv6 text <-> bytes for the resolver: AAAA rdata, ip6.arpa names, matching upstream
// sources. Parsing and RFC 5952 text are util/ip6.ts's; this file keeps the resolver's forms.
import { formatIPv6, tryParseIPv6 } from '../util/ip6.js';

/**
 * The 32 lower-case hex digits of an IPv6 address ("fd00::2" -> "fd000000…0002"), or
 * undefined when it is not one. A zone ("%eth0") is ignored; an embedded dotted quad
 * ("::ffff:1.2.3.4") is read.
 */
export function ipv6Hex(text: string): string | undefined {
  const n = tryParseIPv6(text.split('%')[0] as string);
  return n === undefined ? undefined : n.toString(16).padStart(32, '0');
}

/** The 16 bytes of an IPv6 address, or undefined. */
export function ipv6Bytes(text: string): Buffer | undefined {
  const hex = ipv6Hex(text);
  return hex === undefined ? undefined : Buffer.from(hex, 'hex');
}

/** 32 hex digits -> the usual short text form (RFC 5952: longest zero run as "::"). */
export function ipv6FromHex(hex: string): string {
  return formatIPv6(BigInt(`0x${hex}`));
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
