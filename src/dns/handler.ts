// One query in, one answer out (or nothing). Local names are answered synchronously from
// the name table (a repeat of the very same query from the memo, answer-memo.ts);
// everything else goes to the upstreams through the cache, with identical in-flight
// questions sharing one upstream query. Never throws: whatever a packet holds, the worst
// outcome is FORMERR or silence.
import { AnswerMemo, type MemoKind } from './answer-memo.js';
import { AnswerCache } from './cache.js';
import type { Client, NameTable } from './names.js';
import { slowParse } from './slow-parse.js';
import { parseUpstream, type Upstream } from './upstream.js';
import {
  CLASS_IN, HEADER_LEN, RCODE_FORMERR, RCODE_NOERROR, RCODE_NOTIMP, RCODE_NXDOMAIN, RCODE_REFUSED, RCODE_SERVFAIL,
  TYPE_A, TYPE_AAAA, TYPE_ANY, TYPE_PTR, encodeAnswer, encodeBareError, encodeRcode, idOf, isResponse, opcodeOf, parseQuery, rdOf,
  type Question, type Rdata,
} from './wire.js';

export type Transport = 'udp' | 'tcp';
export type Reply = Buffer | undefined;

/** What the handler needs from the upstream side (a fake in unit tests). */
export interface Forwarder {
  query(msg: Buffer, questionLength: number, upstreams: Upstream[], tcpIfTruncated: boolean): Promise<Buffer>;
}

export interface DnsStats {
  queries: number;
  local: number;
  nxdomain: number;
  forwarded: number;
  cacheHits: number;
  servfail: number;
  refused: number;
  formerr: number;
  dropped: number;
  /** Queries that hit a bug in the resolver (answered FORMERR instead): should stay 0. */
  internalErrors: number;
  /** CPU time (user + system, ms) of the resolver's thread(s) since start: the cost of answering alone */
  cpuMs: number;
}

export function emptyStats(): DnsStats {
  return { queries: 0, local: 0, nxdomain: 0, forwarded: 0, cacheHits: 0, servfail: 0, refused: 0, formerr: 0, dropped: 0, internalErrors: 0, cpuMs: 0 };
}

/** Local answers' TTL: short, records change when containers come and go. */
export const DEFAULT_LOCAL_TTL_S = 10;

export class DnsHandler {
  readonly stats = emptyStats();
  readonly cache = new AnswerCache();
  private readonly memo = new AnswerMemo();
  private readonly inflight = new Map<string, Promise<Buffer | undefined>>();
  private defaults: Upstream[] = [];
  /** Called with every answer this handler caches, so that sibling threads can cache it too. */
  onCached: ((key: string, answer: Buffer, questionWire: Buffer, at: number) => void) | undefined;
  private defaultsKey = '';

  constructor(
    private readonly table: NameTable,
    private readonly forwarder: Forwarder,
    private readonly localTtl = DEFAULT_LOCAL_TTL_S,
  ) {}

  setUpstreams(list: string[]): void {
    this.defaults = parseUpstreams(list);
    this.defaultsKey = this.defaults.map((u) => `${u.host}:${u.port}`).join(',');
    this.cache.clear();
  }

  /**
   * Answers one query from container `asker`; a Promise only when it must ask an upstream.
   * msg is read during the call only: the caller may reuse its memory once this returns.
   */
  handle(msg: Buffer, asker: string, transport: Transport): Reply | Promise<Reply> {
    this.stats.queries++;
    try {
      const kept = this.memo.get(this.table.generation, asker, transport, msg);
      if (kept) {
        this.stats[kept.kind]++;
        return kept.answer;
      }
      return this.dispatch(msg, asker, transport);
    } catch {
      // A bug must cost one answer, never the resolver.
      this.stats.internalErrors++;
      return this.formErr(msg);
    }
  }

  private dispatch(msg: Buffer, asker: string, transport: Transport): Reply | Promise<Reply> {
    if (msg.length < HEADER_LEN || isResponse(msg)) {
      this.stats.dropped++;
      return undefined;
    }
    // a sandbox whose container has no endpoint on a network that serves names (left them all)
    const client = this.table.client(asker);
    if (!client) {
      this.stats.refused++;
      return encodeBareError(msg, RCODE_REFUSED);
    }
    if (opcodeOf(msg) !== 0) return encodeBareError(msg, RCODE_NOTIMP);
    let q = parseQuery(msg);
    if (!q) {
      const slow = slowParse(msg);
      if (!slow.ok) return slow.reason === 'notimp' ? encodeBareError(msg, RCODE_NOTIMP) : this.formErr(msg);
      q = slow.question;
    }
    const maxSize = transport === 'tcp' ? 65535 : q.udpSize;
    if (q.qclass !== CLASS_IN) return this.forward(msg, q, client, transport, maxSize);
    const generation = this.table.generation;
    const r = this.table.resolve(client, q.name, { v4: wants(q, TYPE_A), v6: wants(q, TYPE_AAAA) });
    const keep = (answer: Buffer, kind: MemoKind): Buffer => {
      this.memo.put(generation, asker, transport, msg, answer, kind);
      return answer;
    };
    switch (r.kind) {
      case 'addresses': {
        const answer = this.local(msg, q, maxSize, [
          ...r.v4.map((ip): Rdata => ({ type: TYPE_A, ip })),
          ...r.v6.map((ip): Rdata => ({ type: TYPE_AAAA, ip })),
        ]);
        // a list of several is rotated: the next query gets another order
        return r.v4.length <= 1 && r.v6.length <= 1 ? keep(answer, 'local') : answer;
      }
      case 'pointer':
        return keep(this.local(msg, q, maxSize, wants(q, TYPE_PTR) ? [{ type: TYPE_PTR, name: r.name }] : []), 'local');
      case 'nxdomain':
        this.stats.nxdomain++;
        return keep(encodeRcode(idOf(msg), rdOf(msg), q, RCODE_NXDOMAIN, true), 'nxdomain');
      case 'forward':
        return this.forward(msg, q, client, transport, maxSize);
    }
  }

  private formErr(msg: Buffer): Reply {
    if (msg.length < HEADER_LEN) return undefined;
    this.stats.formerr++;
    return encodeBareError(msg, RCODE_FORMERR);
  }

  /** An authoritative answer; no records (NODATA) for types we do not hold, e.g. AAAA of an IPv4-only container. */
  private local(msg: Buffer, q: Question, maxSize: number, records: Rdata[]): Buffer {
    this.stats.local++;
    const a = { id: idOf(msg), rd: rdOf(msg), rcode: RCODE_NOERROR, authoritative: true, question: q, records, ttl: this.localTtl };
    return encodeAnswer(a, maxSize);
  }

  private forward(msg: Buffer, q: Question, client: Client, transport: Transport, maxSize: number): Reply | Promise<Reply> {
    const own = client.upstreams ? parseUpstreams(client.upstreams) : undefined;
    const ups = own ?? this.defaults;
    const upsKey = own ? own.map((u) => `${u.host}:${u.port}`).join(',') : this.defaultsKey;
    const id = idOf(msg);
    if (ups.length === 0) {
      // Nobody to ask (e.g. a container only on --internal networks): say so at once.
      this.stats.servfail++;
      return encodeRcode(id, rdOf(msg), q, RCODE_SERVFAIL);
    }
    const key = `${upsKey}|${q.type}|${q.qclass}|${q.name}`;
    const hit = this.cache.get(key, id, q.wire);
    if (hit) {
      this.stats.cacheHits++;
      return fitAnswer(hit, q, maxSize);
    }
    // the query's bytes are the caller's only during handle() (a batch reuses them): copies go on
    const kept = Buffer.from(msg);
    const keptQ: Question = { ...q, wire: Buffer.from(q.wire) };
    const flightKey = `${key}|${transport}`;
    let flight = this.inflight.get(flightKey);
    if (!flight) {
      this.stats.forwarded++;
      flight = this.ask(kept, keptQ, ups, transport, key).finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, flight);
    }
    return flight.then((answer) => {
      if (!answer) {
        this.stats.servfail++;
        return encodeRcode(id, rdOf(kept), keptQ, RCODE_SERVFAIL);
      }
      const out = Buffer.from(answer);
      out.writeUInt16BE(id, 0);
      echoQuestionCase(out, keptQ);
      return fitAnswer(out, keptQ, maxSize);
    });
  }

  /** A datagram that could not be read whole (bigger than the batch's slots): counted, never answered. */
  unread(): void {
    this.stats.queries++;
    this.stats.dropped++;
  }

  private async ask(msg: Buffer, q: Question, ups: Upstream[], transport: Transport, key: string): Promise<Buffer | undefined> {
    try {
      const answer = await this.forwarder.query(msg, q.wire.length, ups, transport === 'tcp');
      const at = Date.now();
      if (this.cache.put(key, answer, q.wire, at)) this.onCached?.(key, answer, q.wire, at);
      return answer;
    } catch {
      return undefined;
    }
  }
}

function wants(q: Question, type: number): boolean {
  return q.type === type || q.type === TYPE_ANY;
}

function parseUpstreams(list: string[]): Upstream[] {
  return list.map(parseUpstream).filter((u): u is Upstream => u !== undefined);
}

/** Writes the client's question bytes over an answer's identical (up to case) question. */
function echoQuestionCase(answer: Buffer, q: Question): void {
  const end = HEADER_LEN + q.wire.length;
  if (answer.length < end || answer.readUInt16BE(4) !== 1) return;
  if (answer.toString('latin1', HEADER_LEN, end).toLowerCase() !== q.wire.toString('latin1', 0, q.wire.length).toLowerCase()) return;
  q.wire.copy(answer, HEADER_LEN);
}

/** An upstream answer too big for the client's UDP size: header + question with TC set. */
function fitAnswer(answer: Buffer, q: Question, maxSize: number): Buffer {
  if (answer.length <= maxSize) return answer;
  const header = Buffer.from(answer.subarray(0, HEADER_LEN));
  header[2] = (header[2] ?? 0) | 0x02;
  header.writeUInt16BE(1, 4);
  header.writeUInt32BE(0, 6);
  header.writeUInt16BE(0, 10);
  return Buffer.concat([header, q.wire]);
}
