import { failIfAny } from './args.js';

// How list and inspect commands print: Docker's table, --format json, or a Go template
// (cli/format.ts). That module and the template engine load only when something is
// printed, to keep the CLI's start fast.

const format = () => import('./format.js');

/** inspect NAME…: prints what was found, then one error line per name that was not (exit 1). */
export async function inspectEach(names: string[], template: string | undefined, fetch: (name: string) => Promise<unknown>): Promise<void> {
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const n of names) {
    try {
      found.push(await fetch(n));
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (found.length) process.stdout.write((await format()).formatInspect(found, template));
  failIfAny(errors);
}

export interface ListOptions {
  quiet?: boolean;
  format?: string;
  /** the table docker prints without --format, e.g. 'table {{.ID}}\t{{.Name}}' */
  defaultTable: string;
  kind: 'network' | 'container';
}

/** ls/ps: rows are objects with docker's field names (ID, Name, …). */
export async function printList(rows: { ID: string }[], opts: ListOptions): Promise<void> {
  if (opts.quiet) {
    for (const r of rows) process.stdout.write(r.ID + '\n');
    return;
  }
  const f = await format();
  const headers = opts.kind === 'network' ? f.NETWORK_HEADERS : f.CONTAINER_HEADERS;
  process.stdout.write(f.formatList(rows, opts.format, { defaultTable: opts.defaultTable, headers }));
}
