// A time budget for an anchor: stop adding containers once the set-up share is spent.
import { nowMs } from './timing.js';

export class Budget {
  private readonly t0 = nowMs();

  /** setupShare: the fraction of the budget that set-up may use (teardown takes the rest). */
  constructor(private readonly totalS: number, private readonly setupShare: number) {}

  setupSpent(): boolean {
    return nowMs() - this.t0 > this.totalS * 1000 * this.setupShare;
  }

  elapsedS(): number {
    return (nowMs() - this.t0) / 1000;
  }
}

export function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${v}"`);
  return n;
}

/** Networks needed so that none holds more than perNet containers (a bridge holds at most 1023 ports). */
export function networksFor(n: number, perNet = 250): number {
  return Math.max(1, Math.ceil(n / perNet));
}
