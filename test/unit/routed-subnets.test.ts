import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routedSubnets } from '../../src/kernel/routed-subnets.js';
import type { RouteInfo } from '../../src/kernel/types.js';

// Which host routes a subnet berth picks must stay clear of: those of the family picked.

const routes: RouteInfo[] = [
  { family: 4, dst: 'default', gateway: '198.51.100.1', dev: 'uplink0', table: 254, protocol: 3 },
  { family: 4, dst: '198.51.100.0/24', dev: 'uplink0', table: 254, protocol: 2 },
  { family: 4, dst: '172.17.0.0/16', dev: 'berth0', table: 254, protocol: 2 },
  { family: 6, dst: 'default', gateway: '2001:db8:100::1', dev: 'uplink0', table: 254, protocol: 3 },
  { family: 6, dst: '2001:db8:100::/64', dev: 'uplink0', table: 254, protocol: 2 },
  { family: 6, dst: 'fd12:3456:789a:1::/64', dev: 'berth0', table: 254, protocol: 2 },
];

test('only the routes of the families asked for, never a default route', () => {
  assert.deepEqual(routedSubnets(routes, [4]), ['198.51.100.0/24', '172.17.0.0/16']);
  assert.deepEqual(routedSubnets(routes, [6]), ['2001:db8:100::/64', 'fd12:3456:789a:1::/64']);
  assert.deepEqual(routedSubnets(routes, [4, 6]).length, 4);
  assert.deepEqual(routedSubnets(routes, []), []);
});

test('the routes through the bridge being re-made are not in its way', () => {
  assert.deepEqual(routedSubnets(routes, [4], 'berth0'), ['198.51.100.0/24']);
  assert.deepEqual(routedSubnets(routes, [6], 'berth0'), ['2001:db8:100::/64']);
});
