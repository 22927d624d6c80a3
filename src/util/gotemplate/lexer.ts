// Lexer for Go text/template syntax ("{{" … "}}" actions inside plain text).
// It follows Go's token rules closely because users paste templates written for
// `docker … --format`, including trim markers ("{{- " / " -}}") and comments.

import { TemplateParseError } from './errors.js';

export type TokenKind =
  | 'text' | 'leftDelim' | 'rightDelim' | 'leftParen' | 'rightParen'
  | 'pipe' | 'declare' | 'assign' | 'char' | 'space'
  | 'field' | 'dot' | 'variable' | 'identifier' | 'keyword'
  | 'string' | 'rawString' | 'charConstant' | 'number' | 'bool' | 'nil' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset of the token's first character in the template. */
  pos: number;
}

const KEYWORDS = new Set([
  'block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with',
]);

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
/** Go's letters and digits. ASCII is decided by hand: compiling the Unicode class costs a
 *  CLI run ~4 ms, and only a template with non-ASCII names ever needs it. */
const UNICODE_ALNUM = /[\p{L}\p{Nd}_]/u;
const isAlnum = (c: string | undefined): boolean => {
  if (c === undefined) return false;
  if (c < '\x80') return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_';
  return UNICODE_ALNUM.test(c);
};
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** 1-based line of an offset, as Go reports it in errors. */
export function lineOf(input: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < input.length; i++) if (input[i] === '\n') line++;
  return line;
}

/** Go's %#U rendering of a character, used in "bad character" errors. */
function describeChar(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}

export class Lexer {
  private pos = 0;
  private parenDepth = 0;
  private readonly tokens: Token[] = [];

  constructor(private readonly input: string) {}

  run(): Token[] {
    while (this.pos < this.input.length) this.lexText();
    this.tokens.push({ kind: 'eof', text: '', pos: this.input.length });
    return this.tokens;
  }

  private fail(message: string, at = this.pos): never {
    throw new TemplateParseError(message, lineOf(this.input, at));
  }

  private emit(kind: TokenKind, start: number, end = this.pos): void {
    this.tokens.push({ kind, text: this.input.slice(start, end), pos: start });
  }

  /** Plain text up to the next "{{", trimmed when that action starts with "{{- ". */
  private lexText(): void {
    const start = this.pos;
    const next = this.input.indexOf('{{', start);
    const end = next < 0 ? this.input.length : next;
    const trimLeft = next >= 0 && this.input[next + 2] === '-' && isSpace(this.input[next + 3]);
    let textEnd = end;
    if (trimLeft) while (textEnd > start && isSpace(this.input[textEnd - 1])) textEnd--;
    if (textEnd > start) this.emit('text', start, textEnd);
    this.pos = end;
    if (next < 0) return;
    this.lexLeftDelim(trimLeft);
  }

  private lexLeftDelim(trimLeft: boolean): void {
    const delimStart = this.pos;
    this.pos += trimLeft ? 4 : 2;
    if (this.input.startsWith('/*', this.pos)) return this.lexComment(delimStart);
    this.emit('leftDelim', delimStart, delimStart + 2);
    this.parenDepth = 0;
    this.lexInsideAction();
  }

  private lexComment(delimStart: number): void {
    const close = this.input.indexOf('*/', this.pos + 2);
    if (close < 0) this.fail('unclosed comment', delimStart);
    this.pos = close + 2;
    const delim = this.atRightDelim();
    if (!delim) this.fail('comment ends before closing delimiter', delimStart);
    this.consumeRightDelim(delim.trim, false);
  }

  /** Whether the input is at "}}" or " -}}" (the latter trims the following text). */
  private atRightDelim(): { trim: boolean } | undefined {
    const rest = this.input.slice(this.pos, this.pos + 4);
    if (isSpace(rest[0]) && rest[1] === '-' && rest.slice(2) === '}}') return { trim: true };
    if (rest.startsWith('}}')) return { trim: false };
    return undefined;
  }

  private consumeRightDelim(trim: boolean, emit: boolean): void {
    const start = this.pos + (trim ? 2 : 0);
    this.pos = start + 2;
    if (emit) this.emit('rightDelim', start);
    if (trim) while (isSpace(this.input[this.pos])) this.pos++;
  }

  private lexInsideAction(): void {
    for (;;) {
      const delim = this.atRightDelim();
      if (delim) {
        if (this.parenDepth > 0) this.fail('unclosed left paren');
        return this.consumeRightDelim(delim.trim, true);
      }
      if (this.pos >= this.input.length) this.fail('unclosed action');
      this.lexActionToken();
    }
  }

  private lexActionToken(): void {
    const c = this.input[this.pos];
    const start = this.pos;
    if (isSpace(c)) return this.lexSpace();
    if (c === '=') { this.pos++; return this.emit('assign', start); }
    if (c === ':') {
      if (this.input[this.pos + 1] !== '=') this.fail('expected :=');
      this.pos += 2;
      return this.emit('declare', start);
    }
    if (c === '|') { this.pos++; return this.emit('pipe', start); }
    if (c === '"') return this.lexQuote();
    if (c === '`') return this.lexRawQuote();
    if (c === "'") return this.lexCharConstant();
    if (c === '$') return this.lexVariable();
    if (c === '.' && !isDigit(this.input[this.pos + 1])) return this.lexField();
    if (c === '+' || c === '-' || c === '.' || isDigit(c)) return this.lexNumber();
    if (isAlnum(c)) return this.lexIdentifier();
    if (c === '(') { this.pos++; this.parenDepth++; return this.emit('leftParen', start); }
    if (c === ')') {
      this.pos++;
      if (--this.parenDepth < 0) this.fail(`unexpected right paren ${describeChar(c)}`);
      return this.emit('rightParen', start);
    }
    const ch = String.fromCodePoint(this.input.codePointAt(this.pos) ?? 0);
    if (ch.length === 1 && ch >= ' ' && ch <= '~') { this.pos++; return this.emit('char', start); }
    this.fail(`bad character ${describeChar(ch)}`);
  }

  /** A run of spaces; the last one belongs to a " -}}" trim marker if one follows. */
  private lexSpace(): void {
    const start = this.pos;
    while (isSpace(this.input[this.pos])) this.pos++;
    if (this.input.startsWith('-}}', this.pos)) {
      this.pos--;
      if (this.pos === start) return;
    }
    this.emit('space', start);
  }

  private scanAlnum(): void {
    while (this.pos < this.input.length) {
      const ch = String.fromCodePoint(this.input.codePointAt(this.pos) ?? 0);
      if (!isAlnum(ch)) break;
      this.pos += ch.length;
    }
  }

  private atTerminator(): boolean {
    const c = this.input[this.pos];
    return c === undefined || isSpace(c) || '.,|:()}'.includes(c) || c === '=';
  }

  private checkTerminator(): void {
    if (!this.atTerminator()) {
      const ch = String.fromCodePoint(this.input.codePointAt(this.pos) ?? 0);
      this.fail(`bad character ${describeChar(ch)}`);
    }
  }

  private lexField(): void {
    const start = this.pos++;
    this.scanAlnum();
    if (this.pos === start + 1) {
      this.checkTerminator();
      return this.emit('dot', start);
    }
    this.checkTerminator();
    this.emit('field', start);
  }

  private lexVariable(): void {
    const start = this.pos++;
    this.scanAlnum();
    this.checkTerminator();
    this.emit('variable', start);
  }

  private lexIdentifier(): void {
    const start = this.pos;
    this.scanAlnum();
    this.checkTerminator();
    const word = this.input.slice(start, this.pos);
    if (KEYWORDS.has(word)) return this.emit('keyword', start);
    if (word === 'true' || word === 'false') return this.emit('bool', start);
    if (word === 'nil') return this.emit('nil', start);
    this.emit('identifier', start);
  }

  private lexNumber(): void {
    const start = this.pos;
    const m = /^[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?|0[oObB][0-9_]+|(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?)i?/
      .exec(this.input.slice(start));
    const len = m ? m[0].length : 0;
    this.pos += len;
    if (len === 0 || isAlnum(this.input[this.pos]) || !/[0-9]/.test(m?.[0] ?? '')) {
      while (isAlnum(this.input[this.pos])) this.pos++;
      this.fail(`bad number syntax: "${this.input.slice(start, this.pos)}"`, start);
    }
    this.emit('number', start);
  }

  private lexQuote(): void {
    const start = this.pos++;
    for (;;) {
      const c = this.input[this.pos++];
      if (c === '\\') { if (this.input[this.pos] !== undefined && this.input[this.pos] !== '\n') this.pos++; continue; }
      if (c === undefined || c === '\n') this.fail('unterminated quoted string', start);
      if (c === '"') break;
    }
    this.emit('string', start);
  }

  private lexRawQuote(): void {
    const start = this.pos;
    const close = this.input.indexOf('`', start + 1);
    if (close < 0) this.fail('unterminated raw quoted string', start);
    this.pos = close + 1;
    this.emit('rawString', start);
  }

  private lexCharConstant(): void {
    const start = this.pos++;
    for (;;) {
      const c = this.input[this.pos++];
      if (c === '\\') { if (this.input[this.pos] !== undefined && this.input[this.pos] !== '\n') this.pos++; continue; }
      if (c === undefined || c === '\n') this.fail('unterminated character constant', start);
      if (c === "'") break;
    }
    this.emit('charConstant', start);
  }
}

export function lex(input: string): Token[] {
  return new Lexer(input).run();
}
