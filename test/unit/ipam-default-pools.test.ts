import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DOCKER_DEFAULT_POOLS, expandPools, findFreeDefaultPool, parseDefaultAddressPool,
} from '../../src/ipam/default-pools.js';
import { chooseDefaultBridgeSubnet } from '../../src/ipam/choose-subnet.js';
import { defaultBridgePool, fixedCidrSubPool } from '../../src/ipam/fixed-cidr.js';
import { ConflictError, InvalidParameterError } from '../../src/util/errors.js';

test('Docker default pools are 172.17-31 as /16s then 192.168/16 as /20s, 31 in all', () => {
  const all = [...expandPools(DOCKER_DEFAULT_POOLS)];
  assert.equal(all.length, 31);
  assert.equal(all[0], '172.17.0.0/16');
  assert.equal(all[14], '172.31.0.0/16');
  assert.equal(all[15], '192.168.0.0/20');
  assert.equal(all[30], '192.168.240.0/20');
});

test('--default-address-pool values parse and bad ones are refused', () => {
  assert.deepEqual(parseDefaultAddressPool('base=10.10.0.0/16,size=24'), { base: '10.10.0.0/16', size: 24 });
  assert.deepEqual(parseDefaultAddressPool('size=20, base=10.10.0.0/16'), { base: '10.10.0.0/16', size: 20 });
  for (const bad of ['base=10.10.0.0/16', 'size=24', 'base=10.10.0.0/16,size=8', 'base=10.10.0.0/16,size=33',
    'base=nope,size=24', 'garbage']) {
    assert.throws(() => parseDefaultAddressPool(bad), InvalidParameterError, bad);
  }
});

test('a huge default pool behind many obstacles is searched by skipping, not scanning', () => {
  const obstacles = Array.from({ length: 5000 }, (_, i) => ({ cidr: `10.${i >> 8}.${i & 255}.0/24`, what: 'network pool' }));
  assert.equal(findFreeDefaultPool([{ base: '10.0.0.0/8', size: 24 }], obstacles), '10.19.136.0/24');
  assert.equal(findFreeDefaultPool([{ base: '10.0.0.0/8', size: 24 }], [{ cidr: '10.0.0.0/9', what: 'x' }]),
    '10.128.0.0/24');
});

test('the default bridge takes 172.17.0.0/16 when no host route overlaps it', () => {
  assert.deepEqual(chooseDefaultBridgeSubnet(['default', '10.0.2.0/24', '192.168.1.1']),
    { subnet: '172.17.0.0/16', gateway: '172.17.0.1' });
});

test('the default bridge moves to the next free pool when a host route overlaps 172.17/16', () => {
  assert.deepEqual(chooseDefaultBridgeSubnet(['172.17.3.0/24', '172.18.0.0/16']),
    { subnet: '172.19.0.0/16', gateway: '172.19.0.1' });
  assert.deepEqual(chooseDefaultBridgeSubnet(['172.16.0.0/12']),
    { subnet: '192.168.0.0/20', gateway: '192.168.0.1' });
  assert.deepEqual(chooseDefaultBridgeSubnet([], '10.99.0.0/16'), { subnet: '10.99.0.0/16', gateway: '10.99.0.1' });
  assert.throws(() => chooseDefaultBridgeSubnet(['172.16.0.0/12', '192.168.0.0/16']), ConflictError);
});

test('--fixed-cidr becomes the sub-pool of --bip and must be inside it', () => {
  assert.deepEqual(defaultBridgePool('172.17.0.1/16', '172.17.5.7/24'),
    { request: { pool: '172.17.0.0/16', subPool: '172.17.5.0/24' }, gateway: '172.17.0.1' });
  assert.deepEqual(defaultBridgePool('10.20.0.254/24'), { request: { pool: '10.20.0.0/24' }, gateway: '10.20.0.254' });
  assert.throws(() => defaultBridgePool('172.17.0.1/16', '172.18.0.0/24'), InvalidParameterError);
  assert.throws(() => fixedCidrSubPool('172.17.0.0/24', '172.17.0.0/16'), InvalidParameterError);
});
