// Go text/template syntax: literals, comments, control flow, scoping, and the exact
// parse and execution error messages Go gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate } from '../../src/util/gotemplate/index.js';

const r = (t: string, data: unknown = {}): string => renderTemplate(t, data);

function failsWith(t: string, message: string, data: unknown = {}): void {
  assert.throws(() => renderTemplate(t, data), { name: 'InvalidParameterError', message });
}

test('text without actions is copied unchanged', () => {
  assert.equal(r('plain {text} } {'), 'plain {text} } {');
  assert.equal(r(''), '');
});

test('string literals decode Go escapes; raw strings do not', () => {
  assert.equal(r('{{"a\\tb\\n\\x41\\u00e9\\101"}}'), 'a\tb\nAéA');
  assert.equal(r('{{`a\\tb`}}'), 'a\\tb');
});

test('number literals accept Go forms and print as integers when integral', () => {
  assert.equal(r("{{'a'}} {{0x1F}} {{1_000}} {{017}} {{0o17}} {{0b101}} {{1e3}} {{1.5}} {{-3}} {{+4}}"), '97 31 1000 15 15 5 1000 1.5 -3 4');
});

test('a dash without a following space is a negative number, not a trim marker', () => {
  assert.equal(r('a {{-3}} b'), 'a -3 b');
  assert.equal(r('a {{- 3}} b'), 'a3 b');
});

test('comments produce nothing and may trim', () => {
  assert.equal(r('a{{/* note */}}b'), 'ab');
  assert.equal(r('a \n{{- /* note */ -}}\n b'), 'ab');
});

test('true, false and nil are literals; nil is not a command', () => {
  assert.equal(r('{{true}} {{false}} {{eq .Nope nil}}'), 'true false true');
  failsWith('{{nil}}', 'template: :1:2: executing "" at <nil>: nil is not a command');
});

test('else if chains pick the first true branch', () => {
  const t = '{{if eq .N 1}}one{{else if eq .N 2}}two{{else}}many{{end}}';
  assert.equal(r(t, { N: 1 }), 'one');
  assert.equal(r(t, { N: 2 }), 'two');
  assert.equal(r(t, { N: 3 }), 'many');
});

test('else with chains test the next value', () => {
  assert.equal(r('{{with .A}}a{{else with .B}}{{.}}{{end}}', { B: 'b' }), 'b');
});

test('range gives index and element to two variables', () => {
  assert.equal(r('{{range $i, $e := .L}}{{$i}}={{$e}} {{end}}', { L: ['x', 'y'] }), '0=x 1=y ');
  assert.equal(r('{{range $e := .L}}{{$e}}{{end}}', { L: ['x', 'y'] }), 'xy');
});

test('break and continue control a range loop', () => {
  assert.equal(r('{{range .L}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}', { L: [1, 2, 3, 4, 5] }), '13');
});

test('range over an integer counts from zero', () => {
  assert.equal(r('{{range 3}}{{.}}{{end}}'), '012');
});

test('empty values are false: "", 0, empty list, empty map, null, missing', () => {
  const t = '{{if .V}}T{{else}}F{{end}}';
  for (const v of ['', 0, [], {}, null]) assert.equal(r(t, { V: v }), 'F');
  assert.equal(r(t, {}), 'F');
  for (const v of ['x', 1, [0], { a: 1 }, true]) assert.equal(r(t, { V: v }), 'T');
});

test('define and template render a named sub-template with its own dot', () => {
  assert.equal(r('{{define "item"}}<{{.}}>{{end}}{{range .L}}{{template "item" .}}{{end}}', { L: ['a', 'b'] }), '<a><b>');
  assert.equal(r('{{block "b" .N}}[{{.}}]{{end}}', { N: 5 }), '[5]');
});

test('variables declared inside a block are not visible after it', () => {
  failsWith('{{if true}}{{$y := 1}}{{end}}{{$y}}', 'template parsing error: template: :1: undefined variable "$y"');
});

test('parse errors carry the line number', () => {
  failsWith('line1\n{{.A', 'template parsing error: template: :2: unclosed action');
  failsWith('{{if .A}}x', 'template parsing error: template: :1: unexpected EOF');
  failsWith('{{end}}', 'template parsing error: template: :1: unexpected {{end}}');
  failsWith('{{else}}', 'template parsing error: template: :1: unexpected {{else}}');
  failsWith('{{nosuch .A}}', 'template parsing error: template: :1: function "nosuch" not defined');
  failsWith('{{}}', 'template parsing error: template: :1: missing value for command');
  failsWith('{{if}}{{end}}', 'template parsing error: template: :1: missing value for if');
  failsWith('{{"abc}}', 'template parsing error: template: :1: unterminated quoted string');
  failsWith('{{.A,}}', 'template parsing error: template: :1: unexpected "," in operand');
  failsWith('{{(.A}}', 'template parsing error: template: :1: unclosed left paren');
  failsWith('{{break}}', 'template parsing error: template: :1: {{break}} outside {{range}}');
  failsWith('{{/* x }}', 'template parsing error: template: :1: unclosed comment');
  failsWith('{{.A | "x"}}', 'template parsing error: template: :1: non executable command in pipeline stage 2');
  failsWith('{{.A ! .B}}', 'template parsing error: template: :1: unexpected "!" in operand');
  failsWith('{{.A#}}', "template parsing error: template: :1: bad character U+0023 '#'");
});

test('execution errors name the line, column and node', () => {
  failsWith('{{.Name.X}}', 'template: :1:2: executing "" at <.Name.X>: can\'t evaluate field X in type string', { Name: 's' });
  failsWith('ab\n  {{index .L 5}}', 'template: :2:4: executing "" at <index .L 5>: error calling index: index out of range: 5', { L: [] });
  failsWith('{{.A .B}}', 'template: :1:2: executing "" at <.A>: A is not a method but has arguments', { A: 1 });
  failsWith('{{upper .N}}', 'template: :1:8: executing "" at <.N>: wrong type for value; expected string; got int', { N: 3 });
  failsWith('{{join .A}}', 'template: :1:2: executing "" at <join>: wrong number of args for join: want 2 got 1', { A: [] });
  failsWith('{{.N.X}}', 'template: :1:2: executing "" at <.N.X>: nil pointer evaluating interface {}.X', { N: null });
  failsWith('{{range .S}}{{end}}', 'template: :1:8: executing "" at <.S>: range can\'t iterate over abc', { S: 'abc' });
});

test('long nodes are shortened to 20 characters in error context', () => {
  failsWith('{{index .Something.Long 12345}}',
    'template: :1:2: executing "" at <index .Something.Lon...>: error calling index: index of untyped nil', {});
});
