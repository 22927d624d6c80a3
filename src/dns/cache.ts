// Cache of upstream answers, as raw bytes. A hit is a copy with the client's id and
// question case written in and every TTL lowered by the time spent in the cache; no
// decode/encode. Positive answers live min(TTL, 300 s); negative ones (NXDOMAIN, NODATA)
// the SOA's negative TTL capped at 30 s, or 5 s without a SOA. SERVFAIL, truncated or
// malformed answers are not kept.
import { HEADER_LEN, RCODE_NOERROR, RCODE_NXDOMAIN, walkResponse } from './wire.js';

export const MAX_POSITIVE_TTL_S = 300;
export const MAX_NEGATIVE_TTL_S = 30;
export const NEGATIVE_TTL_WITHOUT_SOA_S = 5;
const DEFAULT_MAX_ENTRIES = 10_000;

interface Entry {
  bytes: Buffer;
  ttlOffsets: number[];
  ttls: number[];
  storedAt: number;
  expiresAt: number;
  questionLength: number;
}

/** How long an answer may be kept, in seconds; 0 = not at all. */
export function cacheLifetime(response: Buffer): { lifetime: number; ttlOffsets: number[] } | undefined {
  const shape = walkResponse(response);
  if (!shape || shape.truncated) return undefined;
  if (shape.rcode === RCODE_NOERROR && shape.ancount > 0) {
    return { lifetime: Math.min(MAX_POSITIVE_TTL_S, ...shape.answerTtls), ttlOffsets: shape.ttlOffsets };
  }
  if (shape.rcode === RCODE_NXDOMAIN || shape.rcode === RCODE_NOERROR) {
    const neg = shape.soaMinimum ?? NEGATIVE_TTL_WITHOUT_SOA_S;
    return { lifetime: Math.min(MAX_NEGATIVE_TTL_S, neg), ttlOffsets: shape.ttlOffsets };
  }
  return undefined;
}

/** The response's one question is the query's (up to case): a hit may copy it over. */
function sameQuestion(response: Buffer, questionWire: Buffer): boolean {
  if (response.length < HEADER_LEN + questionWire.length || response.readUInt16BE(4) !== 1) return false;
  const a = response.toString('latin1', HEADER_LEN, HEADER_LEN + questionWire.length).toLowerCase();
  return a === questionWire.toString('latin1', 0, questionWire.length).toLowerCase();
}

export class AnswerCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  get size(): number {
    return this.entries.size;
  }

  /** Keeps an upstream answer if it may be cached; returns whether it did. */
  put(key: string, response: Buffer, questionWire: Buffer, now = Date.now()): boolean {
    if (!sameQuestion(response, questionWire)) return false;
    const c = cacheLifetime(response);
    if (!c || c.lifetime <= 0) return false;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const bytes = Buffer.from(response);
    this.entries.delete(key);
    this.entries.set(key, {
      bytes,
      ttlOffsets: c.ttlOffsets,
      ttls: c.ttlOffsets.map((o) => bytes.readUInt32BE(o)),
      storedAt: now,
      expiresAt: now + c.lifetime * 1000,
      questionLength: questionWire.length,
    });
    return true;
  }

  /**
   * The cached answer for key, re-addressed to a query: its id, and its question bytes
   * (same name, maybe other case) copied in. undefined on a miss or when expired.
   */
  get(key: string, id: number, questionWire: Buffer, now = Date.now()): Buffer | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now >= e.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    const out = Buffer.from(e.bytes);
    out.writeUInt16BE(id, 0);
    if (questionWire.length === e.questionLength) questionWire.copy(out, HEADER_LEN);
    const elapsed = Math.floor((now - e.storedAt) / 1000);
    for (let i = 0; i < e.ttlOffsets.length; i++) {
      out.writeUInt32BE(Math.max(0, (e.ttls[i] as number) - elapsed), e.ttlOffsets[i] as number);
    }
    return out;
  }

  clear(): void {
    this.entries.clear();
  }
}
