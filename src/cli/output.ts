import { failIfAny } from './args.js';
// How list and inspect commands print: Docker's table, --format json, or a Go template.
// The template engine and the table writer load only when used, to keep the CLI's start fast.

const templates = () => import('../util/gotemplate/index.js');

export function printJsonArray(items: unknown[]): void {
  process.stdout.write(JSON.stringify(items, null, 4) + '\n');
}

/** inspect: the JSON array, or one rendered template line per object. */
export async function printInspect(items: unknown[], format?: string): Promise<void> {
  if (!format) return printJsonArray(items);
  const { renderTemplate } = await templates();
  for (const item of items) process.stdout.write(renderTemplate(format, item) + '\n');
}

/** inspect NAME…: prints what was found, then one error line per name that was not (exit 1). */
export async function inspectEach(names: string[], format: string | undefined, fetch: (name: string) => Promise<unknown>): Promise<void> {
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const n of names) {
    try {
      found.push(await fetch(n));
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  await printInspect(found, format);
  failIfAny(errors);
}

export interface Column<T> {
  header: string;
  value: (x: T) => string;
}

/** ls/ps: a table, `--format json` (one object per line), or a template per row. */
export async function printList<T>(items: T[], columns: Column<T>[], opts: { quiet?: boolean; format?: string; row?: (x: T) => unknown; id: (x: T) => string }): Promise<void> {
  if (opts.quiet) {
    for (const x of items) process.stdout.write(opts.id(x) + '\n');
    return;
  }
  if (opts.format === 'json') {
    for (const x of items) process.stdout.write(JSON.stringify(opts.row ? opts.row(x) : x) + '\n');
    return;
  }
  if (opts.format && !opts.format.startsWith('table')) {
    const { renderTemplate } = await templates();
    for (const x of items) process.stdout.write(renderTemplate(opts.format, opts.row ? opts.row(x) : x) + '\n');
    return;
  }
  const { formatTable } = await import('./format.js');
  const table = formatTable(columns.map((c) => c.header), items.map((x) => columns.map((c) => c.value(x))));
  process.stdout.write(table.endsWith('\n') ? table : table + '\n');
}
