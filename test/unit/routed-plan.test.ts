import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DriverNetwork, EndpointView, NetworkSpec } from '../../src/driverapi/contract.js';
import type { DriverContext } from '../../src/driverapi/registry.js';
import { BridgeDriver } from '../../src/drivers/bridge/driver.js';
import { parseBridgeConfig, ROUTED_LINK, type BridgeConfig } from '../../src/drivers/bridge/config.js';
import { defaultConfig } from '../../src/engine/config.js';

// The bridge driver's routed mode, its pure half: options and interface plans (no kernel
// call). Its kernel half is proven in test/integration/routed.test.ts and ports.test.ts.

const ID = 'ab12cd34ef56ab12cd34ef56ab12cd34';
const spec = (options: Record<string, string>, over: Partial<NetworkSpec> = {}): NetworkSpec => ({ id: ID, name: 'flat', internal: false, builtin: false, options, ...over });
const driver = new BridgeDriver({} as DriverContext);

function net(config: BridgeConfig, over: Partial<DriverNetwork<BridgeConfig>> = {}): DriverNetwork<BridgeConfig> {
  return {
    id: ID, name: 'flat', internal: false, builtin: false, config,
    subnets: [{ subnet: '172.30.0.0/16', gateway: '172.30.0.1' }, { subnet: 'fd00:30::/64', gateway: 'fd00:30::1' }],
    ...over,
  };
}

const endpoint = (over: Partial<EndpointView> = {}): EndpointView => ({
  id: 'e1', containerId: 'c1', ifName: 'eth0', addresses: ['172.30.0.9/16', 'fd00:30::9/64'], mac: '02:42:ac:1e:00:09',
  linkName: 'rtab12cd0123456', linkLocal: [], driverOpts: {}, publishes: true, prepared: false, ...over,
});

test('routed mode: -o berth.network.mode=routed gives a network without a bridge whose host ends share a prefix', () => {
  const cfg = parseBridgeConfig(spec({ 'berth.network.mode': 'routed' }), defaultConfig());
  assert.equal(cfg.bridgeName, '');
  assert.deepEqual(cfg.routed, { hostPrefix: 'rtab12cd' });
  assert.equal(parseBridgeConfig(spec({ 'berth.network.mode': 'bridge' }), defaultConfig()).routed, undefined);
  const name = driver.linkName(net(cfg), () => false);
  assert.match(name, ROUTED_LINK);
  assert.ok(name.startsWith('rtab12cd') && name.length === 15, name);
  let asked = 0;
  const again = driver.linkName(net(cfg), (n) => ++asked === 1 || n === name);
  assert.ok(asked >= 2 && again !== name, 'a name another endpoint has is never given');
  assert.deepEqual(driver.describe(net(cfg)), { routedPrefix: 'rtab12cd' });
  assert.equal(driver.endpointLimit(net(cfg)), undefined, 'no port limit');
  const bridged = parseBridgeConfig(spec({}), defaultConfig());
  assert.deepEqual(driver.endpointLimit(net(bridged)), { max: 1023, hint: 'a routed network has no such limit: -o berth.network.mode=routed' });
});

test('routed mode: bad options are one clear error each', () => {
  const bad: [NetworkSpec, RegExp][] = [
    [spec({ 'berth.network.mode': 'flat' }), /^invalid value for berth\.network\.mode: "flat" \(expected bridge or routed\)$/],
    [spec({ 'berth.network.mode': 'routed', 'com.docker.network.bridge.name': 'br9' }), /^a routed network has no bridge: com\.docker\.network\.bridge\.name does not apply$/],
    [spec({ 'berth.network.mode': 'routed' }, { builtin: true }), /^the default bridge network cannot be routed$/],
    [spec({ 'berth.network.mdoe': 'routed' }), /^unsupported bridge option berth\.network\.mdoe$/],
  ];
  for (const [s, re] of bad) assert.throws(() => parseBridgeConfig(s, defaultConfig()), { message: re });
});

test('routed mode plan: the host end holds the gateways and a host route per address; the sandbox reaches its subnet through the gateway', () => {
  const cfg = parseBridgeConfig(spec({ 'berth.network.mode': 'routed' }), defaultConfig());
  const plan = driver.planEndpoint(net(cfg), endpoint());
  assert.deepEqual(plan.link, { kind: 'routed-veth', hostName: 'rtab12cd0123456', gateways: ['172.30.0.1/32', 'fd00:30::1/128'], routes: ['172.30.0.9/32', 'fd00:30::9/128'] });
  assert.deepEqual(plan.addresses, ['172.30.0.9/16', 'fd00:30::9/64']);
  assert.equal(plan.noPrefixRoute, true);
  assert.deepEqual(plan.routes, [
    { dst: '172.30.0.1/32' }, { dst: '172.30.0.0/16', via: '172.30.0.1' },
    { dst: 'fd00:30::1/128' }, { dst: 'fd00:30::/64', via: 'fd00:30::1' },
  ]);
  assert.deepEqual([plan.gateway4, plan.gateway6], ['172.30.0.1', 'fd00:30::1']);
  // --internal: its subnet still through the host end, no default route
  const internal = driver.planEndpoint(net(cfg, { internal: true }), endpoint());
  assert.deepEqual([internal.gateway4, internal.gateway6], [undefined, undefined]);
  assert.equal(internal.routes?.length, 4);
  // IPv4 only
  const v4 = driver.planEndpoint(net(cfg, { subnets: [{ subnet: '172.30.0.0/16', gateway: '172.30.0.1' }] }), endpoint({ addresses: ['172.30.0.9/16'] }));
  assert.deepEqual(v4.link, { kind: 'routed-veth', hostName: 'rtab12cd0123456', gateways: ['172.30.0.1/32'], routes: ['172.30.0.9/32'] });
});
