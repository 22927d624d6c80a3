// Template functions: Go text/template's builtins plus the docker CLI's additions
// (templates.go: json, split, join, title, lower, upper, pad, truncate) and its
// HeaderFunctions, which leave column names untouched when rendering table headers.

import { ArgTypeError, FuncError } from './errors.js';
import { sprint, sprintf, sprintln } from './gofmt.js';
import { goJson, UnsupportedJsonValue } from './gojson.js';
import { MISSING, goTypeName, isInt, isMapLike, isMissing, isNil, isTrue, mapGet, mapSize, sortedEntries, type GoMap } from './values.js';

export type TemplateFunc = (...args: unknown[]) => unknown;

export interface FuncDef {
  fn: TemplateFunc;
  minArgs: number;
  /** Infinity for variadic functions. */
  maxArgs: number;
}

export type FuncMap = Record<string, FuncDef>;

const def = (fn: TemplateFunc, minArgs: number, maxArgs = minArgs): FuncDef => ({ fn, minArgs, maxArgs });

// ---- argument checks -------------------------------------------------------

function expectString(v: unknown, index: number): string {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  if (isMissing(v)) throw new ArgTypeError('invalid value; expected string', index);
  throw new ArgTypeError(`wrong type for value; expected string; got ${goTypeName(v)}`, index);
}

function expectInt(v: unknown, index: number): number {
  if (isInt(v)) return Number(v);
  if (isMissing(v) || v === null) throw new ArgTypeError('invalid value; expected int', index);
  throw new ArgTypeError(`wrong type for value; expected int; got ${goTypeName(v)}`, index);
}

function expectStrings(v: unknown, index: number): string[] {
  if (isNil(v)) return [];
  if (!Array.isArray(v)) throw new ArgTypeError(`wrong type for value; expected []string; got ${goTypeName(v)}`, index);
  return v.map((e) => (typeof e === 'string' ? e : sprint([e])));
}

// ---- index / slice / len ---------------------------------------------------

/** A missing key under `index` yields the map's zero element: "" for string maps
 *  (Docker's Labels/Options are map[string]string, printing nothing), otherwise
 *  nil (printing `<no value>`). JSON carries no element type, so infer it. */
function zeroElement(m: GoMap): unknown {
  return sortedEntries(m).every(([, v]) => typeof v === 'string') ? '' : MISSING;
}

function indexOne(item: unknown, key: unknown): unknown {
  if (isNil(item)) throw new FuncError('index of untyped nil');
  if (Array.isArray(item) || typeof item === 'string') {
    if (!isInt(key)) throw new FuncError(`cannot index slice/array with type ${goTypeName(key)}`);
    const bytes = typeof item === 'string' ? Buffer.from(item, 'utf8') : undefined;
    const len = bytes ? bytes.length : (item as unknown[]).length;
    const i = Number(key);
    if (i < 0 || i >= len) throw new FuncError(`index out of range: ${i}`);
    return bytes ? bytes[i] : (item as unknown[])[i];
  }
  if (isMapLike(item)) {
    if (isNil(key)) throw new FuncError('value is nil; should be of type string');
    if (!(item instanceof Map) && typeof key !== 'string') {
      throw new FuncError(`value has type ${goTypeName(key)}; should be string`);
    }
    const v = mapGet(item, key);
    return v === MISSING ? zeroElement(item) : v;
  }
  throw new FuncError(`can't index item of type ${goTypeName(item)}`);
}

function index(item: unknown, ...keys: unknown[]): unknown {
  return keys.reduce(indexOne, item);
}

function slice(item: unknown, ...idx: unknown[]): unknown {
  if (isNil(item)) throw new FuncError('slice of untyped nil');
  if (typeof item !== 'string' && !Array.isArray(item)) throw new FuncError(`can't slice item of type ${goTypeName(item)}`);
  if (idx.length > 3 || (typeof item === 'string' && idx.length > 2)) throw new FuncError(`too many slice indexes: ${idx.length}`);
  const len = typeof item === 'string' ? Buffer.byteLength(item) : item.length;
  const bounds = idx.map((v) => {
    if (!isInt(v)) throw new FuncError(`cannot index slice/array with type ${goTypeName(v)}`);
    const n = Number(v);
    if (n < 0 || n > len) throw new FuncError(`index out of range: ${n}`);
    return n;
  });
  const [lo = 0, hi = len] = bounds;
  if (lo > hi) throw new FuncError(`invalid slice index: ${lo} > ${hi}`);
  if (typeof item === 'string') return Buffer.from(item, 'utf8').subarray(lo, hi).toString('utf8');
  return item.slice(lo, hi);
}

function length(v: unknown): number {
  if (isNil(v)) throw new FuncError('len of nil pointer');
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isMapLike(v)) return mapSize(v);
  throw new FuncError(`len of type ${goTypeName(v)}`);
}

// ---- comparisons -----------------------------------------------------------

type BasicKind = 'bool' | 'number' | 'string' | 'nil' | 'other';

function basicKind(v: unknown): BasicKind {
  if (isNil(v)) return 'nil';
  if (typeof v === 'bigint' || typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  return 'other';
}

function equalOne(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka !== kb) {
    if (ka !== 'nil' && kb !== 'nil') throw new FuncError('incompatible types for comparison');
    return false;
  }
  if (ka === 'other') throw new FuncError(`non-comparable type ${goTypeName(a)}`);
  // eslint-disable-next-line eqeqeq -- number vs bigint compare by value
  return ka === 'nil' || a == b;
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new FuncError('missing argument for comparison');
  return rest.some((b) => equalOne(a, b));
}

function less(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'bool' || ka === 'nil' || ka === 'other' || kb === 'bool' || kb === 'nil' || kb === 'other') {
    throw new FuncError('invalid type for comparison');
  }
  if (ka !== kb) throw new FuncError('incompatible types for comparison');
  return (a as number | string) < (b as number | string);
}

// ---- escaping --------------------------------------------------------------

function escapeArgs(args: unknown[]): string {
  return args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args);
}

const HTML_ESCAPES: Record<string, string> = { '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;', '\0': '\uFFFD' };
const JS_ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };

function jsEscape(s: string): string {
  return Array.from(s, (ch) => {
    if (ch in JS_ESCAPES) return JS_ESCAPES[ch];
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
    return ch;
  }).join('');
}

function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

// ---- docker's string helpers -----------------------------------------------

/** strings.Title: upper-case letters that start a word (after a separator). */
function title(s: string): string {
  let prev = ' ';
  return Array.from(s, (ch) => {
    const separator = /[A-Za-z0-9_]/.test(prev) ? false : prev.charCodeAt(0) < 0x80 ? true : /\s/u.test(prev);
    prev = ch;
    return separator ? ch.toUpperCase() : ch;
  }).join('');
}

function split(s: string, sep: string): string[] {
  return sep === '' ? Array.from(s) : s.split(sep);
}

function truncate(s: string, n: number): string {
  const bytes = Buffer.from(s, 'utf8');
  return bytes.length < n ? s : bytes.subarray(0, Math.max(n, 0)).toString('utf8');
}

function pad(s: string, prefix: number, suffix: number): string {
  return s === '' ? s : ' '.repeat(Math.max(prefix, 0)) + s + ' '.repeat(Math.max(suffix, 0));
}

function json(v: unknown): string {
  try {
    return goJson(v);
  } catch (e) {
    // Docker ignores the encoder's error and prints what was written: nothing.
    if (e instanceof UnsupportedJsonValue) return '';
    throw e;
  }
}

// ---- tables ----------------------------------------------------------------

/** Go text/template builtins. `and`/`or` are evaluated lazily by the evaluator;
 *  the entries here give arity and the eager fallback. */
export const BUILTIN_FUNCS: FuncMap = {
  and: def((...a) => a.find((v) => !isTrue(v)) ?? a[a.length - 1], 1, Infinity),
  or: def((...a) => a.find((v) => isTrue(v)) ?? a[a.length - 1], 1, Infinity),
  not: def((v) => !isTrue(v), 1),
  call: def((fn, ...args) => {
    if (typeof fn !== 'function') throw new FuncError(`non-function of type ${goTypeName(fn)}`);
    return (fn as TemplateFunc)(...args);
  }, 1, Infinity),
  html: def((...a) => escapeArgs(a).replace(/["'&<>\0]/g, (c) => HTML_ESCAPES[c]), 0, Infinity),
  js: def((...a) => jsEscape(escapeArgs(a)), 0, Infinity),
  urlquery: def((...a) => queryEscape(escapeArgs(a)), 0, Infinity),
  index: def(index, 1, Infinity),
  slice: def(slice, 1, Infinity),
  len: def(length, 1),
  print: def((...a) => sprint(a), 0, Infinity),
  printf: def((f, ...a) => sprintf(expectString(f, 0), a), 1, Infinity),
  println: def((...a) => sprintln(a), 0, Infinity),
  eq: def(eq, 1, Infinity),
  ne: def((a, b) => !eq(a, b), 2),
  lt: def((a, b) => less(a, b), 2),
  le: def((a, b) => less(a, b) || eq(a, b), 2),
  gt: def((a, b) => !(less(a, b) || eq(a, b)), 2),
  ge: def((a, b) => !less(a, b), 2),
};

/** The docker CLI's template functions (cli/templates). */
export const DOCKER_FUNCS: FuncMap = {
  json: def(json, 1),
  split: def((s, sep) => split(expectString(s, 0), expectString(sep, 1)), 2),
  join: def((a, sep) => expectStrings(a, 0).join(expectString(sep, 1)), 2),
  title: def((s) => title(expectString(s, 0)), 1),
  lower: def((s) => expectString(s, 0).toLowerCase(), 1),
  upper: def((s) => expectString(s, 0).toUpperCase(), 1),
  pad: def((s, p, q) => pad(expectString(s, 0), expectInt(p, 1), expectInt(q, 2)), 3),
  truncate: def((s, n) => truncate(expectString(s, 0), expectInt(n, 1)), 2),
};

const identity = (v: unknown): unknown => v;

/** Docker's HeaderFunctions: in a table header row, functions return the column name. */
export const HEADER_FUNCS: FuncMap = {
  json: def(identity, 1),
  split: def(identity, 2),
  join: def(identity, 2),
  title: def(identity, 1),
  lower: def(identity, 1),
  upper: def(identity, 1),
  truncate: def(identity, 2),
};
