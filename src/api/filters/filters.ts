import { InvalidParameterError } from '../../util/errors.js';

// The `filters` query parameter of Docker's list endpoints, and the ways dockerd matches
// a value against it (api/types/filters). Each resource's module (containers.ts,
// networks.ts, images.ts, events.ts) says which keys it takes and how each matches.

export class Filters {
  /** each value's expression, compiled once per request rather than once per listed object */
  private readonly regexps = new Map<string, RegExp | undefined>();

  private constructor(private readonly fields: ReadonlyMap<string, readonly string[]>) {}

  /** {"k":{"v":true}} or the legacy {"k":["v"]}; absent or empty means no filter. */
  static parse(raw: string | null): Filters {
    const out = new Map<string, string[]>();
    if (!raw) return new Filters(out);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new InvalidParameterError(`invalid filters: ${raw}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidParameterError(`invalid filters: ${raw}`);
    for (const [key, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (Array.isArray(v)) out.set(key, v.map(String));
      else if (v && typeof v === 'object') out.set(key, Object.entries(v).filter(([, on]) => on).map(([x]) => x));
      else throw new InvalidParameterError(`invalid filters: ${raw}`);
    }
    return new Filters(out);
  }

  static of(fields: Record<string, string[]>): Filters {
    return new Filters(new Map(Object.entries(fields)));
  }

  /** dockerd's first check: any key the endpoint does not know is a 400. */
  accept(keys: readonly string[]): this {
    for (const key of this.fields.keys()) if (!keys.includes(key)) throw invalidFilter(key);
    return this;
  }

  get size(): number {
    return this.fields.size;
  }

  has(key: string): boolean {
    return this.fields.has(key);
  }

  get(key: string): readonly string[] {
    return this.fields.get(key) ?? [];
  }

  /** A value equal to `source` (Args.ExactMatch); true when the key is not filtered on. */
  exact(key: string, source: string): boolean {
    const values = this.fields.get(key);
    return !values?.length || values.includes(source);
  }

  /**
   * A value equal to `source` or an unanchored regular expression found in it
   * (Args.Match: `name=web` matches "proj_web_1", `name=^web$` only "web"). A value
   * that is no valid expression matches only exactly.
   */
  match(key: string, source: string): boolean {
    if (this.exact(key, source)) return true;
    return this.get(key).some((v) => this.regexpOf(v)?.test(source) ?? false);
  }

  private regexpOf(pattern: string): RegExp | undefined {
    if (!this.regexps.has(pattern)) this.regexps.set(pattern, goRegExp(pattern));
    return this.regexps.get(pattern);
  }

  /** A value equal to `source` or a prefix of it (Args.FuzzyMatch: container ids). */
  prefix(key: string, source: string): boolean {
    return this.exact(key, source) || this.get(key).some((v) => source.startsWith(v));
  }

  /**
   * Every `k` and `k=v` value found in `labels` (Args.MatchKVList): label filters must
   * all match, unlike every other key.
   */
  labels(key: string, labels: Readonly<Record<string, string>>): boolean {
    const values = this.get(key);
    if (!values.length) return true;
    return values.every((spec) => {
      const i = spec.indexOf('=');
      const k = i < 0 ? spec : spec.slice(0, i);
      if (!Object.hasOwn(labels, k)) return false;
      return i < 0 || labels[k] === spec.slice(i + 1);
    });
  }

  /** The one value of a key that takes a single value; the message is the caller's. */
  single(key: string, tooMany: string): string | undefined {
    const values = this.get(key);
    if (values.length > 1) throw new InvalidParameterError(tooMany);
    return values[0];
  }
}

/** A Go regexp as a JS one: a leading "(?i)"-style flag group becomes flags; undefined when invalid. */
function goRegExp(pattern: string): RegExp | undefined {
  const flags = /^\(\?([ims]+)\)/.exec(pattern);
  try {
    return flags ? new RegExp(pattern.slice(flags[0].length), flags[1]) : new RegExp(pattern);
  } catch {
    return undefined;
  }
}

/**
 * dockerd's "Invalid filter 'key'", "Invalid filter 'key=value'" or, for a key it
 * judges by all its values, "Invalid filter 'key=[v1 v2]'" (a 400).
 */
export function invalidFilter(key: string, value?: string | readonly string[]): InvalidParameterError {
  const shown = value === undefined ? '' : typeof value === 'string' ? `=${value}` : `=[${value.join(' ')}]`;
  return new InvalidParameterError(`Invalid filter '${key}${shown}'`);
}
