// Docker's `--format` templates: Go text/template syntax and semantics, with the
// docker CLI's extra functions.
//
// Written by hand rather than wrapping @ctrl/golang-template 2.0.1: evaluated on
// the forms docker users type, it rejects `range $k, $v := …`, `{{- … -}}`, `json`,
// `len`, `eq`, and returns "" for pipelines into functions (`{{.Name | upper}}`).

import { InvalidParameterError } from '../errors.js';
import { TemplateExecError, TemplateParseError } from './errors.js';
import { Executor } from './evaluator.js';
import { referencedFields } from './fields.js';
import { BUILTIN_FUNCS, DOCKER_FUNCS, HEADER_FUNCS, type FuncDef, type FuncMap, type TemplateFunc } from './functions.js';
import { parseTemplate } from './parser.js';

export type { FuncDef, TemplateFunc } from './functions.js';
export { goJson, type GoJsonOptions } from './gojson.js';
export { printValue, sprintf } from './gofmt.js';

export interface TemplateOptions {
  /** 'error' = Go's missingkey=error: a missing map key fails instead of printing `<no value>`. */
  missingKey?: 'default' | 'error';
  /** Extra functions (or overrides); a bare function accepts any number of arguments. */
  funcs?: Record<string, TemplateFunc | FuncDef>;
  /** Render a table header: docker's HeaderFunctions return column names unchanged. */
  header?: boolean;
}

export interface CompiledTemplate {
  (data: unknown): string;
  /** Top-level fields the template reads, e.g. ['ID', 'Name'] for `{{.ID}}\t{{.Name}}`. */
  readonly fields: readonly string[];
}

function buildFuncs(options: TemplateOptions): FuncMap {
  const funcs: FuncMap = { ...BUILTIN_FUNCS, ...DOCKER_FUNCS };
  if (options.header) Object.assign(funcs, HEADER_FUNCS);
  for (const [name, f] of Object.entries(options.funcs ?? {})) {
    funcs[name] = typeof f === 'function' ? { fn: f, minArgs: 0, maxArgs: Infinity } : f;
  }
  return funcs;
}

/** Parses once; the returned function renders any number of data values.
 *  Throws InvalidParameterError (`template parsing error: template: :1: …`). */
export function compileTemplate(template: string, options: TemplateOptions = {}): CompiledTemplate {
  const funcs = buildFuncs(options);
  let parsed;
  try {
    parsed = parseTemplate(template, (name) => name in funcs);
  } catch (e) {
    if (e instanceof TemplateParseError) throw new InvalidParameterError(`template parsing error: ${e.message}`);
    throw e;
  }
  const tree = parsed;
  const render = (data: unknown): string => {
    try {
      return new Executor(template, tree, { missingKey: options.missingKey ?? 'default', funcs }, data).run(data);
    } catch (e) {
      if (e instanceof TemplateExecError) throw new InvalidParameterError(e.message);
      throw e;
    }
  };
  return Object.assign(render, { fields: referencedFields(tree.root) });
}

/** Renders `template` against `data` like `docker … --format`. */
export function renderTemplate(template: string, data: unknown, options: TemplateOptions = {}): string {
  return compileTemplate(template, options)(data);
}
