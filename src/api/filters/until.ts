import { InvalidParameterError } from '../../util/errors.js';

// The `until` filter of the prune endpoints, read as dockerd reads it
// (api/types/time.GetTimestamp): a Go duration back from now ("10m", "1h30m"), a Unix
// time ("1600000000", "1600000000.5"), or a date "2006-01-02", "2006-01-02T15",
// "…T15:04", "…T15:04:05[.999]" with an optional "Z" or "±07:00" zone (local time without).

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
const DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/;

/** The instant (ms since the epoch) an `until` value names; a 400 when it names none. */
export function untilInstant(value: string, now = Date.now()): number {
  if (value !== '0' && DURATION.test(value)) return now - durationMs(value);
  if (/^\d+(?:\.\d{1,9})?$/.test(value)) return Number(value) * 1000;
  const m = DATE.exec(value);
  const t = m ? dateMs(m) : NaN;
  if (Number.isNaN(t)) throw new InvalidParameterError(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  return t;
}

function durationMs(value: string): number {
  const sign = value.startsWith('-') ? -1 : 1;
  let ms = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) ms += Number(n) * UNIT_MS[unit];
  return sign * ms;
}

function dateMs(m: RegExpExecArray): number {
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  const ms = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return NaN;
  const zone = m[8];
  if (!zone) return new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  const offsetMin = /^[zZ]$/.test(zone) ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMin * 60e3;
}
