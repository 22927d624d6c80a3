// Go's fmt package as templates see it: how values print (%v), print/println
// spacing rules, and printf with its verbs, flags, widths and `%!verb(type=value)`
// complaints. Only what docker templates reach is covered (no %p, no complex numbers).

import { MISSING, goTypeName, isInt, isMapLike, isMissing, sortedEntries } from './values.js';

interface Spec {
  minus: boolean; plus: boolean; sharp: boolean; space: boolean; zero: boolean;
  width?: number; prec?: number;
}

const PLAIN: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };

// ---- numbers ---------------------------------------------------------------

function intString(n: number | bigint): string {
  return typeof n === 'bigint' ? n.toString() : BigInt(n).toString();
}

/** Decimal digits (no trailing zeros) and decimal-point position of |x|. */
function decimalDigits(x: number, significant?: number): { digits: string; dp: number } {
  const s = significant === undefined ? Math.abs(x).toExponential() : Math.abs(x).toExponential(Math.max(significant, 1) - 1);
  const [mant, exp] = s.split('e');
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  return { digits, dp: Number(exp) + 1 };
}

function expSuffix(exp: number, upper: boolean): string {
  const abs = Math.abs(exp);
  return (upper ? 'E' : 'e') + (exp < 0 ? '-' : '+') + (abs < 10 ? '0' : '') + abs;
}

function fixedFromDigits(digits: string, dp: number): string {
  if (dp <= 0) return '0.' + '0'.repeat(-dp) + digits;
  if (dp >= digits.length) return digits + '0'.repeat(dp - digits.length);
  return digits.slice(0, dp) + '.' + digits.slice(dp);
}

/** %g: shortest (prec undefined) or `prec` significant digits, exponent when small/large. */
function formatG(x: number, prec: number | undefined, upper: boolean): string {
  const { digits, dp } = decimalDigits(x, prec === undefined ? undefined : Math.max(prec, 1));
  let eprec = prec === undefined ? 6 : Math.max(prec, 1);
  if (prec !== undefined && eprec > digits.length && digits.length >= dp) eprec = digits.length;
  const exp = x === 0 ? 0 : dp - 1;
  if (x !== 0 && (exp < -4 || exp >= eprec)) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return mant + expSuffix(exp, upper);
  }
  return x === 0 ? '0' : fixedFromDigits(digits, dp);
}

function formatE(x: number, prec: number | undefined, upper: boolean): string {
  const s = prec === undefined ? Math.abs(x).toExponential() : Math.abs(x).toExponential(prec);
  const [mant, exp] = s.split('e');
  return mant + expSuffix(Number(exp), upper);
}

function formatF(x: number, prec: number | undefined): string {
  const abs = Math.abs(x);
  if (abs >= 1e21) return BigInt(abs).toString() + (prec ? '.' + '0'.repeat(prec) : '');
  if (prec !== undefined) return abs.toFixed(prec);
  const { digits, dp } = decimalDigits(abs);
  return abs === 0 ? '0' : fixedFromDigits(digits, dp);
}

/** A float64 as Go's %v/%e/%f/%g print it (sign handled by the caller). */
function floatBody(x: number, verb: string, prec: number | undefined): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return 'Inf';
  switch (verb) {
    case 'e': case 'E': return formatE(x, prec ?? 6, verb === 'E');
    case 'f': case 'F': return formatF(x, prec ?? 6);
    case 'g': case 'G': return formatG(x, prec, verb === 'G');
    default: return formatG(x, prec, false);
  }
}

function signOf(negative: boolean, spec: Spec): string {
  return negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
}

function padNumber(sign: string, body: string, spec: Spec): string {
  if (spec.zero && !spec.minus && spec.width !== undefined) {
    return sign + body.padStart(spec.width - sign.length, '0');
  }
  return pad(sign + body, spec);
}

function formatFloat(x: number, verb: string, spec: Spec): string {
  const negative = x < 0 || Object.is(x, -0);
  const body = floatBody(x, verb, spec.prec);
  const sign = Number.isNaN(x) ? (spec.plus ? '+' : spec.space ? ' ' : '') : Number.isFinite(x) ? signOf(negative, spec) : negative ? '-' : '+';
  if (!Number.isFinite(x)) return pad(sign + body, spec);
  return padNumber(sign, body, spec);
}

const INT_BASES: Record<string, number> = { b: 2, o: 8, O: 8, d: 10, x: 16, X: 16 };

function formatInt(n: number | bigint, verb: string, spec: Spec): string {
  const big = typeof n === 'bigint' ? n : BigInt(n);
  if (verb === 'c') return pad(String.fromCodePoint(Number(big)), spec);
  if (verb === 'q') return pad(quoteRune(Number(big)), spec);
  if (verb === 'U') return pad('U+' + big.toString(16).toUpperCase().padStart(4, '0'), spec);
  const negative = big < 0n;
  let digits = (negative ? -big : big).toString(INT_BASES[verb] ?? 10);
  if (verb === 'X') digits = digits.toUpperCase();
  if (spec.prec !== undefined) digits = spec.prec === 0 && big === 0n ? '' : digits.padStart(spec.prec, '0');
  let prefix = '';
  if (verb === 'O') prefix = '0o';
  else if (spec.sharp) prefix = verb === 'x' ? '0x' : verb === 'X' ? '0X' : verb === 'b' ? '0b' : verb === 'o' && !digits.startsWith('0') ? '0' : '';
  const sign = signOf(negative, spec);
  if (spec.prec !== undefined) return pad(sign + prefix + digits, spec);
  return padNumber(sign + prefix, digits, spec);
}

// ---- strings ---------------------------------------------------------------

const QUOTE_ESCAPES: Record<string, string> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\',
};

function escapeCodePoint(ch: string, quote: string): string {
  if (ch === quote) return '\\' + ch;
  if (ch in QUOTE_ESCAPES) return QUOTE_ESCAPES[ch];
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x20 || cp === 0x7f) return '\\x' + cp.toString(16).padStart(2, '0');
  if ((cp >= 0x80 && cp < 0xa0) || cp === 0x2028 || cp === 0x2029 || cp === 0xfeff) return '\\u' + cp.toString(16).padStart(4, '0');
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd';
  return ch;
}

/** strconv.Quote: a double-quoted Go string literal. */
export function quoteString(s: string): string {
  return '"' + Array.from(s, (ch) => escapeCodePoint(ch, '"')).join('') + '"';
}

function quoteRune(cp: number): string {
  return "'" + escapeCodePoint(String.fromCodePoint(cp), "'") + "'";
}

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pad(s: string, spec: Spec): string {
  const width = spec.width ?? 0;
  const missing = width - runeCount(s);
  if (missing <= 0) return s;
  if (spec.minus) return s + ' '.repeat(missing);
  return (spec.zero ? '0' : ' ').repeat(missing) + s;
}

function formatString(s: string, verb: string, spec: Spec): string {
  switch (verb) {
    case 'v': case 's': return pad(spec.prec === undefined ? s : Array.from(s).slice(0, spec.prec).join(''), spec);
    case 'q': return pad(quoteString(s), spec);
    case 'x': case 'X': {
      const hex = Buffer.from(s, 'utf8').toString('hex');
      return pad(verb === 'X' ? hex.toUpperCase() : hex, spec);
    }
  }
  return badVerb(verb, s);
}

// ---- values ----------------------------------------------------------------

function badVerb(verb: string, v: unknown): string {
  if (v === null || isMissing(v)) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${printValue(v)})`;
}

function formatComposite(v: unknown, verb: string, spec: Spec): string | undefined {
  if (Array.isArray(v)) return '[' + v.map((e) => formatArg(e, verb, spec)).join(' ') + ']';
  if (isMapLike(v)) {
    const parts = sortedEntries(v).map(([k, e]) => `${formatArg(k, verb, spec)}:${formatArg(e, verb, spec)}`);
    return 'map[' + parts.join(' ') + ']';
  }
  return undefined;
}

/** One printf operand formatted with one verb. */
function formatArg(v: unknown, verb: string, spec: Spec): string {
  if (verb === 'T') return pad(goTypeName(v), spec);
  if (v === null || isMissing(v)) return verb === 'v' ? pad('<nil>', spec) : badVerb(verb, v);
  if (typeof v === 'string') return formatString(v, verb, spec);
  if (typeof v === 'boolean') return verb === 'v' || verb === 't' ? pad(String(v), spec) : badVerb(verb, v);
  if (isInt(v)) {
    if ('vbcdoOqxXU'.includes(verb)) return formatInt(v, verb === 'v' ? 'd' : verb, spec);
    if ('eEfFgG'.includes(verb)) return formatFloat(Number(v), verb, spec);
    return badVerb(verb, v);
  }
  if (typeof v === 'number') return 'veEfFgG'.includes(verb) ? formatFloat(v, verb, spec) : badVerb(verb, v);
  if (v instanceof Date) return verb === 'v' || verb === 's' ? pad(v.toISOString(), spec) : badVerb(verb, v);
  const composite = formatComposite(v, verb, spec);
  if (composite !== undefined) return composite;
  return verb === 'v' ? pad(String(v), spec) : badVerb(verb, v);
}

/** A value as fmt.Sprint prints it (%v): `[a b]`, `map[k:v]`, `<nil>` inside collections. */
export function printValue(v: unknown): string {
  if (v === MISSING || v === undefined) return '<no value>';
  return formatArg(v, 'v', PLAIN);
}

/** fmt.Sprint: a space between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    const prevString = i > 0 && typeof args[i - 1] === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += formatArg(a, 'v', PLAIN);
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands and a trailing newline. */
export function sprintln(args: unknown[]): string {
  return args.map((a) => formatArg(a, 'v', PLAIN)).join(' ') + '\n';
}

// ---- printf ----------------------------------------------------------------

interface Cursor { format: string; i: number; args: unknown[]; argNum: number; reordered: boolean }

function readNumber(c: Cursor): number | undefined {
  const m = /^\d+/.exec(c.format.slice(c.i));
  if (!m) return undefined;
  c.i += m[0].length;
  return Number(m[0]);
}

/** `[n]` explicit argument index; false when malformed. */
function readArgIndex(c: Cursor): boolean {
  if (c.format[c.i] !== '[') return true;
  const m = /^\[(\d+)\]/.exec(c.format.slice(c.i));
  c.reordered = true;
  if (!m || Number(m[1]) < 1) return false;
  c.i += m[0].length;
  c.argNum = Number(m[1]) - 1;
  return true;
}

function readStar(c: Cursor): number | 'bad' {
  c.i++;
  const v = c.args[c.argNum++];
  return isInt(v) ? Number(v) : 'bad';
}

function readSpec(c: Cursor): { spec: Spec; error?: string } {
  const spec: Spec = { ...PLAIN };
  for (; c.i < c.format.length; c.i++) {
    const f = c.format[c.i];
    if (f === '-') spec.minus = true;
    else if (f === '+') spec.plus = true;
    else if (f === '#') spec.sharp = true;
    else if (f === ' ') spec.space = true;
    else if (f === '0') spec.zero = true;
    else break;
  }
  if (!readArgIndex(c)) return { spec, error: 'BADINDEX' };
  if (c.format[c.i] === '*') {
    const w = readStar(c);
    if (w === 'bad') return { spec, error: 'BADWIDTH' };
    if (w < 0) spec.minus = true;
    spec.width = Math.abs(w);
  } else spec.width = readNumber(c);
  if (c.format[c.i] === '.') {
    c.i++;
    if (!readArgIndex(c)) return { spec, error: 'BADINDEX' };
    if (c.format[c.i] === '*') {
      const p = readStar(c);
      if (p === 'bad') return { spec, error: 'BADPREC' };
      spec.prec = p < 0 ? undefined : p;
    } else spec.prec = readNumber(c) ?? 0;
  }
  if (!readArgIndex(c)) return { spec, error: 'BADINDEX' };
  if (spec.minus) spec.zero = false;
  return { spec };
}

function directive(c: Cursor): string {
  const { spec, error } = readSpec(c);
  if (c.i >= c.format.length) return '%!(NOVERB)';
  const verb = String.fromCodePoint(c.format.codePointAt(c.i) ?? 0);
  c.i += verb.length;
  if (error) return `%!${verb}(${error})`;
  if (verb === '%') return '%';
  if (c.argNum >= c.args.length) return `%!${verb}(MISSING)`;
  const arg = c.args[c.argNum++];
  if (!/^[vTtbcdoOqxXUeEfFgGs]$/.test(verb)) return badVerb(verb, arg);
  return formatArg(arg, verb, spec);
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: unknown[]): string {
  const c: Cursor = { format, i: 0, args, argNum: 0, reordered: false };
  let out = '';
  while (c.i < format.length) {
    const pct = format.indexOf('%', c.i);
    if (pct < 0) { out += format.slice(c.i); break; }
    out += format.slice(c.i, pct);
    c.i = pct + 1;
    out += directive(c);
  }
  if (!c.reordered && c.argNum < args.length) {
    const extra = args.slice(c.argNum).map((a) => (a === null || isMissing(a) ? '<nil>' : `${goTypeName(a)}=${printValue(a)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}
