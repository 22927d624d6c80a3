import { randomUUID } from 'node:crypto';
import type { Intent, IntentRecord } from '../store/records.js';
import type { Store } from '../store/store.js';

// The journal of multi-step operations: an intent is on record (a committed SQLite row)
// before the operation's first step touches a process, the kernel or a driver, and goes
// once the operation is done, or undone by its own error path. berthd killed with -9
// leaves its intents behind; start-up (controller.ts) finishes or undoes each one, then
// forgets it. Every operation that leaves something behind when cut follows this
// pattern: the records say what should be, the intent says what may be half made.
//
// What the records alone show (a network's record is written before its bridge, an
// endpoint's address before its interface) needs no intent: start-up makes the kernel
// match the records. An intent is for what they cannot show: a process spawned before
// the container is recorded as running, a record dropped before the objects it names.

export class Journal {
  constructor(private readonly store: Store) {}

  /** Runs op with its intent on record; the intent goes whether op succeeds or fails (its own error path undoes it). */
  async run<T>(intent: Intent, op: () => Promise<T>): Promise<T> {
    const record: IntentRecord = { ...intent, id: randomUUID(), began: new Date().toISOString() };
    this.store.putIntent(record);
    try {
      return await op();
    } finally {
      this.store.deleteIntent(record.id);
    }
  }

  /** The intents a crash left behind, oldest first (read at start-up, before anything runs). */
  pending(): IntentRecord[] {
    return this.store.listIntents();
  }

  /** An intent finished or undone by start-up. */
  settled(intent: IntentRecord): void {
    this.store.deleteIntent(intent.id);
  }
}
