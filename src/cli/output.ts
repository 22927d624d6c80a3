import { renderTemplate } from '../util/gotemplate/index.js';
import { formatTable } from './format.js';

// How list and inspect commands print: Docker's table, --format json, or a Go template.

export function printJsonArray(items: unknown[]): void {
  process.stdout.write(JSON.stringify(items, null, 4) + '\n');
}

/** inspect: the JSON array, or one rendered template line per object. */
export function printInspect(items: unknown[], format?: string): void {
  if (!format) return printJsonArray(items);
  for (const item of items) process.stdout.write(renderTemplate(format, item) + '\n');
}

export interface Column<T> {
  header: string;
  value: (x: T) => string;
}

/** ls/ps: a table, `--format json` (one object per line), or a template per row. */
export function printList<T>(items: T[], columns: Column<T>[], opts: { quiet?: boolean; format?: string; row?: (x: T) => unknown; id: (x: T) => string }): void {
  if (opts.quiet) {
    for (const x of items) process.stdout.write(opts.id(x) + '\n');
    return;
  }
  if (opts.format === 'json') {
    for (const x of items) process.stdout.write(JSON.stringify(opts.row ? opts.row(x) : x) + '\n');
    return;
  }
  if (opts.format && !opts.format.startsWith('table')) {
    for (const x of items) process.stdout.write(renderTemplate(opts.format, opts.row ? opts.row(x) : x) + '\n');
    return;
  }
  const table = formatTable(columns.map((c) => c.header), items.map((x) => columns.map((c) => c.value(x))));
  process.stdout.write(table.endsWith('\n') ? table : table + '\n');
}
