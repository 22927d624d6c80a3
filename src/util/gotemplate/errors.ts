// Template errors worded like Go's text/template, because scripts and users compare
// them with what `docker … --format` prints. Templates are anonymous (name ""), as in
// the docker CLI, so messages read `template: :1: …`.

/** A syntax error: `template: :LINE: MESSAGE`. */
export class TemplateParseError extends Error {
  constructor(readonly detail: string, readonly line: number) {
    super(`template: :${line}: ${detail}`);
    this.name = 'TemplateParseError';
  }
}

/** An execution error: `template: :LINE:COL: executing "NAME" at <NODE>: MESSAGE`. */
export class TemplateExecError extends Error {
  constructor(readonly detail: string, location: string, templateName: string, context: string) {
    super(`template: ${location}: executing "${templateName}" at <${context}>: ${detail}`);
    this.name = 'TemplateExecError';
  }
}

/** Raised by template functions; the evaluator adds the location (`error calling NAME: …`). */
export class FuncError extends Error {}

/** Raised when argument `index` has the wrong type; reported at that argument,
 *  without the `error calling` prefix, as Go's argument checks are. */
export class ArgTypeError extends Error {
  constructor(message: string, readonly index: number) {
    super(message);
  }
}
