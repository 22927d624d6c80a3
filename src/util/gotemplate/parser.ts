// Recursive-descent parser for Go text/template, shaped after Go's parse package so
// that the same templates are accepted and rejected with the same messages.

import { describeArg, type ArgNode, type CommandNode, type Node, type PipeNode } from './ast.js';
import { TemplateParseError } from './errors.js';
import { lex, lineOf, type Token, type TokenKind } from './lexer.js';
import { parseNumber, unquoteChar, unquoteString } from './literals.js';

export interface ParsedTemplate {
  root: Node[];
  /** Templates named by {{define}} / {{block}}. */
  defines: Map<string, Node[]>;
}

type ListEnd = 'end' | 'else' | 'eof';

/** How deeply controls ({{if}}, {{with}}, {{range}}, `else if` chains) and parenthesized
 *  pipelines may nest, together. Go caps parentheses at 10000 and relies on growable
 *  stacks for the rest; a JS stack overflows near 2000 nested controls, and no format a
 *  person writes comes near 100. Go's wording. */
export const MAX_PARSE_DEPTH = 100;

/** Go's item.String(): how a token is quoted in "unexpected …" errors. */
function tokenDesc(t: Token): string {
  if (t.kind === 'eof') return 'EOF';
  if (t.kind === 'keyword') return `<${t.text}>`;
  if (t.kind === 'leftDelim' || t.kind === 'rightDelim') return JSON.stringify(t.text);
  if (t.text.length > 10) return `${JSON.stringify(t.text.slice(0, 10))}...`;
  return JSON.stringify(t.text);
}

export class Parser {
  private i = 0;
  private readonly tokens: Token[];
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private depth = 0;
  private readonly defines = new Map<string, Node[]>();

  constructor(private readonly input: string, private readonly hasFunction: (name: string) => boolean) {
    this.tokens = lex(input);
  }

  parse(): ParsedTemplate {
    const { list } = this.parseList(true);
    return { root: list, defines: this.defines };
  }

  // ---- token helpers -------------------------------------------------------

  private fail(message: string, tok: Token = this.tokens[Math.max(0, this.i - 1)]): never {
    throw new TemplateParseError(message, lineOf(this.input, tok.pos));
  }

  private next(): Token { return this.tokens[Math.min(this.i++, this.tokens.length - 1)]; }
  private peek(): Token { return this.tokens[Math.min(this.i, this.tokens.length - 1)]; }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.kind === 'space') t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const save = this.i;
    const t = this.nextNonSpace();
    this.i = save;
    return t;
  }

  private expect(kind: TokenKind, context: string): Token {
    const t = this.nextNonSpace();
    if (t.kind !== kind) this.fail(`unexpected ${tokenDesc(t)} in ${context}`, t);
    return t;
  }

  private isKeyword(t: Token, word: string): boolean { return t.kind === 'keyword' && t.text === word; }

  // ---- lists and actions ---------------------------------------------------

  /** Nodes until {{end}}, {{else}} or EOF; the terminating keyword is consumed. */
  private parseList(topLevel: boolean): { list: Node[]; end: ListEnd } {
    const list: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') {
        if (!topLevel) this.fail('unexpected EOF', t);
        return { list, end: 'eof' };
      }
      if (t.kind === 'text') { list.push({ kind: 'text', pos: t.pos, text: t.text }); continue; }
      const kw = this.peekNonSpace();
      if (this.isKeyword(kw, 'end') || this.isKeyword(kw, 'else')) {
        if (topLevel) this.fail(`unexpected {{${kw.text}}}`, kw);
        this.nextNonSpace();
        if (kw.text === 'end') this.expect('rightDelim', 'end');
        return { list, end: kw.text as ListEnd };
      }
      const node = this.action(t, topLevel);
      if (node) list.push(node);
    }
  }

  private action(open: Token, topLevel: boolean): Node | undefined {
    const kw = this.peekNonSpace();
    if (kw.kind === 'keyword') {
      this.nextNonSpace();
      switch (kw.text) {
        case 'if': case 'with': case 'range': return this.control(kw.text, kw);
        case 'break': case 'continue': return this.loopControl(kw.text, kw);
        case 'template': return this.templateCall(kw);
        case 'define': return this.define(kw, topLevel);
        case 'block': return this.block(kw, topLevel);
      }
      this.fail(`unexpected ${tokenDesc(kw)} in command`, kw);
    }
    return { kind: 'action', pos: open.pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  /** Parses one nesting level deeper, within MAX_PARSE_DEPTH. */
  private nested<T>(at: Token, parse: () => T): T {
    if (this.depth >= MAX_PARSE_DEPTH) this.fail('max expression depth exceeded', at);
    this.depth++;
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private control(kind: 'if' | 'with' | 'range', kw: Token): Node {
    return this.nested(kw, () => this.controlBody(kind, kw));
  }

  private controlBody(kind: 'if' | 'with' | 'range', kw: Token): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, 'rightDelim');
    if (kind === 'range') this.rangeDepth++;
    const { list, end } = this.parseList(false);
    if (kind === 'range') this.rangeDepth--;
    let elseList: Node[] | undefined;
    if (end === 'else') elseList = this.elseBranch(kind);
    this.vars.length = mark;
    return { kind, pos: kw.pos, pipe, list, elseList };
  }

  /** After {{else}}: either `else if`/`else with` (a nested chain ending at the shared
   *  {{end}}), or a plain else list. */
  private elseBranch(kind: 'if' | 'with' | 'range'): Node[] {
    const t = this.peekNonSpace();
    if (kind !== 'range' && this.isKeyword(t, kind)) {
      this.nextNonSpace();
      return [this.control(kind, t)];
    }
    this.expect('rightDelim', 'else');
    const { list, end } = this.parseList(false);
    if (end !== 'end') this.fail('expected end; found {{else}}');
    return list;
  }

  private loopControl(kind: 'break' | 'continue', kw: Token): Node {
    const t = this.nextNonSpace();
    if (t.kind !== 'rightDelim') this.fail(`unexpected ${tokenDesc(t)} in {{${kind}}}`, t);
    if (this.rangeDepth === 0) this.fail(`{{${kind}}} outside {{range}}`, kw);
    return { kind, pos: kw.pos };
  }

  private templateName(context: string): string {
    const t = this.nextNonSpace();
    if (t.kind !== 'string' && t.kind !== 'rawString') this.fail(`unexpected ${tokenDesc(t)} in ${context}`, t);
    return this.unquote(t);
  }

  private templateCall(kw: Token): Node {
    const name = this.templateName('template clause');
    if (this.peekNonSpace().kind === 'rightDelim') {
      this.nextNonSpace();
      return { kind: 'template', pos: kw.pos, name };
    }
    return { kind: 'template', pos: kw.pos, name, pipe: this.pipeline('template clause', 'rightDelim') };
  }

  private defineBody(kw: Token, topLevel: boolean, context: string): string {
    if (!topLevel) this.fail(`unexpected ${tokenDesc(kw)} in ${context}`, kw);
    return this.templateName(context);
  }

  private collectDefine(name: string): void {
    const savedVars = this.vars;
    const savedDepth = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    const { list, end } = this.parseList(false);
    if (end !== 'end') this.fail('unexpected {{else}} in define clause');
    this.vars = savedVars;
    this.rangeDepth = savedDepth;
    this.defines.set(name, list);
  }

  private define(kw: Token, topLevel: boolean): undefined {
    const name = this.defineBody(kw, topLevel, 'define clause');
    this.expect('rightDelim', 'define clause');
    this.collectDefine(name);
    return undefined;
  }

  private block(kw: Token, topLevel: boolean): Node {
    const name = this.defineBody(kw, topLevel, 'block clause');
    const pipe = this.pipeline('block clause', 'rightDelim');
    this.collectDefine(name);
    return { kind: 'template', pos: kw.pos, name, pipe };
  }

  // ---- pipelines -----------------------------------------------------------

  pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const start = this.peekNonSpace();
    const pipe: PipeNode = { pos: start.pos, isAssign: false, decl: [], cmds: [] };
    this.declarations(pipe, context);
    for (;;) {
      const t = this.nextNonSpace();
      if (t.kind === end) break;
      if (['bool', 'charConstant', 'dot', 'field', 'identifier', 'number', 'nil', 'rawString', 'string', 'variable', 'leftParen'].includes(t.kind)) {
        this.i--;
        pipe.cmds.push(this.command());
        continue;
      }
      this.fail(`unexpected ${tokenDesc(t)} in ${context}`, t);
    }
    this.checkPipeline(pipe, context);
    return pipe;
  }

  /** `$x :=`, `$x =`, or (range only) `$k, $v :=`. Needs look-ahead past spaces. */
  private declarations(pipe: PipeNode, context: string): void {
    for (;;) {
      const save = this.i;
      const v = this.nextNonSpace();
      if (v.kind !== 'variable') { this.i = save; return; }
      const op = this.nextNonSpace();
      if (op.kind === 'declare' || op.kind === 'assign') {
        pipe.isAssign = op.kind === 'assign';
        if (pipe.isAssign && !this.vars.includes(v.text)) this.fail(`undefined variable "${v.text}"`, v);
        pipe.decl.push(v.text);
        this.vars.push(v.text);
        return;
      }
      if (op.kind === 'char' && op.text === ',') {
        pipe.decl.push(v.text);
        this.vars.push(v.text);
        const nextTok = this.peekNonSpace();
        if (context === 'range' && pipe.decl.length < 2 && nextTok.kind === 'variable') continue;
        if (context === 'range' && pipe.decl.length < 2) this.fail('range can only initialize variables', nextTok);
        this.fail(`too many declarations in ${context}`, op);
      }
      this.i = save;
      return;
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((cmd, i) => {
      const first = cmd.args[0];
      if (['bool', 'dot', 'nil', 'number', 'string'].includes(first.kind)) {
        this.fail(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.kind === 'space') continue;
      if (t.kind === 'rightDelim' || t.kind === 'rightParen') { this.i--; break; }
      if (t.kind === 'pipe') break;
      this.fail(`unexpected ${tokenDesc(t)} in operand`, t);
    }
    if (cmd.args.length === 0) this.fail('empty command');
    return cmd;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node || this.peek().kind !== 'field') return node;
    const idents: string[] = [];
    while (this.peek().kind === 'field') idents.push(this.next().text.slice(1));
    switch (node.kind) {
      case 'field': return { ...node, idents: [...node.idents, ...idents] };
      case 'variable': return { ...node, idents: [...node.idents, ...idents] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        return this.fail(`unexpected . after term ${JSON.stringify(describeArg(node))}`);
      default: return { kind: 'chain', pos: node.pos, node, idents };
    }
  }

  private term(): ArgNode | undefined {
    const t = this.nextNonSpace();
    switch (t.kind) {
      case 'identifier':
        if (!this.hasFunction(t.text)) this.fail(`function "${t.text}" not defined`, t);
        return { kind: 'identifier', pos: t.pos, name: t.text };
      case 'dot': return { kind: 'dot', pos: t.pos };
      case 'nil': return { kind: 'nil', pos: t.pos };
      case 'variable': return this.useVar(t);
      case 'field': return { kind: 'field', pos: t.pos, idents: [t.text.slice(1)] };
      case 'bool': return { kind: 'bool', pos: t.pos, value: t.text === 'true' };
      case 'number': case 'charConstant': return this.number(t);
      case 'leftParen': return { kind: 'pipe', pos: t.pos, pipe: this.nested(t, () => this.pipeline('parenthesized pipeline', 'rightParen')) };
      case 'string': case 'rawString': return { kind: 'string', pos: t.pos, value: this.unquote(t), text: t.text };
    }
    this.i--;
    return undefined;
  }

  private useVar(t: Token): ArgNode {
    const [name, ...idents] = t.text.split('.');
    if (!this.vars.includes(name)) this.fail(`undefined variable "${name}"`, t);
    return { kind: 'variable', pos: t.pos, name, idents };
  }

  private number(t: Token): ArgNode {
    try {
      const value = t.kind === 'charConstant' ? unquoteChar(t.text) : parseNumber(t.text);
      return { kind: 'number', pos: t.pos, value, text: t.text };
    } catch (e) {
      return this.fail((e as Error).message, t);
    }
  }

  private unquote(t: Token): string {
    try {
      return unquoteString(t.text);
    } catch (e) {
      return this.fail((e as Error).message, t);
    }
  }
}

export function parseTemplate(input: string, hasFunction: (name: string) => boolean): ParsedTemplate {
  return new Parser(input, hasFunction).parse();
}
