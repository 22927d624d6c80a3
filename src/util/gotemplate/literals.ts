// Go literal syntax inside actions: quoted strings, character constants, numbers.
// Failures throw plain Errors; the parser turns them into `template: :N: …`.

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\',
};

/** Decodes the body of a Go interpreted literal (between the quotes). */
function unescape(body: string, quote: '"' | "'"): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') { out += c; continue; }
    const e = body[++i];
    if (e !== undefined && e in SIMPLE_ESCAPES) { out += SIMPLE_ESCAPES[e]; continue; }
    if (e === quote) { out += e; continue; }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen) {
      const hex = body.slice(i + 1, i + 1 + hexLen);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLen) throw new Error('invalid syntax');
      out += String.fromCodePoint(parseInt(hex, 16));
      i += hexLen;
      continue;
    }
    const oct = body.slice(i, i + 3);
    if (/^[0-7]{3}$/.test(oct)) { out += String.fromCharCode(parseInt(oct, 8)); i += 2; continue; }
    throw new Error('invalid syntax');
  }
  return out;
}

export function unquoteString(text: string): string {
  if (text.startsWith('`')) return text.slice(1, -1).replace(/\r/g, '');
  return unescape(text.slice(1, -1), '"');
}

/** A character constant like 'a' or '\n' is its code point, as in Go. */
export function unquoteChar(text: string): number {
  const s = unescape(text.slice(1, -1), "'");
  const cp = s.codePointAt(0);
  if (cp === undefined || String.fromCodePoint(cp) !== s) throw new Error(`malformed character constant: ${text}`);
  return cp;
}

export function parseNumber(text: string): number {
  const neg = text.startsWith('-');
  const body = text.replace(/^[+-]/, '').replace(/_/g, '');
  if (body.endsWith('i')) throw new Error(`complex numbers are not supported: ${text}`);
  let value: number;
  if (/^0[0-7]+$/.test(body)) value = parseInt(body, 8);
  else if (/^0[xX][0-9a-fA-F]+$|^0[oObB][0-9a-fA-F]+$/.test(body)) value = Number(body.replace(/^0[oO]/, '0o'));
  else if (/^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(body)) value = Number(body);
  else throw new Error(`illegal number syntax: "${text}"`);
  if (Number.isNaN(value)) throw new Error(`illegal number syntax: "${text}"`);
  return neg ? -value : value;
}
