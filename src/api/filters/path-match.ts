import { InvalidParameterError } from '../../util/errors.js';

// Go's path.Match, which dockerd's `reference` filter uses: `*` is any run of characters
// but '/', `?` one such character, `[a-z]` / `[^…]` a class, `\` escapes. A malformed
// pattern is dockerd's "syntax error in pattern".

const BAD = 'syntax error in pattern';

/** The pattern as an anchored RegExp; throws on a malformed pattern, as Go does. */
export function pathPattern(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (++i >= pattern.length) throw new InvalidParameterError(BAD);
      re += literal(pattern[i]);
    } else if (c === '[') {
      const end = classEnd(pattern, i + 1);
      re += characterClass(pattern.slice(i + 1, end));
      i = end;
    } else re += literal(c);
  }
  return new RegExp(`^${re}$`, 'u');
}

export function pathMatch(pattern: string, name: string): boolean {
  return pathPattern(pattern).test(name);
}

/** The index of the ']' closing a class whose body starts at `from`. */
function classEnd(p: string, from: number): number {
  for (let i = from; i < p.length; i++) {
    if (p[i] === '\\') i++;
    else if (p[i] === ']' && i > from + (p[from] === '^' ? 1 : 0)) return i;
  }
  throw new InvalidParameterError(BAD);
}

function characterClass(body: string): string {
  const negated = body.startsWith('^');
  const chars = [...(negated ? body.slice(1) : body)];
  let out = '';
  for (let i = 0; i < chars.length;) {
    const lo = classChar(chars, i);
    i = lo.next;
    if (chars[i] === '-') {
      const hi = classChar(chars, i + 1);
      if (hi.char < lo.char) throw new InvalidParameterError(BAD);
      out += `${literal(lo.char)}-${literal(hi.char)}`;
      i = hi.next;
    } else out += literal(lo.char);
  }
  return negated ? `[^${out}]` : `[${out}]`;
}

/** One character of a class (escapes allowed); '-' or ']' unescaped there is malformed. */
function classChar(chars: string[], i: number): { char: string; next: number } {
  let c = chars[i];
  if (c === undefined || c === '-' || c === ']') throw new InvalidParameterError(BAD);
  if (c === '\\') {
    c = chars[i + 1];
    if (c === undefined) throw new InvalidParameterError(BAD);
    return { char: c, next: i + 2 };
  }
  return { char: c, next: i + 1 };
}

function literal(c: string): string {
  return `\\u{${c.codePointAt(0)!.toString(16)}}`;
}
