// The `--format` templates docker users type, rendered as the docker CLI renders them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, renderTemplate } from '../../src/util/gotemplate/index.js';
import { InvalidParameterError } from '../../src/util/errors.js';

const container = {
  Id: 'f00dfeed',
  Name: '/web',
  Args: ['-g', 'daemon off;'],
  State: { Status: 'running', Running: true, Pid: 4242, ExitCode: 0 },
  Config: { Labels: { 'com.example.tier': 'front', app: 'shop' } },
  NetworkSettings: {
    Networks: {
      frontend: { IPAddress: '172.18.0.2', MacAddress: '02:42:ac:12:00:02' },
      bridge: { IPAddress: '172.17.0.2', MacAddress: '02:42:ac:11:00:02' },
    },
    Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '443/tcp': null },
  },
};

const network = {
  Name: 'frontend',
  Id: 'a63f6d0c8b49',
  Driver: 'bridge',
  Internal: false,
  EnableIPv6: true,
  IPAM: { Driver: 'default', Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }, { Subnet: 'fd00:1::/64' }] },
  Options: { 'com.docker.network.bridge.name': 'br-front' },
  Containers: {
    ff02: { Name: 'db', IPv4Address: '172.18.0.3/16' },
    aa01: { Name: 'web', IPv4Address: '172.18.0.2/16' },
  },
};

test('a nested field prints its value', () => {
  assert.equal(renderTemplate('{{.State.Pid}}', container), '4242');
});

test('range over a list of subnets concatenates each subnet', () => {
  assert.equal(renderTemplate('{{range .IPAM.Config}}{{.Subnet}}{{end}}', network), '172.18.0.0/16fd00:1::/64');
});

test('json prints compact JSON with map keys sorted', () => {
  assert.equal(
    renderTemplate('{{json .NetworkSettings.Networks}}', container),
    '{"bridge":{"IPAddress":"172.17.0.2","MacAddress":"02:42:ac:11:00:02"},"frontend":{"IPAddress":"172.18.0.2","MacAddress":"02:42:ac:12:00:02"}}',
  );
});

test('index looks up a map key that contains dots', () => {
  assert.equal(renderTemplate('{{index .Options "com.docker.network.bridge.name"}}', network), 'br-front');
});

test('index on a string map with a missing key prints nothing, like a Go map[string]string', () => {
  assert.equal(renderTemplate('[{{index .Options "nope"}}]', network), '[]');
  assert.equal(renderTemplate('[{{index .Options "nope"}}]', { Options: {} }), '[]');
});

test('range with key and value variables walks a map in sorted key order', () => {
  assert.equal(
    renderTemplate('{{range $k, $v := .Containers}}{{$v.Name}} {{$v.IPv4Address}}{{"\\n"}}{{end}}', network),
    'web 172.18.0.2/16\ndb 172.18.0.3/16\n',
  );
});

test('join concatenates a list with a separator', () => {
  assert.equal(renderTemplate('{{join .Args ","}}', container), '-g,daemon off;');
});

test('a tab between fields is kept as a tab outside table mode', () => {
  assert.equal(renderTemplate('{{.Name}}\t{{.Driver}}', network), 'frontend\tbridge');
});

test('if/else chooses on a boolean field', () => {
  assert.equal(renderTemplate('{{if .Internal}}yes{{else}}no{{end}}', network), 'no');
  assert.equal(renderTemplate('{{if .EnableIPv6}}yes{{else}}no{{end}}', network), 'yes');
});

test('println appends a newline', () => {
  assert.equal(renderTemplate('{{println .Name}}', network), 'frontend\n');
});

test('range over a map of networks visits values in key order', () => {
  assert.equal(renderTemplate('{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', container), '172.17.0.2 172.18.0.2 ');
});

test('a parenthesized index of a port map prints the bindings as Go prints a slice of maps', () => {
  assert.equal(renderTemplate('{{(index .NetworkSettings.Ports "80/tcp") }}', container), '[map[HostIp:0.0.0.0 HostPort:8080]]');
  assert.equal(renderTemplate('{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}', container), '8080');
});

test('lower, upper and title change case like Go strings functions', () => {
  assert.equal(renderTemplate('{{lower "Front-END"}}|{{upper .Name}}|{{title "hello wide-world foo_bar"}}', network),
    'front-end|FRONTEND|Hello Wide-World Foo_bar');
});

test('split returns a list that prints as [a b]', () => {
  assert.equal(renderTemplate('{{split "a,b,c" ","}}', {}), '[a b c]');
  assert.equal(renderTemplate('{{index (split .Name "n") 0}}', network), 'fro');
});

test('len counts map entries, list items and string bytes', () => {
  assert.equal(renderTemplate('{{len .Containers}} {{len .IPAM.Config}} {{len "héllo"}}', network), '2 2 6');
});

test('printf formats strings and integers', () => {
  assert.equal(renderTemplate('{{printf "%s:%d" .A .B}}', { A: 'web', B: 80 }), 'web:80');
});

test('trim markers remove whitespace around actions', () => {
  assert.equal(renderTemplate('a  \n {{- .Name -}} \n  b', network), 'afrontendb');
  assert.equal(renderTemplate('{{range .Args -}}\n  [{{.}}]\n{{- end}}', container), '[-g][daemon off;]');
});

test('a pipeline passes the value as the last argument', () => {
  assert.equal(renderTemplate('{{.Name | upper}}', network), 'FRONTEND');
  assert.equal(renderTemplate('{{.Name | printf "%s-%s" "net"}}', network), 'net-frontend');
});

test('comparison functions compare numbers and strings', () => {
  const t = '{{eq .A 1}} {{ne .A 1}} {{lt .A 2}} {{le .A 1}} {{gt .A 0}} {{ge .A 2}} {{eq .S "x" "y"}}';
  assert.equal(renderTemplate(t, { A: 1, S: 'y' }), 'true false true true true false true');
});

test('and/or return the deciding operand and not negates', () => {
  assert.equal(renderTemplate('{{and 1 0}}|{{or 0 "x"}}|{{or .Missing "fallback"}}|{{not .Internal}}', network), '0|x|fallback|true');
});

test('and stops evaluating at the first false operand', () => {
  assert.equal(renderTemplate('{{if and .Internal (index .Nope 0)}}y{{else}}n{{end}}', network), 'n');
});

test('variables can be declared and reassigned', () => {
  assert.equal(renderTemplate('{{$n := .Name}}{{$n}}', network), 'frontend');
  assert.equal(renderTemplate('{{$x := 1}}{{range .Args}}{{$x = 2}}{{end}}{{$x}}', container), '2');
  assert.equal(renderTemplate('{{range .Args}}{{$.Name}} {{end}}', container), '/web /web ');
});

test('with sets dot and falls back to else on empty values', () => {
  assert.equal(renderTemplate('{{with .State}}{{.Status}}{{end}}', container), 'running');
  assert.equal(renderTemplate('{{with .Options.missing}}x{{else}}none{{end}}', network), 'none');
});

test('range else runs for empty or missing collections', () => {
  assert.equal(renderTemplate('{{range .Nope}}x{{else}}empty{{end}}', {}), 'empty');
  assert.equal(renderTemplate('{{range .L}}x{{else}}empty{{end}}', { L: [] }), 'empty');
});

test('a missing key prints <no value>', () => {
  assert.equal(renderTemplate('{{.Missing}}', network), '<no value>');
  assert.equal(renderTemplate('{{.Missing.Deeper}}', network), '<no value>');
});

test('null prints <no value> at top level and <nil> inside collections', () => {
  assert.equal(renderTemplate('{{index .NetworkSettings.Ports "443/tcp"}}', container), '<no value>');
  assert.equal(renderTemplate('{{.L}}', { L: ['a', null] }), '[a <nil>]');
  assert.equal(renderTemplate('{{.M}}', { M: { k: null } }), 'map[k:<nil>]');
});

test('values print like Go: booleans, ints, floats, lists and sorted maps', () => {
  assert.equal(renderTemplate('{{.T}} {{.I}} {{.F}} {{.E}} {{.L}} {{.M}}', {
    T: true, I: 1500000, F: 2.5, E: 1234567.5, L: ['a', 'b', 'c'], M: { k2: 'v2', k: 'v' },
  }), 'true 1500000 2.5 1.2345675e+06 [a b c] map[k:v k2:v2]');
});

test('with missingkey=error an unknown field fails with Go\'s message', () => {
  assert.throws(() => renderTemplate('{{.Missing}}', network, { missingKey: 'error' }), {
    name: 'InvalidParameterError',
    message: 'template: :1:2: executing "" at <.Missing>: map has no entry for key "Missing"',
  });
});

test('an unclosed action is a one-line parse error', () => {
  assert.throws(() => renderTemplate('{{.Name', network), (e: unknown) => {
    assert.ok(e instanceof InvalidParameterError);
    assert.equal(e.message, 'template parsing error: template: :1: unclosed action');
    assert.equal(e.status, 400);
    return true;
  });
});

test('a compiled template renders many objects', () => {
  const t = compileTemplate('{{.Name}}={{.Driver}}');
  assert.equal(t({ Name: 'a', Driver: 'bridge' }), 'a=bridge');
  assert.equal(t({ Name: 'b', Driver: 'macvlan' }), 'b=macvlan');
  assert.deepEqual(t.fields, ['Name', 'Driver']);
});
