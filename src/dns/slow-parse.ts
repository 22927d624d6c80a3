// The slow path: queries the hand parser declines (compressed question name, extra
// records, several OPT or TSIG records…) are decoded by dns-packet. Rare in practice; it
// exists so that odd but valid queries still get answers instead of FORMERR.
import { createRequire } from 'node:module';
import * as dnsPacket from 'dns-packet';
import { CLASS_IN, HEADER_LEN, PLAIN_UDP_SIZE, encodeQuestion, type Question } from './wire.js';

const require = createRequire(import.meta.url);
// dns-packet's name<->number tables (its typings do not declare these modules).
const types = require('dns-packet/types.js') as { toType(name: string): number };
const classes = require('dns-packet/classes.js') as { toClass(name: string): number };

export type SlowParse = { ok: true; question: Question } | { ok: false; reason: 'formerr' | 'notimp' };

function numberOf(name: string | undefined, table: (n: string) => number, fallback: number): number {
  if (!name) return fallback;
  const m = /^UNKNOWN_(\d+)$/.exec(name);
  return m ? Number(m[1]) : table(name.toUpperCase());
}

/**
 * One question, and no more records than the bytes could hold (a question takes at least
 * 5 bytes, a record 11). dns-packet would otherwise walk up to 65,535 phantom records
 * before failing: ~100 ms per hostile packet.
 */
function plausibleCounts(msg: Buffer): boolean {
  if (msg.length < HEADER_LEN || msg.readUInt16BE(4) !== 1) return false;
  const records = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
  return 5 + records * 11 <= msg.length - HEADER_LEN;
}

/** Decodes a query with dns-packet; the question is re-encoded in plain form. */
export function slowParse(msg: Buffer): SlowParse {
  if (!plausibleCounts(msg)) return { ok: false, reason: 'formerr' };
  let p: dnsPacket.Packet;
  try {
    p = dnsPacket.decode(msg);
  } catch {
    return { ok: false, reason: 'formerr' };
  }
  if (msg.length < HEADER_LEN || ((msg[2] ?? 0) & 0x78) !== 0) return { ok: false, reason: 'notimp' };
  const q = p.questions?.[0];
  if (!q || p.questions?.length !== 1) return { ok: false, reason: 'formerr' };
  const name = q.name.replace(/\.$/, '').toLowerCase();
  const type = numberOf(q.type, types.toType, 0);
  const qclass = numberOf(q.class, classes.toClass, CLASS_IN);
  if (type <= 0) return { ok: false, reason: 'formerr' };
  const opt = p.additionals?.find((r) => r.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  return {
    ok: true,
    question: {
      name,
      type,
      qclass,
      wire: encodeQuestion(name, type, qclass),
      edns: opt !== undefined,
      udpSize: Math.max(PLAIN_UDP_SIZE, opt?.udpPayloadSize ?? 0),
    },
  };
}
