// Templates that recurse or nest too deeply fail with one template error, worded as Go's
// text/template words it, instead of overflowing the JS stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_NETWORK_TABLE, NETWORK_HEADERS, formatInspect, formatList } from '../../src/cli/format.js';
import { renderTemplate } from '../../src/util/gotemplate/index.js';
import { MAX_EXEC_DEPTH } from '../../src/util/gotemplate/evaluator.js';
import { MAX_PARSE_DEPTH } from '../../src/util/gotemplate/parser.js';

// the CLI as users start it (bin/berth: its startup snapshot, when built, whose stack is the same)
const CLI = fileURLToPath(new URL('../../../bin/berth', import.meta.url));
const RECURSE = '{{define "a"}}{{template "a"}}{{end}}{{template "a"}}';
const nestedIfs = (n: number): string => '{{if 1}}'.repeat(n) + 'x' + '{{end}}'.repeat(n);
const nestedParens = (n: number): string => `{{${'('.repeat(n)}1${')'.repeat(n)}}}`;

function failsWith(t: string, message: string | RegExp, data: unknown = {}): void {
  assert.throws(() => renderTemplate(t, data), (e: Error) => {
    assert.equal(e.name, 'InvalidParameterError');
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('a template that calls itself forever stops at the maximum template depth, as Go does', () => {
  failsWith(RECURSE, `template: :1:16: executing "a" at <{{template "a"}}>: exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
  failsWith('{{define "a"}}{{template "b" .}}{{end}}{{define "b"}}{{template "a" .}}{{end}}{{template "a" .}}',
    /executing "[ab]" at <\{\{template "[ab]" \.\}\}>: exceeded maximum template depth/);
});

test('recursion inside controls counts every level, so it cannot outgrow the stack either', () => {
  failsWith('{{define "a"}}{{if 1}}{{with 1}}{{range $}}{{template "a" $}}{{end}}{{end}}{{end}}{{end}}{{template "a" .}}',
    /exceeded maximum template depth \(1000\)$/, [1]);
  const deep = nestedIfs(MAX_PARSE_DEPTH - 1);
  failsWith(`{{define "a"}}${deep.replace('x', '{{template "a"}}')}{{end}}{{template "a"}}`, /exceeded maximum template depth/);
});

test('bounded recursion under the limit still runs', () => {
  const countdown = '{{define "down"}}{{if .}}{{len .}} {{template "down" (slice . 1)}}{{end}}{{end}}{{template "down" .}}';
  assert.equal(renderTemplate(countdown, [1, 2, 3]), '3 2 1 ');
  assert.equal(renderTemplate(countdown, Array.from({ length: 300 }, (_, i) => i)).split(' ').length, 301);
});

test('thousands of nested controls or parentheses are a parse error (Go\'s "max expression depth exceeded")', () => {
  for (const t of [nestedIfs(5000), nestedParens(5000), '{{range .}}'.repeat(3000), '{{if 1}}{{else if 1}}'.repeat(3000) + '{{end}}']) {
    failsWith(t, 'template parsing error: template: :1: max expression depth exceeded');
  }
});

test('nesting up to the limit parses and runs', () => {
  assert.equal(renderTemplate(nestedIfs(MAX_PARSE_DEPTH), {}), 'x');
  assert.equal(renderTemplate(nestedParens(MAX_PARSE_DEPTH), {}), '1');
  failsWith(nestedIfs(MAX_PARSE_DEPTH + 1), /max expression depth exceeded/);
  failsWith(nestedParens(MAX_PARSE_DEPTH + 1), /max expression depth exceeded/);
});

test('the CLI formatters turn them into one error line', () => {
  const row = [{ ID: 'a63f6d0c8b49', Name: 'bridge', Driver: 'bridge', Scope: 'local' }];
  const opts = { defaultTable: DEFAULT_NETWORK_TABLE, headers: NETWORK_HEADERS };
  for (const f of [RECURSE, `table ${RECURSE}`, nestedIfs(3000)]) {
    assert.throws(() => formatList(row, f, opts), (e: Error) => e.name === 'InvalidParameterError' && !e.message.includes('\n'));
    assert.throws(() => formatInspect(row, f), (e: Error) => e.name === 'InvalidParameterError' && !e.message.includes('\n'));
  }
});

test('berth network ls --format with a recursive or deeply nested template exits non-zero with one clear line', async (t) => {
  // node's HTTP server stands in for berthd: the CLI only needs a network list
  const dir = mkdtempSync(join(tmpdir(), 'berth-tmpl-'));
  const socket = join(dir, 'd.sock');
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify([{ Id: 'a63f6d0c8b49'.repeat(5).slice(0, 64), Name: 'bridge', Driver: 'bridge', Scope: 'local', Internal: false, Labels: {}, Created: '2026-12-01T00:00:00Z' }]));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  const berth = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await promisify(execFile)(CLI, ['-H', `unix://${socket}`, ...args]);
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };
  assert.equal((await berth(['network', 'ls', '--format', '{{.Name}}'])).stdout, 'bridge\n');
  for (const [format, message] of [
    [RECURSE, /^template: :1:16: executing "a" at <\{\{template "a"\}\}>: exceeded maximum template depth \(1000\)\n$/],
    [nestedIfs(5000), /^template parsing error: template: :1: max expression depth exceeded\n$/],
  ] as const) {
    const r = await berth(['network', 'ls', '--format', format]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});
