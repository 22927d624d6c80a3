// How JavaScript values stand in for Go values inside templates.
// Data reaching a template is decoded JSON, like the docker CLI's fallback path
// (map[string]interface{}): plain objects and Map instances are Go maps, arrays are
// slices, integral numbers are ints and other numbers float64.

/** Go's "invalid value": a missing map key or field. Prints as `<no value>`. */
export const MISSING: unique symbol = Symbol('no value');
export type Missing = typeof MISSING;

export type GoMap = Map<unknown, unknown> | Record<string, unknown>;

export function isMissing(v: unknown): v is Missing | undefined {
  return v === MISSING || v === undefined;
}

/** Nil in Go terms: a missing value or JSON null. */
export function isNil(v: unknown): boolean {
  return isMissing(v) || v === null;
}

export function isMapLike(v: unknown): v is GoMap {
  if (v instanceof Map) return true;
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Entries in Go's order for maps: sorted by key (fmt, range and encoding/json all sort). */
export function sortedEntries(m: GoMap): [unknown, unknown][] {
  const entries: [unknown, unknown][] = m instanceof Map
    ? [...m.entries()]
    : Object.entries(m).filter(([, v]) => v !== undefined);
  return entries.sort(([a], [b]) => compareKeys(a, b));
}

export function mapSize(m: GoMap): number {
  return sortedEntries(m).length;
}

/** The value at `key`, or MISSING when the map has no such entry. */
export function mapGet(m: GoMap, key: unknown): unknown {
  if (m instanceof Map) return m.has(key) ? m.get(key) : MISSING;
  if (typeof key !== 'string' && typeof key !== 'number') return MISSING;
  if (!Object.prototype.hasOwnProperty.call(m, key)) return MISSING;
  const v = m[String(key)];
  return v === undefined ? MISSING : v;
}

/** The Go type a value would have after json.Unmarshal into interface{}. */
export function goTypeName(v: unknown): string {
  if (isMissing(v) || v === null) return '<nil>';
  switch (typeof v) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'bigint': return 'int64';
    case 'number': return Number.isInteger(v) ? 'int' : 'float64';
    case 'function': return 'func';
  }
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Date) return 'time.Time';
  return 'map[string]interface {}';
}

/** Go's template truth: zero values and empty collections are false. */
export function isTrue(v: unknown): boolean {
  if (isNil(v)) return false;
  switch (typeof v) {
    case 'string': return v.length > 0;
    case 'boolean': return v;
    case 'number': return v !== 0;
    case 'bigint': return v !== 0n;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (isMapLike(v)) return mapSize(v) > 0;
  return true;
}

/** Integral JS numbers behave as Go ints (Docker's typed fields are ints). */
export function isInt(v: unknown): v is number | bigint {
  return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
}
