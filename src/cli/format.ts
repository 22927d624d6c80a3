// Output formatting shared by berth's CLI commands, matching the docker CLI:
// aligned tables (Go's text/tabwriter as docker configures it), `--format` handling
// (`json`, `table …`, raw Go templates), `docker inspect` output, and the human
// durations of `docker ps` ("Up 5 seconds", "Exited (0) 3 seconds ago").

import { compileTemplate, type CompiledTemplate, type TemplateOptions } from '../util/gotemplate/index.js';

// ---- tabwriter -------------------------------------------------------------

export interface TabwriterOptions {
  /** Minimal cell width including padding. */
  minwidth: number;
  /** Extra padding added to the widest cell of a column. */
  padding: number;
  padchar: string;
}

/** docker/cli formatter: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
export const DOCKER_TABWRITER: TabwriterOptions = { minwidth: 10, padding: 3, padchar: ' ' };

type Cells = string[];

const cellWidth = (s: string): number => Array.from(s).length;

/** Column blocks as Go's tabwriter computes them: a column spans consecutive lines
 *  that have a tab-terminated cell at that index; each block is sized separately. */
function layout(lines: Cells[], opts: TabwriterOptions, widths: number[], from: number, to: number, out: string[]): void {
  const column = widths.length;
  let start = from;
  for (let i = from; i < to; i++) {
    if (column >= lines[i].length - 1) continue;
    writeLines(lines, widths, start, i, opts, out);
    let width = opts.minwidth;
    let end = i;
    for (; end < to && column < lines[end].length - 1; end++) {
      width = Math.max(width, cellWidth(lines[end][column]) + opts.padding);
    }
    layout(lines, opts, [...widths, width], i, end, out);
    start = end;
    i = end - 1;
  }
  writeLines(lines, widths, start, to, opts, out);
}

function writeLines(lines: Cells[], widths: number[], from: number, to: number, opts: TabwriterOptions, out: string[]): void {
  for (let i = from; i < to; i++) {
    const cells = lines[i];
    out.push(cells.map((c, j) => (j < widths.length && j < cells.length - 1 ? c + opts.padchar.repeat(Math.max(widths[j] - cellWidth(c), 0)) : c)).join(''));
  }
}

/** Aligns tab-separated text like Go's text/tabwriter (left-aligned, no flags).
 *  A trailing line without "\n" is kept as is; every other line keeps its "\n". */
export function tabwrite(text: string, opts: TabwriterOptions = DOCKER_TABWRITER): string {
  const rawLines = text.split('\n');
  const last = rawLines.pop() ?? '';
  const lines = rawLines.map((l) => l.split('\t'));
  const out: string[] = [];
  layout(lines, opts, [], 0, lines.length, out);
  return out.map((l) => l + '\n').join('') + last;
}

/** A table as `docker network ls` prints it: header row, columns 3 spaces apart
 *  (at least 10 wide), the last column unpadded, every line ending in "\n". */
export function formatTable(headers: string[], rows: string[][]): string {
  const text = [headers, ...rows].map((r) => r.join('\t') + '\n').join('');
  return tabwrite(text);
}

// ---- durations -------------------------------------------------------------

import { humanDuration } from '../util/human-duration.js';
export { humanDuration };

const toMs = (t: Date | string | number): number => (t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t));

/** "2 hours ago", as in the CREATED column of `docker ps`. */
export function timeAgo(then: Date | string | number, now: Date | number = Date.now()): string {
  return `${humanDuration(toMs(now) - toMs(then))} ago`;
}

export interface ContainerStateLike {
  Running?: boolean;
  Paused?: boolean;
  Restarting?: boolean;
  Dead?: boolean;
  RemovalInProgress?: boolean;
  ExitCode?: number;
  /** RFC 3339; Go's zero time ("0001-01-01T00:00:00Z") or empty means never. */
  StartedAt?: string;
  FinishedAt?: string;
  Health?: { Status?: string };
}

const isZeroTime = (t: string | undefined): boolean => !t || t.startsWith('0001-01-01');

/** The STATUS column of `docker ps` (moby's State.String()). */
export function containerStatus(s: ContainerStateLike, now: Date | number = Date.now()): string {
  const since = (t: string | undefined): string => humanDuration(toMs(now) - toMs(t ?? 0));
  if (s.Running) {
    if (s.Paused) return `Up ${since(s.StartedAt)} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode ?? 0}) ${since(s.FinishedAt)} ago`;
    const health = s.Health?.Status;
    if (health && health !== 'none') return `Up ${since(s.StartedAt)} (${health === 'starting' ? 'health: starting' : health})`;
    return `Up ${since(s.StartedAt)}`;
  }
  if (s.RemovalInProgress) return 'Removal In Progress';
  if (s.Dead) return 'Dead';
  if (isZeroTime(s.StartedAt)) return 'Created';
  if (isZeroTime(s.FinishedAt)) return '';
  return `Exited (${s.ExitCode ?? 0}) ${since(s.FinishedAt)} ago`;
}

// ---- --format --------------------------------------------------------------

/** Column titles the docker CLI uses for fields; `ID` depends on the object. */
export const DOCKER_HEADERS: Readonly<Record<string, string>> = {
  Name: 'NAME', Names: 'NAMES', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6',
  Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Image: 'IMAGE', Command: 'COMMAND', Ports: 'PORTS', Status: 'STATUS', State: 'STATE',
  Size: 'SIZE', Mounts: 'MOUNTS', Networks: 'NETWORKS', LocalVolumes: 'LOCAL VOLUMES',
};

export const NETWORK_HEADERS: Readonly<Record<string, string>> = { ...DOCKER_HEADERS, ID: 'NETWORK ID' };
export const CONTAINER_HEADERS: Readonly<Record<string, string>> = { ...DOCKER_HEADERS, ID: 'CONTAINER ID' };

export const DEFAULT_NETWORK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

/** A header for a field docker has no title for: "IPv4Address" → "IPV4 ADDRESS". */
export function defaultHeader(field: string): string {
  return field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toUpperCase();
}

export type ParsedFormat =
  | { kind: 'json' }
  | { kind: 'table'; template: string }
  | { kind: 'template'; template: string };

/** docker's Format: "json", "table [TEMPLATE]", or a raw template; literal `\t` and
 *  `\n` typed in a shell become real tabs and newlines. */
export function parseFormat(format: string | undefined, defaultTable: string): ParsedFormat {
  const f = format ?? '';
  if (f === 'json') return { kind: 'json' };
  const isTable = f === '' || f.startsWith('table');
  let template = f;
  if (isTable) template = f.slice('table'.length).trim() === '' ? defaultTable.slice('table'.length) : f.slice('table'.length);
  template = template.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return isTable ? { kind: 'table', template } : { kind: 'template', template };
}

export interface ListFormatOptions {
  /** e.g. DEFAULT_NETWORK_TABLE, used for no --format or a bare "table". */
  defaultTable: string;
  /** Field → column title, e.g. NETWORK_HEADERS. */
  headers: Readonly<Record<string, string>>;
}

/**
 * A list's row or header template, parsed once per process: the default tables once for
 * all, in the CLI's startup snapshot, whose build prints them (cli/warm-up.ts). A compiled
 * template keeps no state between renders.
 */
const listTemplates = new Map<string, CompiledTemplate>();
function listTemplate(template: string, header = false): CompiledTemplate {
  const key = `${header ? 'header' : 'row'}\0${template}`;
  let t = listTemplates.get(key);
  if (!t) listTemplates.set(key, (t = compileTemplate(template, { header })));
  return t;
}

/** `docker network ls --format …` output for already-shaped row objects. */
export function formatList(items: unknown[], format: string | undefined, opts: ListFormatOptions): string {
  const parsed = parseFormat(format, opts.defaultTable);
  if (parsed.kind === 'json') {
    const row = listTemplate('{{json .}}');
    return items.map((i) => row(i) + '\n').join('');
  }
  const row = listTemplate(parsed.template);
  const body = items.map((i) => row(i) + '\n').join('');
  if (parsed.kind === 'template') return body;
  const titles = Object.fromEntries(row.fields.map((f) => [f, opts.headers[f] ?? defaultHeader(f)]));
  return tabwrite(renderHeader(parsed.template, titles) + '\n' + body);
}

/** The header row; docker ignores errors here (e.g. `.Config.Image` on a title
 *  string), since the rows already rendered without them. */
function renderHeader(template: string, titles: Record<string, string>): string {
  try {
    return listTemplate(template, true)(titles);
  } catch {
    return '';
  }
}

/** `docker inspect` output: an indented JSON array by default (or "json"), else
 *  the template once per object, one line each. Missing fields fail, as docker's
 *  raw-JSON fallback (missingkey=error) does. */
export function formatInspect(items: unknown[], format?: string, options: TemplateOptions = { missingKey: 'error' }): string {
  if (!format || format === 'json') return JSON.stringify(items, null, 4) + '\n';
  const render = compileTemplate(format, options);
  return items.map((i) => render(i) + '\n').join('');
}
