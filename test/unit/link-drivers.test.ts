import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DriverNetwork, EndpointView, NetworkSpec } from '../../src/driverapi/contract.js';
import type { Kernel } from '../../src/kernel/types.js';
import { berthBridgeByName, MacvlanDriver } from '../../src/drivers/macvlan/driver.js';
import { parseMacvlanConfig, type MacvlanConfig } from '../../src/drivers/macvlan/options.js';
import { hostAddress, shimName } from '../../src/drivers/macvlan/host-access.js';
import { pairEnds, PtpDriver } from '../../src/drivers/ptp/driver.js';
import type { PtpConfig } from '../../src/drivers/ptp/options.js';
import { ConflictError, InvalidParameterError } from '../../src/util/errors.js';

// The macvlan and ptp drivers' pure halves: option parsing and interface plans (which
// make no kernel call: the kernel given here refuses any use). Their kernel halves are
// proven in test/integration/macvlan.test.ts and ptp.test.ts.

const noKernel = new Proxy({}, { get: (_t, op) => () => { throw new Error(`planning called the kernel (${String(op)})`); } }) as Kernel;
const ID = '0123456789abcdef0123456789abcdef';

function spec(options: Record<string, string>): NetworkSpec {
  return { id: ID, name: 'lan', internal: false, builtin: false, options };
}

function net<C>(config: C, over: Partial<DriverNetwork<C>> = {}): DriverNetwork<C> {
  return {
    id: ID, name: 'lan', internal: false, builtin: false, config,
    subnets: [{ subnet: '198.18.1.0/24', gateway: '198.18.1.1', ipRange: '198.18.1.128/25', auxAddresses: { host: '198.18.1.254' } }],
    ...over,
  };
}

function endpoint(over: Partial<EndpointView> = {}): EndpointView {
  return {
    id: 'e1', containerId: 'c1', ifName: 'eth0', addresses: ['198.18.1.130/24'], mac: '02:42:c6:12:01:82',
    linkName: '', linkLocal: [], driverOpts: {}, publishes: false, prepared: false, ...over,
  };
}

test('macvlan options: Docker names and defaults, VLAN parents, a parent of its own when none is given', () => {
  assert.deepEqual(parseMacvlanConfig(spec({ parent: 'eth1' })), {
    parent: 'eth1', source: { kind: 'given' }, mode: 'bridge', mtu: undefined, hostAccess: false, promiscuous: false,
  });
  const c = parseMacvlanConfig(spec({ parent: 'eth1.10', macvlan_mode: 'private', 'berth.host_access': 'true', 'berth.promiscuous': '1' }));
  assert.deepEqual([c.source, c.mode, c.hostAccess, c.promiscuous], [{ kind: 'vlan', lower: 'eth1', id: 10 }, 'private', true, true]);
  assert.deepEqual(parseMacvlanConfig(spec({})).source, { kind: 'nowhere' });
  assert.equal(parseMacvlanConfig(spec({})).parent, 'dm-0123456789ab');
});

test('macvlan options: every bad value is one clear InvalidParameterError', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ parent: 'eth1', macvlan_mode: 'hub' }, /^requested macvlan mode 'hub' is not valid, 'bridge' mode is the macvlan driver default$/],
    [{ parent: 'lo' }, /^loopback interface is not a valid macvlan parent link$/],
    [{ parent: 'eth1.0' }, /^vlan id must be between 1-4094, received: 0$/],
    [{ parent: 'eth1.4095' }, /^vlan id must be between 1-4094, received: 4095$/],
    [{ parent: 'eth1.x' }, /^unable to parse a valid vlan id from: x/],
    [{ parent: 'eth1.1.2' }, /^required interface name format is: name.vlan_id/],
    [{ parent: 'has space' }, /^invalid -o parent "has space"/],
    [{ parent: 'eth1', 'berth.host_acess': 'true' }, /^unknown macvlan option berth.host_acess/],
    [{ parent: 'eth1', 'berth.host_access': 'yes' }, /^invalid value for berth.host_access: "yes"/],
    [{ parent: 'eth1', 'com.docker.network.driver.mtu': '20' }, /^invalid MTU "20"/],
  ];
  for (const [options, message] of bad) assert.throws(() => parseMacvlanConfig(spec(options)), (e: Error) => e instanceof InvalidParameterError && message.test(e.message), JSON.stringify(options));
});

test('a macvlan endpoint plan: a macvlan on the parent in the mode, the MAC, the LAN router as gateway, none when internal', () => {
  const d = new MacvlanDriver(noKernel, berthBridgeByName('berth0'), '/run/berth');
  const config = d.parseConfig(spec({ parent: 'eth1', macvlan_mode: 'private' }));
  assert.deepEqual(d.planEndpoint(net(config), endpoint()), {
    link: { kind: 'macvlan', parent: 'eth1', mode: 'private' },
    mac: '02:42:c6:12:01:82', mtu: undefined, addresses: ['198.18.1.130/24'], gateway4: '198.18.1.1',
  });
  assert.equal(d.planEndpoint(net(config, { internal: true }), endpoint()).gateway4, undefined);
  assert.deepEqual(d.caps, { scope: 'local', multiInstance: true, ipam: true, publishesPorts: false, reservesGateway: true, hostNeighbours: false });
});

test('host access: the shim is named after the network and takes the aux-address "host"', () => {
  assert.equal(shimName(ID), 'mvh0123456789ab');
  const config = parseMacvlanConfig(spec({ parent: 'eth1', 'berth.host_access': 'true' })) as MacvlanConfig;
  assert.equal(hostAddress(net(config)), '198.18.1.254');
  assert.throws(() => hostAddress(net(config, { subnets: [{ subnet: '198.18.1.0/24', gateway: '198.18.1.1' }] })),
    /needs an address for the host on the network: reserve one with --aux-address host=IP/);
});

test("berth's bridges are told by name: br-<short id> and the default bridge", () => {
  const isBerth = berthBridgeByName('berth0');
  assert.deepEqual(['berth0', 'br-0123456789ab', 'br0', 'lan0'].map(isBerth), [true, true, false, false]);
});

test('a ptp endpoint plan: the free end of the parked pair, moved in and given back; a gateway only when asked', () => {
  const d = new PtpDriver(noKernel, '/run/berth');
  const config = d.parseConfig(spec({})) as PtpConfig;
  const n = net(config, { subnets: [{ subnet: '10.99.0.0/31' }] });
  const [a, b] = pairEnds(ID);
  assert.deepEqual([a, b], ['ptp0123456789a', 'ptp0123456789b']);
  const takenAmong = (names: string[]) => (name: string) => names.includes(name);
  assert.equal(d.linkName(n, takenAmong([])), a);
  assert.equal(d.linkName(n, takenAmong([a])), b);
  assert.equal(d.linkName(n, takenAmong([b])), a);
  assert.throws(() => d.linkName(n, takenAmong([a, b])), ConflictError);
  assert.deepEqual(d.planEndpoint(n, endpoint({ linkName: b, addresses: ['10.99.0.1/31'] })), {
    link: { kind: 'existing', name: b, netns: '/run/berth/ptp/0123456789ab', giveBack: true, pair: a },
    mac: '02:42:c6:12:01:82', mtu: undefined, addresses: ['10.99.0.1/31'], gateway4: undefined, gateway6: undefined,
  });
  assert.equal(d.planEndpoint(n, endpoint({ linkName: a })).gateway4, undefined, 'no default route through the link');
  // asked for (--gateway): offered to the end that does not hold that address
  const asked = net(config, { subnets: [{ subnet: '10.99.0.0/30', gateway: '10.99.0.1' }] });
  assert.equal(d.planEndpoint(asked, endpoint({ linkName: a, addresses: ['10.99.0.2/30'] })).gateway4, '10.99.0.1');
  assert.equal(d.planEndpoint(asked, endpoint({ linkName: b, addresses: ['10.99.0.1/30'] })).gateway4, undefined);
  // per family, on a dual-stack link: each family's gateway from its own subnet, told apart however it is written
  const dual = net(config, { subnets: [{ subnet: '10.99.0.0/30', gateway: '10.99.0.1' }, { subnet: 'fd00:99::/64', gateway: 'fd00:99:0::0001' }] });
  const leaf = d.planEndpoint(dual, endpoint({ linkName: a, addresses: ['10.99.0.2/30', 'fd00:99::2/64'] }));
  assert.deepEqual([leaf.gateway4, leaf.gateway6], ['10.99.0.1', 'fd00:99:0::0001']);
  const router = d.planEndpoint(dual, endpoint({ linkName: b, addresses: ['10.99.0.1/30', 'fd00:99::1/64'] }));
  assert.deepEqual([router.gateway4, router.gateway6], [undefined, undefined]);
  const only6 = net(config, { subnets: [{ subnet: 'fd00:99::/64', gateway: 'fd00:99::1' }] });
  assert.deepEqual(d.planEndpoint(only6, endpoint({ linkName: a, addresses: ['fd00:99::2/64'] })).gateway6, 'fd00:99::1');
  assert.equal(d.caps.reservesGateway, false);
  assert.equal(d.caps.maxEndpoints, 2);
  assert.throws(() => d.parseConfig(spec({ 'com.docker.network.bridge.name': 'x' })), /unsupported ptp option/);
});
