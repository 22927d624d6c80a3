import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configShape, hostConfigShape } from '../../src/api/container-defaults.js';
import { endpointSettings, endpointSummary } from '../../src/api/network-shapes.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../../src/store/records.js';
import { shapeDiff } from '../compat/shape-diff.js';

// The endpoint and container shapes as pure functions of records, against dockerd 20.10's
// recorded answers for the same situations (test/fixtures/dockerd-20.10/).

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/dockerd-20.10/', import.meta.url));
const fixture = (name: string): any => JSON.parse(readFileSync(FIXTURES + name, 'utf8'));
const ZERO = '0001-01-01T00:00:00Z';

const net: NetworkRecord = {
  id: 'a'.repeat(64), name: 'my_net1', driver: 'bridge', scope: 'local', created: '2026-01-01T00:00:00Z',
  internal: false, attachable: false, enableIPv6: false, ipamDriver: 'default',
  ipamConfig: [{ subnet: '172.18.0.0/16', gateway: '172.18.0.1' }], ipamOptions: {}, options: {}, labels: {}, builtin: false, driverConfig: null,
};

function container(over: Partial<ContainerRecord['state']> = {}, config: Partial<ContainerRecord['config']> = {}): ContainerRecord {
  return {
    id: 'c'.repeat(64), name: 'c_api', created: '2026-01-01T00:00:00Z', sandboxKey: '',
    config: { image: 'bb', cmd: ['sleep', '3600'], env: [], hostname: 'cccccccccccc', domainname: '', workdir: '', tty: false, openStdin: false, exposedPorts: [], labels: {}, ...config },
    hostConfig: { networkMode: 'my_net1', autoRemove: false, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], links: [], portBindings: {}, publishAllPorts: false },
    state: { status: 'created', pid: 0, shimPid: 0, exitCode: 0, startedAt: ZERO, finishedAt: ZERO, error: '', ...over },
  };
}

function endpoint(over: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    id: 'e'.repeat(64), networkId: net.id, containerId: 'c'.repeat(64), ifName: '', linkName: '', addresses: [], mac: '',
    aliases: [], links: [], created: '2026-01-01T00:00:00Z', ...over,
  };
}

test('before the first start an endpoint shows what was asked for (MAC, DriverOpts, aliases) and no operational data', () => {
  const ep = endpoint({ staticMac: '02:42:ac:12:00:98', driverOpts: { k1: 'v1' }, aliases: ['api'] });
  const want = fixture('container-api-created.json').NetworkSettings.Networks.my_net1;
  assert.deepEqual(shapeDiff(want, endpointSettings(ep, net, container(), '1.41')), []);
});

test('a MAC from Config.MacAddress (--mac-address) shows in Config, not in the endpoint, before the start at API 1.41', () => {
  const c = container({}, { macAddress: '02:42:ac:12:00:99' });
  const ep = endpoint({ staticMac: '02:42:ac:12:00:99' });
  assert.equal(endpointSettings(ep, net, c, '1.41').MacAddress, '');
  assert.equal(configShape(c).MacAddress, '02:42:ac:12:00:99');
  // from 1.44 on clients send it per endpoint, and dockerd shows it there
  assert.equal(endpointSettings(ep, net, c, '1.44').MacAddress, '02:42:ac:12:00:99');
  assert.equal('MacAddress' in configShape(container()), false);
});

test('once stopped an endpoint keeps its NetworkID, aliases with the short id and DriverOpts, and loses its MAC', () => {
  const c = container({ status: 'exited', exitCode: 137, startedAt: '2026-01-01T00:00:01Z', finishedAt: '2026-01-01T00:00:02Z' });
  const ep = endpoint({ staticMac: '02:42:ac:12:00:98', driverOpts: { k1: 'v1' }, aliases: ['api'] });
  const s = endpointSettings(ep, net, c, '1.41');
  assert.equal(s.NetworkID, net.id);
  assert.equal(s.MacAddress, '');
  assert.deepEqual(s.Aliases, ['api', 'cccccccccccc']);
  assert.deepEqual(s.DriverOpts, { k1: 'v1' });
});

test('a running endpoint shows its address, gateway and MAC; the list entry drops Aliases and DriverOpts', () => {
  const c = container({ status: 'running', pid: 10, startedAt: '2026-01-01T00:00:01Z' });
  const ep = endpoint({ addresses: ['172.18.0.3/16'], mac: '02:42:ac:12:00:03', driverOpts: { k: 'v' }, aliases: ['al'] });
  const s = endpointSettings(ep, net, c, '1.41');
  assert.deepEqual([s.IPAddress, s.IPPrefixLen, s.Gateway, s.MacAddress, s.EndpointID], ['172.18.0.3', 16, '172.18.0.1', '02:42:ac:12:00:03', ep.id]);
  const l = endpointSummary(ep, net, c, '1.41');
  assert.deepEqual([l.Aliases, l.DriverOpts, l.Links, l.IPAddress], [null, null, null, '172.18.0.3']);
});

test('HostConfig and Config have every key dockerd 20.10 prints, with the same JSON types', () => {
  const vm1 = fixture('container-vm1.json');
  const c = container({ status: 'running' });
  const typesOnly = { typeOnly: [/.*/] };
  assert.deepEqual(shapeDiff(vm1.HostConfig, hostConfigShape(c), typesOnly), []);
  assert.deepEqual(shapeDiff(vm1.Config, configShape({ ...c, config: { ...c.config, attach: { stdin: false, stdout: false, stderr: false } } }), typesOnly), []);
  assert.equal(hostConfigShape(c).PidMode, '');
  assert.equal(hostConfigShape({ ...c, hostConfig: { ...c.hostConfig, pidMode: 'host' } }).PidMode, 'host');
});

test('the key comparison reports keys missing on either side, type changes and values, and honours its exceptions', () => {
  assert.deepEqual(shapeDiff({ a: 1, b: { c: null } }, { a: 1, b: { c: null } }), []);
  assert.deepEqual(shapeDiff({ a: 1 }, {}).map((d) => [d.path, d.problem]), [['a', 'missing']]);
  assert.deepEqual(shapeDiff({}, { a: 1 }).map((d) => [d.path, d.problem]), [['a', 'extra']]);
  assert.deepEqual(shapeDiff({ a: null }, { a: {} }).map((d) => [d.path, d.problem]), [['a', 'type']]);
  assert.deepEqual(shapeDiff({ a: [1] }, { a: [2] }).map((d) => [d.path, d.problem]), [['a[0]', 'value']]);
  assert.deepEqual(shapeDiff({ a: 'x', b: 1 }, { a: 'y' }, { typeOnly: [/a/], ignore: [/b/] }), []);
  // a type-only path still has its keys compared
  assert.deepEqual(shapeDiff({ o: { k: 1 } }, { o: {} }, { typeOnly: [/o/] }).map((d) => d.path), ['o.k']);
});

test('an IPv6-only endpoint: the IPv4 fields empty, the IPv6 ones filled, as dockerd 28 shows it', () => {
  const only6: NetworkRecord = { ...net, enableIPv6: true, enableIPv4: false, ipamConfig: [{ subnet: 'fd00:61::/64', gateway: 'fd00:61::1' }] };
  const c = container({ status: 'running', pid: 10, startedAt: '2026-01-01T00:00:01Z' });
  const ep = endpoint({ addresses: ['fd00:61::2/64'], mac: '0a:1b:2c:3d:4e:5f' });
  const s = endpointSettings(ep, only6, c, '1.47');
  assert.deepEqual([s.IPAddress, s.IPPrefixLen, s.Gateway], ['', 0, '']);
  assert.deepEqual([s.GlobalIPv6Address, s.GlobalIPv6PrefixLen, s.IPv6Gateway, s.MacAddress], ['fd00:61::2', 64, 'fd00:61::1', '0a:1b:2c:3d:4e:5f']);
});
