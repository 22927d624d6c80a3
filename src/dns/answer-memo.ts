// The resolver's own answers, kept as bytes: the same query (every byte after the id) from
// the same container over the same transport gets the same answer while the name table is
// unchanged, so a repeat is a copy with the id written in, without parsing, looking up or
// encoding again. Only answers that are the same every time are kept: not a rotated list
// (a name held by several endpoints answers in turn), not a forwarded one (its TTLs count
// down: cache.ts). Emptied whenever the table changes (its generation moves).
import type { Transport } from './handler.js';

export type MemoKind = 'local' | 'nxdomain';

interface Entry {
  answer: Buffer;
  kind: MemoKind;
}

/** Past this many answers the memo starts again (a flood of distinct names must not grow it). */
const MAX_ENTRIES = 10_000;

export class AnswerMemo {
  /** asker -> transport and query bytes after the id -> answer */
  private readonly byAsker = new Map<string, Map<string, Entry>>();
  private size = 0;
  private generation = -1;

  /** The kept answer to msg, re-addressed to its id; undefined when none (or the table moved on). */
  get(generation: number, asker: string, transport: Transport, msg: Buffer): { answer: Buffer; kind: MemoKind } | undefined {
    if (generation !== this.generation) {
      this.clear();
      this.generation = generation;
      return undefined;
    }
    const e = this.byAsker.get(asker)?.get(keyOf(transport, msg));
    if (!e) return undefined;
    const answer = Buffer.allocUnsafe(e.answer.length);
    e.answer.copy(answer);
    answer[0] = msg[0] as number;
    answer[1] = msg[1] as number;
    return { answer, kind: e.kind };
  }

  /** Keeps an answer made under table generation `generation`. */
  put(generation: number, asker: string, transport: Transport, msg: Buffer, answer: Buffer, kind: MemoKind): void {
    if (generation !== this.generation) return;
    if (this.size >= MAX_ENTRIES) this.clear();
    let m = this.byAsker.get(asker);
    if (!m) this.byAsker.set(asker, (m = new Map()));
    const key = keyOf(transport, msg);
    if (!m.has(key)) this.size++;
    m.set(key, { answer: Buffer.from(answer), kind });
  }

  clear(): void {
    this.byAsker.clear();
    this.size = 0;
  }
}

function keyOf(transport: Transport, msg: Buffer): string {
  return (transport === 'udp' ? 'u' : 't') + msg.toString('latin1', 2);
}
