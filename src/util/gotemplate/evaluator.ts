// Executes a parsed template against data, following Go's text/template exec rules:
// `.` and `$`, variables scoped to their block, pipelines passing the previous value
// as the last argument, sorted map ranges, `<no value>` for missing values.

import { describeArg, describeCommand, type ArgNode, type CommandNode, type Node, type PipeNode } from './ast.js';
import { ArgTypeError, FuncError, TemplateExecError } from './errors.js';
import type { FuncMap } from './functions.js';
import { printValue } from './gofmt.js';
import { lineOf } from './lexer.js';
import type { ParsedTemplate } from './parser.js';
import { MISSING, goTypeName, isInt, isMapLike, isMissing, isNil, isTrue, mapGet, sortedEntries } from './values.js';

export interface ExecOptions {
  /** 'error' mirrors Go's Option("missingkey=error"), which `docker inspect` uses on
   *  its raw-JSON fallback; the default prints `<no value>`. */
  missingKey: 'default' | 'error';
  funcs: FuncMap;
}

/** Thrown through the walk to unwind out of a range iteration. */
class LoopSignal {
  constructor(readonly kind: 'break' | 'continue') {}
}

/** No value piped in from a previous command. */
const NO_FINAL: unique symbol = Symbol('no final');
type Final = unknown | typeof NO_FINAL;

/** How deeply execution may nest: template calls plus the controls they run inside
 *  one another. Go counts template calls only, up to 100000, on a growable stack; here
 *  the JS stack is the limit, and parsing already bounds nesting within one template
 *  (MAX_PARSE_DEPTH), so counting both keeps recursion well inside it. Go's wording. */
export const MAX_EXEC_DEPTH = 1000;

export class Executor {
  private readonly out: string[] = [];
  private vars: { name: string; value: unknown }[];
  private templateName = '';
  private depth = 0;

  constructor(
    private readonly input: string,
    private readonly tmpl: ParsedTemplate,
    private readonly options: ExecOptions,
    root: unknown,
  ) {
    this.vars = [{ name: '$', value: root }];
  }

  run(root: unknown): string {
    this.walkList(root, this.tmpl.root);
    return this.out.join('');
  }

  // ---- errors ------------------------------------------------------------

  private fail(pos: number, context: string, message: string): never {
    const lineStart = this.input.lastIndexOf('\n', pos - 1) + 1;
    const location = `:${lineOf(this.input, pos)}:${pos - lineStart}`;
    const shown = context.length > 20 ? `${context.slice(0, 20)}...` : context;
    throw new TemplateExecError(message, location, this.templateName, shown);
  }

  private failAt(arg: ArgNode, message: string): never {
    return this.fail(arg.pos, describeArg(arg), message);
  }

  // ---- walking -------------------------------------------------------------

  private walkList(dot: unknown, list: Node[]): void {
    for (const node of list) this.walk(dot, node);
  }

  private walk(dot: unknown, node: Node): void {
    switch (node.kind) {
      case 'text': this.out.push(node.text); return;
      case 'action': {
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.out.push(this.printable(value));
        return;
      }
      case 'if': case 'with': return this.walkIfOrWith(dot, node.kind, node.pipe, node.list, node.elseList);
      case 'range': return this.walkRange(dot, node.pipe, node.list, node.elseList);
      case 'break': case 'continue': throw new LoopSignal(node.kind);
      case 'template': return this.walkTemplate(dot, node.pos, node.name, node.pipe);
    }
  }

  /** Top-level printing: nil and missing values both show as `<no value>`, as Go's
   *  exec does after unwrapping interface{} values. */
  private printable(v: unknown): string {
    return v === null ? '<no value>' : printValue(v);
  }

  private scoped<T>(fn: () => T): T {
    const mark = this.vars.length;
    try {
      return fn();
    } finally {
      this.vars.length = mark;
    }
  }

  /** Runs one nesting level deeper, within MAX_EXEC_DEPTH. */
  private descend(pos: number, context: string, fn: () => void): void {
    if (this.depth >= MAX_EXEC_DEPTH) this.fail(pos, context, `exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    this.depth++;
    try {
      fn();
    } finally {
      this.depth--;
    }
  }

  private walkIfOrWith(dot: unknown, kind: 'if' | 'with', pipe: PipeNode, list: Node[], elseList?: Node[]): void {
    this.descend(pipe.pos, `{{${kind} ${describePipeShort(pipe)}}}`, () => this.scoped(() => {
      const value = this.evalPipeline(dot, pipe);
      if (isTrue(value)) this.walkList(kind === 'with' ? value : dot, list);
      else if (elseList) this.walkList(dot, elseList);
    }));
  }

  private rangeItems(pos: number, pipe: PipeNode, value: unknown): [unknown, unknown][] | undefined {
    if (isNil(value)) return undefined;
    if (Array.isArray(value)) return value.map((v, i) => [i, v]);
    if (isMapLike(value)) return sortedEntries(value);
    if (isInt(value)) return Array.from({ length: Math.max(Number(value), 0) }, (_, i) => [i, i]);
    return this.fail(pos, describePipeShort(pipe), `range can't iterate over ${printValue(value)}`);
  }

  private walkRange(dot: unknown, pipe: PipeNode, list: Node[], elseList?: Node[]): void {
    this.descend(pipe.pos, `{{range ${describePipeShort(pipe)}}}`, () => this.scoped(() => {
      const value = this.evalPipeline(dot, pipe, true);
      const items = this.rangeItems(pipe.pos, pipe, value);
      if (!items || items.length === 0) {
        if (elseList) this.walkList(dot, elseList);
        return;
      }
      const mark = this.vars.length;
      for (const [key, elem] of items) {
        this.setRangeVars(pipe, key, elem);
        const signal = this.iterate(elem, list);
        this.vars.length = mark;
        if (signal === 'break') break;
      }
    }));
  }

  private setRangeVars(pipe: PipeNode, key: unknown, elem: unknown): void {
    if (pipe.decl.length === 1) this.vars.push({ name: pipe.decl[0], value: elem });
    if (pipe.decl.length === 2) {
      this.vars.push({ name: pipe.decl[0], value: key }, { name: pipe.decl[1], value: elem });
    }
  }

  private iterate(elem: unknown, list: Node[]): 'break' | 'continue' | undefined {
    try {
      this.walkList(elem, list);
      return undefined;
    } catch (e) {
      if (e instanceof LoopSignal) return e.kind;
      throw e;
    }
  }

  private walkTemplate(dot: unknown, pos: number, name: string, pipe?: PipeNode): void {
    const body = this.tmpl.defines.get(name);
    if (!body) this.fail(pos, `template ${JSON.stringify(name)}`, `template: no template ${JSON.stringify(name)} associated with template ""`);
    const shown = `{{template ${JSON.stringify(name)}${pipe ? ` ${describePipeShort(pipe)}` : ''}}}`;
    this.descend(pos, shown, () => {
      const newDot = pipe ? this.evalPipeline(dot, pipe) : null;
      const saved = { vars: this.vars, name: this.templateName };
      this.vars = [{ name: '$', value: newDot }];
      this.templateName = name;
      try {
        this.walkList(newDot, body);
      } finally {
        this.vars = saved.vars;
        this.templateName = saved.name;
      }
    });
  }

  // ---- pipelines -----------------------------------------------------------

  /** Declarations inside a range header are bound per iteration, not here. */
  private evalPipeline(dot: unknown, pipe: PipeNode, isRange = false): unknown {
    let value: Final = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    if (isRange) return value;
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.assign(name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private assign(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) { this.vars[i].value = value; return; }
    }
  }

  private lookupVar(arg: ArgNode, name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    return this.failAt(arg, `undefined variable: ${name}`);
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0];
    if (first.kind === 'identifier') return this.evalFunction(dot, cmd, first.name, final);
    const hasArgs = cmd.args.length > 1 || final !== NO_FINAL;
    if (hasArgs) {
      const idents = first.kind === 'field' || first.kind === 'variable' || first.kind === 'chain' ? first.idents : [];
      if (idents.length > 0) return this.failAt(first, `${idents[idents.length - 1]} is not a method but has arguments`);
      return this.failAt(first, `can't give argument to non-function ${describeArg(first)}`);
    }
    if (first.kind === 'nil') return this.failAt(first, 'nil is not a command');
    return this.evalArg(dot, first);
  }

  private evalArg(dot: unknown, arg: ArgNode): unknown {
    switch (arg.kind) {
      case 'dot': return dot;
      case 'nil': return null;
      case 'bool': case 'number': case 'string': return arg.value;
      case 'field': return this.evalFields(arg, dot, arg.idents);
      case 'variable': return this.evalFields(arg, this.lookupVar(arg, arg.name), arg.idents);
      case 'chain': return this.evalFields(arg, this.evalArg(dot, arg.node), arg.idents);
      case 'pipe': return this.evalPipeline(dot, arg.pipe);
      case 'identifier': return this.evalFunction(dot, { pos: arg.pos, args: [arg] }, arg.name, NO_FINAL);
    }
  }

  // ---- fields --------------------------------------------------------------

  private evalFields(arg: ArgNode, receiver: unknown, idents: string[]): unknown {
    return idents.reduce((value, name) => this.evalField(arg, value, name), receiver);
  }

  private evalField(arg: ArgNode, receiver: unknown, name: string): unknown {
    if (isMissing(receiver)) {
      if (this.options.missingKey === 'error') this.failAt(arg, `nil data; no entry for key ${JSON.stringify(name)}`);
      return MISSING;
    }
    if (receiver === null) return this.failAt(arg, `nil pointer evaluating interface {}.${name}`);
    if (isMapLike(receiver)) {
      const value = mapGet(receiver, name);
      if (value === MISSING && this.options.missingKey === 'error') {
        this.failAt(arg, `map has no entry for key ${JSON.stringify(name)}`);
      }
      return value;
    }
    return this.failAt(arg, `can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  // ---- functions -----------------------------------------------------------

  private evalFunction(dot: unknown, cmd: CommandNode, name: string, final: Final): unknown {
    const fn = this.options.funcs[name];
    if (!fn) return this.fail(cmd.pos, describeCommand(cmd), `"${name}" is not a defined function`);
    const argNodes = cmd.args.slice(1);
    const count = argNodes.length + (final === NO_FINAL ? 0 : 1);
    if (count < fn.minArgs || count > fn.maxArgs) {
      const want = fn.maxArgs === Infinity ? `at least ${fn.minArgs}` : String(fn.minArgs);
      this.fail(cmd.args[0].pos, name, `wrong number of args for ${name}: want ${want} got ${count}`);
    }
    if (name === 'and' || name === 'or') return this.evalLogic(dot, name, argNodes, final);
    const args = argNodes.map((a) => this.evalArg(dot, a));
    if (final !== NO_FINAL) args.push(final);
    return this.call(cmd, name, argNodes, args);
  }

  /** Go 1.18+: and/or stop evaluating at the first deciding argument. */
  private evalLogic(dot: unknown, name: 'and' | 'or', argNodes: ArgNode[], final: Final): unknown {
    let value: unknown = MISSING;
    const total = argNodes.length + (final === NO_FINAL ? 0 : 1);
    for (let i = 0; i < total; i++) {
      value = i < argNodes.length ? this.evalArg(dot, argNodes[i]) : final;
      if (isTrue(value) === (name === 'or')) return value;
    }
    return value;
  }

  private call(cmd: CommandNode, name: string, argNodes: ArgNode[], args: unknown[]): unknown {
    try {
      return this.options.funcs[name].fn(...args);
    } catch (e) {
      if (e instanceof ArgTypeError) {
        const node = argNodes[e.index];
        if (node) return this.failAt(node, e.message);
        return this.fail(cmd.pos, describeCommand(cmd), e.message);
      }
      if (e instanceof FuncError || (e instanceof Error && !(e instanceof TemplateExecError))) {
        return this.fail(cmd.pos, describeCommand(cmd), `error calling ${name}: ${e.message}`);
      }
      throw e;
    }
  }
}

function describePipeShort(pipe: PipeNode): string {
  return pipe.cmds.map(describeCommand).join(' | ');
}
