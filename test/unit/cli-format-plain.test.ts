// The default tables through the template engine: `{{.X}}` and `{{ .X }}` are the same
// template, with Unicode names too (the lexer decides ASCII letters without its Unicode
// class), and the tables come out as docker prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTAINER_HEADERS, DEFAULT_NETWORK_TABLE, NETWORK_HEADERS, formatList } from '../../src/cli/format.js';

const spaced = (format: string): string => format.replace(/\{\{\.(\w+)\}\}/g, '{{ .$1 }}');

const networks = [
  { ID: 'a63f6d0c8b49', Name: 'bridge', Driver: 'bridge', Scope: 'local', Internal: 'false', Labels: '' },
  { ID: '7fca4eb8c647', Name: 'a-very-long-network-name', Driver: 'bridge', Scope: 'local', Internal: 'true', Labels: 'a=b,c=d' },
  { ID: '9f904ee27bf5', Name: 'réseau', Driver: 'null', Scope: 'local', Internal: 'false', Labels: '' },
];
const containers = [
  { ID: '0123456789ab', Image: '', Command: '"sleep 100"', RunningFor: '2 seconds ago', Status: 'Up 2 seconds', Ports: '0.0.0.0:8080->80/tcp', Names: 'web' },
  { ID: 'ba9876543210', Image: 'alpine', Command: '"sh -c \'echo hi\'"', RunningFor: 'About a minute ago', Status: 'Exited (0) 5 seconds ago', Ports: '', Names: 'x,y' },
];
const PS_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

const cases: [string, unknown[], string | undefined, string, Readonly<Record<string, string>>][] = [
  ['network ls', networks, undefined, DEFAULT_NETWORK_TABLE, NETWORK_HEADERS],
  ['network ls, bare "table"', networks, 'table', DEFAULT_NETWORK_TABLE, NETWORK_HEADERS],
  ['network ls, chosen columns', networks, 'table {{.Name}}\\t{{.Internal}}\\t{{.Labels}}', DEFAULT_NETWORK_TABLE, NETWORK_HEADERS],
  ['network ls, raw template', networks, '{{.ID}}\\t{{.Name}}', DEFAULT_NETWORK_TABLE, NETWORK_HEADERS],
  ['network ls, no networks', [], undefined, DEFAULT_NETWORK_TABLE, NETWORK_HEADERS],
  ['ps', containers, undefined, PS_TABLE, CONTAINER_HEADERS],
  ['ps, unknown header', [{ ID: 'x', Extra: 'y' }], 'table {{.ID}}\t{{.Extra}}', PS_TABLE, CONTAINER_HEADERS],
];

for (const [name, rows, format, defaultTable, headers] of cases) {
  test(`${name}: {{.X}} and {{ .X }} print the same table`, () => {
    const engine = formatList(rows, spaced(format ?? defaultTable), { defaultTable: spaced(defaultTable), headers });
    assert.equal(formatList(rows, format, { defaultTable, headers }), engine);
  });
}

test('rows with a missing or non-string field print as the engine prints them', () => {
  const opts = { defaultTable: DEFAULT_NETWORK_TABLE, headers: NETWORK_HEADERS };
  const missing = formatList([{ ID: 'a', Name: 'n', Driver: 'd' }], undefined, opts);
  assert.match(missing, /<no value>/);
  const numbers = formatList([{ ID: 1, Name: true, Driver: 'd', Scope: null }], '{{.ID}}\t{{.Name}}\t{{.Scope}}', opts);
  assert.equal(numbers, formatList([{ ID: 1, Name: true, Driver: 'd', Scope: null }], '{{ .ID }}\t{{ .Name }}\t{{ .Scope }}', opts));
});
