import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultIpam } from '../../src/ipam/allocator.js';
import { parseDefaultAddressPool } from '../../src/ipam/default-pools.js';
import { findFreeDefaultPool6, ulaPrefix48 } from '../../src/ipam/default-pools6.js';
import { RangeSet6 } from '../../src/ipam/range-set6.js';
import { ConflictError, InvalidParameterError } from '../../src/util/errors.js';
import { formatIPv6, parseCidr6, parseIPv6 } from '../../src/util/ip6.js';
import { prng } from '../lab/prng.js';

test('an IPv6 pool hands out the gateway first, then serial addresses; a /64 costs one run', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: 'fd00:1::/64' });
  assert.equal(p.subnet, 'fd00:1::/64');
  assert.equal(ipam.requestAddress(p.id, { gateway: true }), 'fd00:1::1');
  assert.equal(ipam.requestAddress(p.id), 'fd00:1::2');
  assert.equal(ipam.requestAddress(p.id), 'fd00:1::3');
  ipam.releaseAddress(p.id, 'fd00:1::2');
  assert.equal(ipam.requestAddress(p.id), 'fd00:1::4', 'serial: a freed address is not reused at once');
  assert.equal(ipam.requestAddress(p.id, { address: 'FD00:1::ffff:ffff:ffff:ffff' }), 'fd00:1::ffff:ffff:ffff:ffff', 'no broadcast in IPv6');
  assert.throws(() => ipam.requestAddress(p.id, { address: 'fd00:1::3' }), ConflictError);
  assert.throws(() => ipam.requestAddress(p.id, { address: 'fd00:1::' }), /subnet-router anycast/);
  assert.throws(() => ipam.requestAddress(p.id, { address: 'fd00:2::1' }), /does not belong to the subnet fd00:1::\/64/);
  assert.equal(ipam.inUse(p.id), 4);
});

test('IPv6 sub-pools: dynamic addresses stay in the ip-range, the gateway is the subnet\'s first', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: 'fd00::/64', subPool: 'fd00::8:0/112' });
  assert.equal(p.subPool, 'fd00::8:0/112');
  assert.equal(ipam.requestAddress(p.id, { gateway: true }), 'fd00::1');
  assert.equal(ipam.requestAddress(p.id), 'fd00::8:0');
  assert.throws(() => ipam.requestPool({ pool: 'fd01::/64', subPool: 'fd02::/80' }), /not inside the subnet fd01::\/64/);
  assert.throws(() => ipam.requestPool({ pool: 'fd01::/64', subPool: 'fd01::1/80' }), /it should be fd01::\/80/);
  assert.throws(() => ipam.requestPool({ v6: true, subPool: 'fd01::/80' }), /requires an explicit subnet/);
});

test('a tiny IPv6 subnet runs out; a /127 uses both addresses', () => {
  const ipam = new DefaultIpam();
  const p = ipam.requestPool({ pool: 'fd00::/126' });
  assert.deepEqual([1, 2, 3].map(() => ipam.requestAddress(p.id)), ['fd00::1', 'fd00::2', 'fd00::3']);
  assert.throws(() => ipam.requestAddress(p.id), ConflictError);
  const q = ipam.requestPool({ pool: 'fd00:9::/127' });
  assert.deepEqual([ipam.requestAddress(q.id), ipam.requestAddress(q.id)], ['fd00:9::', 'fd00:9::1']);
});

test('IPv6 pools overlap only IPv6 pools; host bits are refused as Docker does', () => {
  const ipam = new DefaultIpam();
  ipam.requestPool({ pool: 'fd00::/48' });
  assert.throws(() => ipam.requestPool({ pool: 'fd00:0:0:7::/64' }), (e: unknown) => e instanceof ConflictError && /overlaps/.test(e.message));
  assert.throws(() => ipam.requestPool({ pool: 'fd01::1/64' }), (e: unknown) => e instanceof InvalidParameterError && e.message === 'invalid subnet fd01::1/64: it should be fd01::/64');
  ipam.requestPool({ pool: '10.0.0.0/8' });
  assert.equal(ipam.listPools().length, 2);
});

test('default IPv6 pools: distinct /64s of the engine\'s ULA /48, clear of excluded routes, stable for one seed', () => {
  const ipam = new DefaultIpam({ ulaSeed: () => 'engine-a' });
  const ula = ulaPrefix48('engine-a');
  assert.equal(ula, ulaPrefix48('engine-a'));
  assert.notEqual(ula, ulaPrefix48('engine-b'));
  assert.match(ula, /^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/48$/);
  const base = parseCidr6(ula).networkNum;
  const a = ipam.requestPool({ v6: true });
  const routeOver2nd = `${formatIPv6(base + (1n << 64n))}/64`;
  const b = ipam.requestPool({ v6: true, exclude: [routeOver2nd, '10.0.0.0/8', 'default'] });
  assert.equal(a.subnet, `${formatIPv6(base)}/64`);
  assert.equal(b.subnet, `${formatIPv6(base + (2n << 64n))}/64`, 'the excluded /64 is skipped');
  ipam.releasePool(a.id);
  assert.equal(ipam.requestPool({ v6: true }).subnet, a.subnet, 'a released /64 is free again');
  // IPv4 defaults are untouched by IPv6 pools
  assert.equal(ipam.requestPool({}).subnet, '172.17.0.0/16');
});

test('--default-address-pool takes an IPv6 base; it replaces only the IPv6 defaults', () => {
  const spec = parseDefaultAddressPool('base=FD12:3456:789a::/48,size=64');
  assert.deepEqual(spec, { base: 'fd12:3456:789a::/48', size: 64 });
  assert.throws(() => parseDefaultAddressPool('base=fd00::/48,size=40'), /size 40 must be between 48 and 128/);
  assert.throws(() => parseDefaultAddressPool('base=fd00::/48,size=129'), /must be between 48 and 128/);
  assert.throws(() => parseDefaultAddressPool('base=fd00::zz/48,size=64'), /invalid CIDR address/);
  const ipam = new DefaultIpam({ defaultPools: [spec] });
  assert.equal(ipam.requestPool({ v6: true }).subnet, 'fd12:3456:789a::/64');
  assert.equal(ipam.requestPool({ v6: true }).subnet, 'fd12:3456:789a:1::/64');
  assert.equal(ipam.requestPool({}).subnet, '172.17.0.0/16');
  const small = new DefaultIpam({ defaultPools: [parseDefaultAddressPool('base=fd00::/63,size=64')] });
  small.requestPool({ v6: true });
  small.requestPool({ v6: true });
  assert.throws(() => small.requestPool({ v6: true }), (e: unknown) => e instanceof ConflictError && /non-overlapping IPv6 address pool.*in the way: fd00::\/64 \(network pool\)/.test(e.message));
});

test('the default-pool search jumps past a big obstacle instead of walking /64s', () => {
  // a /33 route covers 2^31 /64s of fd00::/32: found in one step
  const got = findFreeDefaultPool6([{ base: 'fd00::/32', size: 64 }], [{ cidr: 'fd00::/33', what: 'host route' }]);
  assert.equal(got, 'fd00:0:8000::/64');
});

test('property: RangeSet6 agrees with a Set on random add/remove/nextFree near 2^64', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const rand = prng(seed);
    const set = new RangeSet6();
    const model = new Set<bigint>();
    const base = (1n << 64n) - 40n;
    for (let step = 0; step < 600; step++) {
      const x = base + BigInt(Math.floor(rand() * 80));
      const r = rand();
      if (r < 0.5) assert.equal(set.add(x), !model.has(x) && (model.add(x), true));
      else if (r < 0.8) assert.equal(set.remove(x), model.delete(x));
      else {
        const to = x + BigInt(Math.floor(rand() * 10));
        let want: bigint | undefined;
        for (let y = x; y <= to; y++) if (!model.has(y)) { want = y; break; }
        assert.equal(set.nextFree(x, to), want);
      }
      assert.equal(set.size, model.size);
    }
    assert.deepEqual([...set.values()], [...model].sort((a, b) => (a < b ? -1 : 1)));
  }
});

test('property: random allocate/release in an IPv6 range never duplicates and stays in the sub-pool', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const rand = prng(seed);
    const ipam = new DefaultIpam();
    const p = ipam.requestPool({ pool: 'fd00::/64', subPool: 'fd00::ff00/120' });
    const range = parseCidr6('fd00::ff00/120');
    const held = new Set<string>();
    for (let step = 0; step < 500; step++) {
      if (rand() < 0.6) {
        try {
          const ip = ipam.requestAddress(p.id);
          assert.ok(!held.has(ip), `duplicate ${ip}`);
          const n = parseIPv6(ip);
          assert.ok(n >= range.networkNum && n <= range.lastNum, `${ip} outside the range`);
          held.add(ip);
        } catch (err) {
          assert.ok(err instanceof ConflictError && held.size === 256, String(err));
        }
      } else if (held.size) {
        const ip = [...held][Math.floor(rand() * held.size)];
        ipam.releaseAddress(p.id, ip);
        held.delete(ip);
      }
      assert.equal(ipam.inUse(p.id), held.size);
    }
  }
});

test('an explicit gateway does not move the serial cursor (either family): the first container gets the first free address, as in Docker', () => {
  const ipam = new DefaultIpam();
  const p4 = ipam.requestPool({ pool: '172.24.0.0/16' });
  assert.equal(ipam.requestAddress(p4.id, { address: '172.24.0.254', gateway: true }), '172.24.0.254');
  assert.equal(ipam.requestAddress(p4.id), '172.24.0.1');
  const r4 = ipam.requestPool({ pool: '172.28.0.0/16', subPool: '172.28.5.0/24' });
  ipam.requestAddress(r4.id, { address: '172.28.5.254', gateway: true });
  assert.equal(ipam.requestAddress(r4.id), '172.28.5.0');
  const p6 = ipam.requestPool({ pool: 'fd00:24::/64' });
  ipam.requestAddress(p6.id, { address: 'fd00:24::fe', gateway: true });
  assert.equal(ipam.requestAddress(p6.id), 'fd00:24::1');
  // replayed endpoint addresses still push it (a restart resumes after them)
  ipam.requestAddress(p6.id, { address: 'fd00:24::40' });
  const q6 = ipam.requestPool({ pool: 'fd00:25::/64' });
  ipam.requestAddress(q6.id, { address: 'fd00:25::1', gateway: true });
  ipam.requestAddress(q6.id, { address: 'fd00:25::40' });
  assert.equal(ipam.requestAddress(q6.id), 'fd00:25::41');
});
