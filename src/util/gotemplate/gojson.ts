// Compact JSON as Go's encoding/json writes it. Differences from JSON.stringify:
// U+2028/U+2029 are always escaped, lone surrogates become \ufffd, map keys are
// sorted, and <, >, & can be escaped (json.Marshal does; the docker CLI's `json`
// template function turns that off with SetEscapeHTML(false)).

import { isMapLike, isMissing, sortedEntries } from './values.js';

export interface GoJsonOptions {
  /** Escape <, > and & as \u003c, \u003e, \u0026 (json.Marshal's default). */
  escapeHTML?: boolean;
  /** Object key order: 'sorted' (Go maps) or 'insertion' (Go structs). */
  keyOrder?: 'sorted' | 'insertion';
}

export class UnsupportedJsonValue extends Error {}

function encodeString(s: string, escapeHTML: boolean): string {
  let out = JSON.stringify(s)
    .replace(/[\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16))
    .replace(/\\ud[89a-f][0-9a-f]{2}/g, '\\ufffd');
  if (escapeHTML) out = out.replace(/[<>&]/g, (c) => '\\u00' + c.charCodeAt(0).toString(16));
  return out;
}

function encodeNumber(n: number): string {
  if (!Number.isFinite(n)) throw new UnsupportedJsonValue(`json: unsupported value: ${n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN'}`);
  if (Number.isInteger(n) && Math.abs(n) >= 1e21) return BigInt(n).toString();
  return JSON.stringify(n);
}

function encode(v: unknown, opts: Required<GoJsonOptions>): string {
  if (v === null || isMissing(v)) return 'null';
  switch (typeof v) {
    case 'string': return encodeString(v, opts.escapeHTML);
    case 'number': return encodeNumber(v);
    case 'bigint': return v.toString();
    case 'boolean': return String(v);
    case 'function': case 'symbol': throw new UnsupportedJsonValue(`json: unsupported type: ${typeof v}`);
  }
  const withToJSON = v as { toJSON?: () => unknown };
  if (typeof withToJSON.toJSON === 'function') return encode(withToJSON.toJSON(), opts);
  if (Array.isArray(v)) return '[' + v.map((e) => encode(e, opts)).join(',') + ']';
  if (!isMapLike(v)) return 'null';
  const entries = opts.keyOrder === 'insertion' && !(v instanceof Map)
    ? Object.entries(v).filter(([, e]) => e !== undefined)
    : sortedEntries(v);
  return '{' + entries.map(([k, e]) => `${encodeString(String(k), opts.escapeHTML)}:${encode(e, opts)}`).join(',') + '}';
}

/** Go-style compact JSON; throws UnsupportedJsonValue for NaN/Inf/functions. */
export function goJson(v: unknown, options: GoJsonOptions = {}): string {
  return encode(v, { escapeHTML: options.escapeHTML ?? false, keyOrder: options.keyOrder ?? 'sorted' });
}
