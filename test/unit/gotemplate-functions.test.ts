// Template functions: Go's builtins (printf and friends, index, slice, len, escapers)
// and the docker CLI's (json, split, join, title, lower, upper, pad, truncate).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJson, renderTemplate } from '../../src/util/gotemplate/index.js';

const r = (t: string, data: unknown = {}): string => renderTemplate(t, data);

test('printf handles width, precision, flags and the common verbs', () => {
  assert.equal(
    r('{{printf "%08.3f|%+d|%x|%X|%o|%#x|%c|%U|%e|%g|%G" 3.14159 5 "hi" 255 8 255 65 65 1234.5678 0.00001234 1e21}}'),
    '0003.142|+5|6869|FF|10|0xff|A|U+0041|1.234568e+03|1.234e-05|1E+21',
  );
  assert.equal(
    r('{{printf "%5s|%-5s|%.2s|%q|%v|%d|%s|%v" "ab" "ab" "abc" "a\\"b\\n" .M .N .S .Missing}}', { M: { b: 1, a: 'z' }, N: [1, 2], S: ['a', 'b'] }),
    '   ab|ab   |ab|"a\\"b\\n"|map[a:z b:1]|[1 2]|[a b]|<nil>',
  );
  assert.equal(r('{{printf "%6.2f%%|%5d|%-5d|%05d" 12.345 42 42 -42}}'), ' 12.35%|   42|42   |-0042');
});

test('printf reports wrong, missing and extra operands like Go', () => {
  assert.equal(r('{{printf "%s" 5}}'), '%!s(int=5)');
  assert.equal(r('{{printf "%d" 1.5}}'), '%!d(float64=1.5)');
  assert.equal(r('{{printf "%d"}}'), '%!d(MISSING)');
  assert.equal(r('{{printf "%d" "s" 4}}'), '%!d(string=s)%!(EXTRA int=4)');
  assert.equal(r('{{printf "%z" 1}}'), '%!z(int=1)');
  assert.equal(r('{{printf "%"}}'), '%!(NOVERB)');
});

test('printf supports explicit argument indexes, star widths and %T', () => {
  assert.equal(r('{{printf "%[2]s %[1]s" "a" "b"}}'), 'b a');
  assert.equal(r('{{printf "%*d|" 5 3}}'), '    3|');
  assert.equal(r('{{printf "%T %T %T %T %T" 1 1.5 "s" .S .M}}', { S: [], M: {} }), 'int float64 string []interface {} map[string]interface {}');
});

test('floats print with Go\'s shortest %v form, using an exponent from 1e+06 up and below 1e-04', () => {
  assert.equal(r('{{printf "%v %v %v %v" 100000.5 1000000.5 0.0001 0.00001}}'), '100000.5 1.0000005e+06 0.0001 1e-05');
});

test('print adds spaces only between non-string operands; println always', () => {
  assert.equal(r('{{print 1 2 "a" 3 "b" "c"}}'), '1 2a3bc');
  assert.equal(r('{{println 1 "a" .M}}', { M: { x: true } }), '1 a map[x:true]\n');
  assert.equal(r('{{print .Missing}}'), '<nil>');
});

test('json does not escape HTML characters, as docker\'s json function does not', () => {
  assert.equal(r('{{json .}}', { s: '<a & b>' }), '{"s":"<a & b>"}');
});

test('goJson can escape HTML like json.Marshal and keep struct field order', () => {
  assert.equal(goJson({ s: '<a & b>' }, { escapeHTML: true }), '{"s":"\\u003ca \\u0026 b\\u003e"}');
  assert.equal(goJson({ b: 1, a: 2 }, { keyOrder: 'insertion' }), '{"b":1,"a":2}');
  assert.equal(goJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
});

test('json writes Go\'s escapes and number forms', () => {
  assert.equal(r('{{json .}}', { s: 'tab\there\u2028\u0001"\\', n: [1, 1.5, 1e21, 1e-7, null, true] }),
    '{"n":[1,1.5,1000000000000000000000,1e-7,null,true],"s":"tab\\there\\u2028\\u0001\\"\\\\"}');
  assert.equal(r('{{json .Missing}}|{{json .N}}|{{json "x"}}|{{json 3}}', { N: null }), 'null|null|"x"|3');
});

test('json of a value Go cannot encode prints nothing, as docker ignores the error', () => {
  assert.equal(r('[{{json .}}]', { x: Number.NaN }), '[]');
});

test('index reaches into lists, maps and strings, several levels at once', () => {
  const d = { L: [['a', 'b'], ['c']], M: { k: { j: 'deep' } }, S: 'AB' };
  assert.equal(r('{{index .L 1 0}} {{index .M "k" "j"}} {{index .S 1}}', d), 'c deep 66');
});

test('index errors name the problem', () => {
  assert.throws(() => r('{{index .L "x"}}', { L: [] }), { message: 'template: :1:2: executing "" at <index .L "x">: error calling index: cannot index slice/array with type string' });
  assert.throws(() => r('{{index .M 1}}', { M: {} }), { message: 'template: :1:2: executing "" at <index .M 1>: error calling index: value has type int; should be string' });
  assert.throws(() => r('{{index 5 1}}'), { message: 'template: :1:2: executing "" at <index 5 1>: error calling index: can\'t index item of type int' });
});

test('index with a missing key in a map of non-strings yields <no value>', () => {
  assert.equal(r('{{index .M "zz"}}', { M: { a: { x: 1 } } }), '<no value>');
});

test('slice cuts lists and strings by byte offsets', () => {
  assert.equal(r('{{slice .L 1}} {{slice .L 0 1}} {{slice "hello" 1 3}} {{slice .L}}', { L: ['a', 'b', 'c'] }), '[b c] [a] el [a b c]');
  assert.throws(() => r('{{slice .L 4}}', { L: [] }), { message: 'template: :1:2: executing "" at <slice .L 4>: error calling slice: index out of range: 4' });
});

test('len rejects values without a length', () => {
  assert.throws(() => r('{{len 3}}'), { message: 'template: :1:2: executing "" at <len 3>: error calling len: len of type int' });
});

test('comparisons reject incompatible and unordered types', () => {
  assert.throws(() => r('{{eq 1 "a"}}'), { message: 'template: :1:2: executing "" at <eq 1 "a">: error calling eq: incompatible types for comparison' });
  assert.throws(() => r('{{lt true false}}'), { message: 'template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison' });
  assert.equal(r('{{eq .Missing nil}} {{eq .S ""}}', { S: '' }), 'true true');
});

test('html, js and urlquery escape like Go', () => {
  assert.equal(r('{{html "<a href=\'x\'>&\\"</a>"}}'), '&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;');
  assert.equal(r('{{js "x=\\"<y>\\" \'z\'"}}'), 'x\\u003D\\"\\u003Cy\\u003E\\" \\\'z\\\'');
  assert.equal(r('{{urlquery "a b&c/d!"}}'), 'a+b%26c%2Fd%21');
});

test('pad surrounds non-empty strings with spaces; truncate cuts to a byte length', () => {
  assert.equal(r('[{{pad "x" 2 1}}][{{pad "" 2 1}}][{{truncate "abcdef" 3}}][{{truncate "ab" 3}}]'), '[  x ][][abc][ab]');
});

test('string functions treat JSON null as an empty string', () => {
  assert.equal(r('[{{upper .N}}][{{join .N ","}}]', { N: null }), '[][]');
});

test('join accepts non-string items by printing them', () => {
  assert.equal(r('{{join .L "-"}}', { L: ['a', 1, true] }), 'a-1-true');
});

test('split with an empty separator splits into characters', () => {
  assert.equal(r('{{split "héllo" ""}} {{len (split "" ",")}}'), '[h é l l o] 1');
});

test('in header mode docker\'s string functions return the column name unchanged', () => {
  assert.equal(renderTemplate('{{upper .Name}}|{{json .ID}}|{{join .Labels ","}}|{{truncate .ID 3}}',
    { Name: 'NAME', ID: 'NETWORK ID', Labels: 'LABELS' }, { header: true }), 'NAME|NETWORK ID|LABELS|NETWORK ID');
});

test('extra functions can be supplied, and call invokes function values', () => {
  assert.equal(renderTemplate('{{shout .A}}', { A: 'hi' }, { funcs: { shout: (s) => `${String(s)}!` } }), 'hi!');
  assert.equal(r('{{call .F 2 3}}', { F: (a: number, b: number) => a * b }), '6');
});

test('a function that throws is reported as an error calling it', () => {
  assert.throws(() => renderTemplate('{{boom}}', {}, { funcs: { boom: () => { throw new Error('bad'); } } }),
    { message: 'template: :1:2: executing "" at <boom>: error calling boom: bad' });
});
