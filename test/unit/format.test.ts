// CLI output as the docker CLI prints it: tabwriter tables, --format modes, inspect
// output, and go-units human durations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONTAINER_HEADERS, DEFAULT_NETWORK_TABLE, NETWORK_HEADERS, containerStatus, defaultHeader,
  formatInspect, formatList, formatTable, humanDuration, parseFormat, tabwrite, timeAgo,
} from '../../src/cli/format.js';

const networks = [
  { ID: 'a63f6d0c8b49', Name: 'bridge', Driver: 'bridge', Scope: 'local', Internal: 'false' },
  { ID: '7fca4eb8c647', Name: 'host', Driver: 'host', Scope: 'local', Internal: 'false' },
  { ID: '9f904ee27bf5', Name: 'none', Driver: 'null', Scope: 'local', Internal: 'false' },
];
const listOpts = { defaultTable: DEFAULT_NETWORK_TABLE, headers: NETWORK_HEADERS };

test('a table is aligned exactly like docker network ls', () => {
  const rows = networks.map((n) => [n.ID, n.Name, n.Driver, n.Scope]);
  assert.equal(formatTable(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], rows),
    'NETWORK ID     NAME      DRIVER    SCOPE\n' +
    'a63f6d0c8b49   bridge    bridge    local\n' +
    '7fca4eb8c647   host      host      local\n' +
    '9f904ee27bf5   none      null      local\n');
});

test('a column is its widest cell plus three spaces, at least ten, last column unpadded', () => {
  assert.equal(formatTable(['NAME', 'DRIVER'], [['my-very-long-network', 'macvlan'], ['x', 'null']]),
    'NAME                   DRIVER\n' +
    'my-very-long-network   macvlan\n' +
    'x                      null\n');
});

test('an empty last cell leaves the padding of the cell before it, as Go\'s tabwriter does', () => {
  assert.equal(formatTable(['NAME', 'LABELS'], [['x', '']]), 'NAME      LABELS\nx         \n');
});

test('cell width counts characters, not bytes', () => {
  assert.equal(formatTable(['A', 'B'], [['éééééééééééé', 'x']]), 'A              B\néééééééééééé   x\n');
});

test('a line without tabs ends a column block, as in Go\'s tabwriter', () => {
  assert.equal(tabwrite('a\tb\nlonger-than-ten\tc\nplain\nx\ty\n'),
    'a                 b\n' +
    'longer-than-ten   c\n' +
    'plain\n' +
    'x         y\n');
});

test('text after the last newline is written without a newline', () => {
  assert.equal(tabwrite('a\tb\ncc\tdd'), 'a         b\ncc\tdd');
});

test('with no --format the default network table is printed', () => {
  assert.equal(formatList(networks, undefined, listOpts),
    'NETWORK ID     NAME      DRIVER    SCOPE\n' +
    'a63f6d0c8b49   bridge    bridge    local\n' +
    '7fca4eb8c647   host      host      local\n' +
    '9f904ee27bf5   none      null      local\n');
  assert.equal(formatList(networks, 'table', listOpts), formatList(networks, undefined, listOpts));
});

test('an empty list still prints the header row', () => {
  assert.equal(formatList([], undefined, listOpts), 'NETWORK ID   NAME      DRIVER    SCOPE\n');
});

test('table format takes column titles from docker\'s header names, with shell \\t escapes', () => {
  assert.equal(formatList(networks.slice(0, 2), 'table {{.ID}}\\t{{.Name | upper}}\\t{{.Internal}}', listOpts),
    'NETWORK ID     NAME      INTERNAL\n' +
    'a63f6d0c8b49   BRIDGE    false\n' +
    '7fca4eb8c647   HOST      false\n');
  assert.equal(formatList([{ ID: 'c0ffee', Names: 'web' }], 'table {{.ID}}\t{{.Names}}', { defaultTable: 'table {{.ID}}', headers: CONTAINER_HEADERS }),
    'CONTAINER ID   NAMES\n' +
    'c0ffee         web\n');
});

test('a header that cannot be rendered is left empty instead of failing the listing', () => {
  assert.equal(formatList([{ Config: { Image: 'alpine' } }], 'table {{.Config.Image}}', listOpts), '\nalpine\n');
});

test('a field docker has no title for is titled by splitting its name', () => {
  assert.equal(defaultHeader('IPv4Address'), 'IPV4 ADDRESS');
  assert.equal(defaultHeader('Subnet'), 'SUBNET');
});

test('--format json prints one compact JSON object per line', () => {
  assert.equal(formatList(networks.slice(0, 1), 'json', listOpts),
    '{"Driver":"bridge","ID":"a63f6d0c8b49","Internal":"false","Name":"bridge","Scope":"local"}\n');
});

test('a raw template prints one line per object without alignment', () => {
  assert.equal(formatList(networks.slice(0, 2), '{{.Name}}\\t{{.Driver}}', listOpts), 'bridge\tbridge\nhost\thost\n');
});

test('parseFormat recognises json, table and raw templates', () => {
  assert.deepEqual(parseFormat('json', DEFAULT_NETWORK_TABLE), { kind: 'json' });
  assert.deepEqual(parseFormat('table {{.Name}}\\t{{.ID}} ', DEFAULT_NETWORK_TABLE), { kind: 'table', template: '{{.Name}}\t{{.ID}}' });
  assert.deepEqual(parseFormat('{{.Name}}', DEFAULT_NETWORK_TABLE), { kind: 'template', template: '{{.Name}}' });
  assert.deepEqual(parseFormat(undefined, DEFAULT_NETWORK_TABLE), { kind: 'table', template: '{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}' });
});

test('inspect prints an indented JSON array by default and for "json"', () => {
  const out = '[\n    {\n        "Name": "bridge",\n        "Options": {},\n        "Containers": []\n    }\n]\n';
  assert.equal(formatInspect([{ Name: 'bridge', Options: {}, Containers: [] }]), out);
  assert.equal(formatInspect([{ Name: 'bridge', Options: {}, Containers: [] }], 'json'), out);
  assert.equal(formatInspect([]), '[]\n');
});

test('inspect with a template prints one line per object', () => {
  assert.equal(formatInspect(networks, '{{.Name}} {{.Driver}}'), 'bridge bridge\nhost host\nnone null\n');
});

test('inspect with an unknown field fails the way docker inspect does', () => {
  assert.throws(() => formatInspect(networks, '{{.Missing}}'), {
    name: 'InvalidParameterError',
    message: 'template: :1:2: executing "" at <.Missing>: map has no entry for key "Missing"',
  });
});

test('human durations follow go-units HumanDuration', () => {
  const s = 1000, m = 60 * s, h = 60 * m, d = 24 * h;
  const cases: [number, string][] = [
    [0, 'Less than a second'], [999, 'Less than a second'], [s, '1 second'], [59 * s + 999, '59 seconds'],
    [m, 'About a minute'], [2 * m - 1, 'About a minute'], [2 * m, '2 minutes'], [59 * m, '59 minutes'],
    [h, 'About an hour'], [89 * m, 'About an hour'], [90 * m, '2 hours'], [47 * h, '47 hours'],
    [47.5 * h, '2 days'], [13 * d, '13 days'], [14 * d, '2 weeks'], [59 * d, '8 weeks'],
    [60 * d, '2 months'], [729 * d, '24 months'], [730 * d, '2 years'], [3650 * d, '10 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
});

test('timeAgo words the time since an instant', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  assert.equal(timeAgo('2024-05-01T11:59:00Z', now), 'About a minute ago');
  assert.equal(timeAgo(new Date('2024-05-01T10:00:00Z'), now), '2 hours ago');
  assert.equal(timeAgo(now - 500, now), 'Less than a second ago');
});

test('container status reads like docker ps', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  const at = (ms: number): string => new Date(now - ms).toISOString();
  const zero = '0001-01-01T00:00:00Z';
  assert.equal(containerStatus({ Running: true, StartedAt: at(5000) }, now), 'Up 5 seconds');
  assert.equal(containerStatus({ Running: true, StartedAt: at(70_000) }, now), 'Up About a minute');
  assert.equal(containerStatus({ Running: true, StartedAt: at(2 * 3600_000) }, now), 'Up 2 hours');
  assert.equal(containerStatus({ Running: true, Paused: true, StartedAt: at(2 * 3600_000) }, now), 'Up 2 hours (Paused)');
  assert.equal(containerStatus({ Running: true, StartedAt: at(5000), Health: { Status: 'healthy' } }, now), 'Up 5 seconds (healthy)');
  assert.equal(containerStatus({ Running: true, StartedAt: at(5000), Health: { Status: 'starting' } }, now), 'Up 5 seconds (health: starting)');
  assert.equal(containerStatus({ Running: false, ExitCode: 0, StartedAt: at(10_000), FinishedAt: at(3000) }, now), 'Exited (0) 3 seconds ago');
  assert.equal(containerStatus({ Running: false, ExitCode: 137, StartedAt: at(10_000), FinishedAt: at(3 * 3600_000) }, now), 'Exited (137) 3 hours ago');
  assert.equal(containerStatus({ Running: false, StartedAt: zero, FinishedAt: zero }, now), 'Created');
  assert.equal(containerStatus({ Running: false, Dead: true, StartedAt: at(1000) }, now), 'Dead');
  assert.equal(containerStatus({ Running: true, Restarting: true, ExitCode: 1, StartedAt: at(9000), FinishedAt: at(2000) }, now), 'Restarting (1) 2 seconds ago');
});
