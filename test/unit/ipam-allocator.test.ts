import { DOCKER_DEFAULT_POOLS } from '../../src/ipam/default-pools.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultIpam, ERR_POOL_OVERLAP } from '../../src/ipam/allocator.js';
import { ConflictError, InvalidParameterError, NotFoundError } from '../../src/util/errors.js';

const inUse = (err: unknown) => err instanceof ConflictError && err.message === 'Address already in use';
const exhausted = (err: unknown) =>
  err instanceof ConflictError && err.message === 'no available addresses on this pool';

test('the gateway gets .1 and the first container .2, then serially', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: '172.22.0.0/16' });
  assert.equal(p.subnet, '172.22.0.0/16');
  assert.equal(ipam.requestAddress(p.id, { gateway: true }), '172.22.0.1');
  assert.equal(ipam.requestAddress(p.id), '172.22.0.2');
  assert.equal(ipam.requestAddress(p.id), '172.22.0.3');
  assert.equal(ipam.requestAddress(p.id, {}), '172.22.0.4');
});

test('a released address is not handed out again immediately, only after wrap-around', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: '10.9.0.0/29' }); // usable .1–.6
  ipam.requestAddress(p.id, { gateway: true });
  assert.equal(ipam.requestAddress(p.id), '10.9.0.2');
  assert.equal(ipam.requestAddress(p.id), '10.9.0.3');
  ipam.releaseAddress(p.id, '10.9.0.2');
  assert.equal(ipam.requestAddress(p.id), '10.9.0.4');
  assert.equal(ipam.requestAddress(p.id), '10.9.0.5');
  assert.equal(ipam.requestAddress(p.id), '10.9.0.6');
  assert.equal(ipam.requestAddress(p.id), '10.9.0.2'); // wrapped, skipping .0 and .7
  assert.throws(() => ipam.requestAddress(p.id), exhausted);
});

test('a /30 holds a gateway and one container, then is exhausted', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: '10.0.0.0/30' });
  assert.equal(ipam.requestAddress(p.id, { gateway: true }), '10.0.0.1');
  assert.equal(ipam.requestAddress(p.id), '10.0.0.2');
  assert.throws(() => ipam.requestAddress(p.id), exhausted);
  assert.throws(() => ipam.requestAddress(p.id, { gateway: true }), exhausted);
});

test('a /29 gives out exactly six addresses, never network or broadcast', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: '10.0.0.8/29' });
  const got = Array.from({ length: 6 }, () => ipam.requestAddress(p.id));
  assert.deepEqual(got, ['10.0.0.9', '10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14']);
  assert.throws(() => ipam.requestAddress(p.id), exhausted);
});

test('network and broadcast addresses cannot be requested explicitly', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: '10.0.0.0/24' });
  assert.throws(() => ipam.requestAddress(p.id, { address: '10.0.0.0' }), InvalidParameterError);
  assert.throws(() => ipam.requestAddress(p.id, { address: '10.0.0.255' }), InvalidParameterError);
});

test('dynamic addresses stay inside the ip-range, explicit ones may be anywhere in the subnet', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: '172.28.0.0/16', subPool: '172.28.5.0/30' });
  assert.equal(p.subPool, '172.28.5.0/30');
  assert.equal(ipam.requestAddress(p.id, { gateway: true }), '172.28.0.1'); // pool, not sub-pool
  // the sub-pool's own first and last are ordinary hosts of the /16, as in Docker
  assert.deepEqual([0, 1, 2, 3].map(() => ipam.requestAddress(p.id)),
    ['172.28.5.0', '172.28.5.1', '172.28.5.2', '172.28.5.3']);
  assert.throws(() => ipam.requestAddress(p.id), exhausted);
  assert.equal(ipam.requestAddress(p.id, { address: '172.28.9.9' }), '172.28.9.9');
});

test('an ip-range outside the subnet, with host bits, or without a subnet is refused', () => {
  const ipam = new DefaultIpam();
  assert.throws(() => ipam.requestPool({ pool: '172.28.0.0/16', subPool: '172.29.5.0/24' }), InvalidParameterError);
  assert.throws(() => ipam.requestPool({ pool: '172.28.0.0/24', subPool: '172.28.0.0/16' }), InvalidParameterError);
  assert.throws(() => ipam.requestPool({ pool: '172.28.0.0/16', subPool: '172.28.5.1/24' }),
    (err: unknown) => err instanceof InvalidParameterError
      && err.message === 'invalid ip-range 172.28.5.1/24: it should be 172.28.5.0/24');
  assert.throws(() => ipam.requestPool({ subPool: '172.28.5.0/24' }), InvalidParameterError);
  assert.equal(ipam.listPools().length, 0); // nothing half-reserved
});

test('an explicit address outside the subnet is invalid, a taken one conflicts', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: '172.22.0.0/24' });
  assert.throws(() => ipam.requestAddress(p.id, { address: '172.23.0.5' }), InvalidParameterError);
  assert.throws(() => ipam.requestAddress(p.id, { address: '172.22.0.300' }),
    (err: unknown) => err instanceof InvalidParameterError && err.message === 'invalid IP address: 172.22.0.300');
  assert.equal(ipam.requestAddress(p.id, { address: '172.22.0.10' }), '172.22.0.10');
  assert.throws(() => ipam.requestAddress(p.id, { address: '172.22.0.10' }), inUse);
  assert.equal(ipam.isAllocated(p.id, '172.22.0.10'), true);
});

test('serial allocation skips addresses taken explicitly', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: '172.22.0.0/24' });
  ipam.requestAddress(p.id, { gateway: true });
  ipam.requestAddress(p.id, { address: '172.22.0.2' });
  ipam.requestAddress(p.id, { address: '172.22.0.3' });
  assert.equal(ipam.requestAddress(p.id), '172.22.0.4');
});

test('an explicit gateway address is honoured and a taken first address is skipped for the gateway', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: '172.22.0.0/24' });
  assert.equal(ipam.requestAddress(p.id, { address: '172.22.0.254', gateway: true }), '172.22.0.254');
  assert.equal(ipam.requestAddress(p.id), '172.22.0.1');
  const q = ipam.requestPool({ pool: '172.23.0.0/24' });
  ipam.requestAddress(q.id, { address: '172.23.0.1' });
  assert.equal(ipam.requestAddress(q.id, { gateway: true }), '172.23.0.2');
});

test('a subnet given with host bits set is refused with the canonical form', () => {
  const ipam = new DefaultIpam();
  assert.throws(() => ipam.requestPool({ pool: '172.22.0.1/24' }), (err: unknown) =>
    err instanceof InvalidParameterError && err.message === 'invalid subnet 172.22.0.1/24: it should be 172.22.0.0/24');
  assert.throws(() => ipam.requestPool({ pool: '172.22.0.0/33' }), (err: unknown) =>
    err instanceof InvalidParameterError && err.message === 'invalid CIDR address: 172.22.0.0/33');
});

test('overlapping pools conflict, adjacent ones do not', () => {
  const ipam = new DefaultIpam();
  ipam.requestPool({ pool: '10.1.0.0/16' });
  const overlap = (err: unknown) => err instanceof ConflictError && err.message === ERR_POOL_OVERLAP;
  assert.throws(() => ipam.requestPool({ pool: '10.1.2.0/24' }), overlap);
  assert.throws(() => ipam.requestPool({ pool: '10.0.0.0/8' }), overlap);
  assert.throws(() => ipam.requestPool({ pool: '10.1.0.0/16' }), overlap);
  assert.doesNotThrow(() => ipam.requestPool({ pool: '10.2.0.0/16' }));
  assert.doesNotThrow(() => ipam.requestPool({ pool: '10.0.255.0/24' }));
});

test('pool ids are stable for the same subnet and sub-pool', () => {
  const a = new DefaultIpam().requestPool({ pool: '172.22.0.0/16', subPool: '172.22.1.0/24' });
  const b = new DefaultIpam().requestPool({ pool: '172.22.0.0/16', subPool: '172.22.1.0/24' });
  const c = new DefaultIpam().requestPool({ pool: '172.22.0.0/16' });
  assert.equal(a.id, b.id);
  assert.notEqual(a.id, c.id);
});

test('releases are idempotent and unknown pools or addresses are ignored', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: '172.22.0.0/24' });
  const ip = ipam.requestAddress(p.id);
  ipam.releaseAddress(p.id, ip);
  ipam.releaseAddress(p.id, ip);
  ipam.releaseAddress(p.id, '172.22.0.77');
  ipam.releaseAddress('LocalDefault/1.2.3.0/24', '1.2.3.4');
  ipam.releasePool(p.id);
  ipam.releasePool(p.id);
  assert.throws(() => ipam.requestAddress(p.id), NotFoundError);
  // the subnet is free again
  assert.equal(ipam.requestPool({ pool: '172.22.0.0/24' }).id, p.id);
});

test('empty pool requests take the default pools in order', () => {
  const ipam = new DefaultIpam();
  assert.equal(ipam.requestPool({}).subnet, '172.17.0.0/16');
  assert.equal(ipam.requestPool({}).subnet, '172.18.0.0/16');
  ipam.requestPool({ pool: '172.19.128.0/24' });
  assert.equal(ipam.requestPool({}).subnet, '172.20.0.0/16');
});

test('default pool choice skips excluded routes and reserved pools', () => {
  const ipam = new DefaultIpam();
  ipam.requestPool({ pool: '172.17.0.0/16' });
  const p = ipam.requestPool({ exclude: ['172.18.5.0/24', '172.16.0.0/15', 'default', 'fe80::/64'] });
  assert.equal(p.subnet, '172.19.0.0/16');
  const q = ipam.requestPool({ exclude: ['172.16.0.0/12'] });
  assert.equal(q.subnet, '192.168.0.0/20');
  const r = ipam.requestPool({ exclude: ['172.16.0.0/12', '192.168.0.0/19'] });
  assert.equal(r.subnet, '192.168.32.0/20');
});

test('berth\'s default pools give Docker\'s 31 first, then 2,048 /20s from 10.128.0.0/9', () => {
  const ipam = new DefaultIpam();
  const subnets = Array.from({ length: 250 }, () => ipam.requestPool({}).subnet);
  assert.equal(subnets[0], '172.17.0.0/16');
  assert.equal(subnets[30], '192.168.240.0/20');
  assert.equal(subnets[31], '10.128.0.0/20');
  assert.equal(subnets[249], '10.141.160.0/20');
});

test('running out of default pools says so and names what is in the way', () => {
  const ipam = new DefaultIpam({ defaultPools: DOCKER_DEFAULT_POOLS });
  for (let i = 0; i < 31; i++) ipam.requestPool({});
  assert.equal(ipam.listPools().length, 31);
  assert.equal(ipam.listPools()[30].subnet, '192.168.240.0/20');
  assert.throws(() => ipam.requestPool({}), (err: unknown) => err instanceof ConflictError
    && err.message.startsWith('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network')
    && err.message.includes('172.17.0.0/16 (network pool)'));
  const fresh = new DefaultIpam({ defaultPools: DOCKER_DEFAULT_POOLS });
  assert.throws(() => fresh.requestPool({ exclude: ['172.16.0.0/12', '192.168.0.0/16'] }),
    (err: unknown) => err instanceof ConflictError
      && err.message.includes('172.16.0.0/12 (excluded)') && err.message.includes('192.168.0.0/16 (excluded)'));
});

test('configured default pools replace Docker defaults', () => {
  const ipam = new DefaultIpam({ defaultPools: [{ base: '10.10.0.0/16', size: 24 }] });
  assert.equal(ipam.requestPool({}).subnet, '10.10.0.0/24');
  assert.equal(ipam.requestPool({}).subnet, '10.10.1.0/24');
  assert.throws(() => new DefaultIpam({ defaultPools: [{ base: '10.10.0.0/16', size: 8 }] }), InvalidParameterError);
});

test('replaying stored pools and addresses into a new allocator restores the same state', () => {
  const before = new DefaultIpam();
  const p = before.requestPool({ pool: '172.30.0.0/24', subPool: '172.30.0.0/25' });
  const gw = before.requestAddress(p.id, { gateway: true });
  const stored = Array.from({ length: 10 }, () => before.requestAddress(p.id));
  before.releaseAddress(p.id, stored[5]);
  before.releaseAddress(p.id, stored[3]);
  const kept = stored.filter((_, i) => i !== 5 && i !== 3);
  const next = before.requestAddress(p.id);

  const after = new DefaultIpam(); // "restart": replay in store order (shuffled)
  const q = after.requestPool({ pool: p.subnet, subPool: p.subPool });
  assert.equal(q.id, p.id);
  for (const ip of [...kept].reverse().concat(gw)) after.requestAddress(q.id, { address: ip });
  for (const ip of [gw, ...kept]) assert.equal(after.isAllocated(q.id, ip), true);
  assert.equal(after.inUse(q.id), kept.length + 1);
  // allocation resumes after the highest stored address: freed .5 and .7 are not reused first
  assert.equal(after.requestAddress(q.id), next);
  assert.throws(() => after.requestAddress(q.id, { address: gw }), inUse);
});

test('after replay, later explicit addresses do not move the serial cursor', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: '10.5.0.0/24' });
  ipam.requestAddress(p.id, { address: '10.5.0.1' });
  assert.equal(ipam.requestAddress(p.id), '10.5.0.2');
  ipam.requestAddress(p.id, { address: '10.5.0.200' });
  assert.equal(ipam.requestAddress(p.id), '10.5.0.3');
});

test('a /8 holds 100k allocations without a bitmap', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: '10.0.0.0/8' });
  let last = '';
  for (let i = 0; i < 100_000; i++) last = ipam.requestAddress(p.id);
  assert.equal(last, '10.1.134.160'); // 10.0.0.0 + 100000
  assert.equal(ipam.inUse(p.id), 100_000);
});
