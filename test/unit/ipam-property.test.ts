import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultIpam } from '../../src/ipam/allocator.js';
import { RangeSet } from '../../src/ipam/range-set.js';
import { ConflictError } from '../../src/util/errors.js';
import { parseCidr, parseIPv4 } from '../../src/util/ip.js';

import { prng as rng } from '../lab/prng.js';

for (const [subnet, subPool] of [['10.0.0.0/28', undefined], ['10.0.0.0/26', '10.0.0.16/28'],
  ['10.0.0.0/30', undefined], ['10.0.0.0/24', undefined]] as const) {
  test(`random allocate/release in ${subnet}${subPool ? ` range ${subPool}` : ''} never duplicates or hands out network/broadcast`, () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(seed);
      const ipam = new DefaultIpam();
      const p = ipam.requestPool({ pool: subnet, subPool });
      const c = parseCidr(subnet);
      const held = new Set<string>();
      for (let step = 0; step < 400; step++) {
        const r = rand();
        if (r < 0.55) {
          try {
            const ip = ipam.requestAddress(p.id);
            assert.ok(!held.has(ip), `seed ${seed}: duplicate ${ip}`);
            const n = parseIPv4(ip);
            assert.ok(n > c.networkNum && n < c.broadcastNum, `seed ${seed}: ${ip} is not a host address`);
            if (subPool) assert.ok(parseIPv4(ip) >= parseCidr(subPool).networkNum && n <= parseCidr(subPool).broadcastNum);
            held.add(ip);
          } catch (err) {
            assert.ok(err instanceof ConflictError, String(err));
          }
        } else if (r < 0.65) {
          const host = c.networkNum + 1 + Math.floor(rand() * (c.broadcastNum - c.networkNum - 1));
          const ip = `${host >>> 24}.${(host >>> 16) & 255}.${(host >>> 8) & 255}.${host & 255}`;
          try {
            ipam.requestAddress(p.id, { address: ip });
            assert.ok(!held.has(ip), `seed ${seed}: explicit duplicate ${ip}`);
            held.add(ip);
          } catch (err) {
            assert.ok(err instanceof ConflictError && held.has(ip), `seed ${seed}: ${String(err)}`);
          }
        } else if (held.size > 0) {
          const ip = [...held][Math.floor(rand() * held.size)];
          ipam.releaseAddress(p.id, ip);
          held.delete(ip);
        }
        assert.equal(ipam.inUse(p.id), held.size);
      }
    }
  });
}

for (const universe of [300, 5000]) {
  test(`the range set agrees with a plain set under random adds and removes over ${universe} values`, () => {
    const rand = rng(universe);
    const rs = new RangeSet();
    const ref = new Set<number>();
    for (let i = 0; i < 60_000; i++) {
      const x = Math.floor(rand() * universe);
      if (rand() < 0.5) { assert.equal(rs.add(x), !ref.has(x)); ref.add(x); }
      else { assert.equal(rs.remove(x), ref.has(x)); ref.delete(x); }
      assert.equal(rs.has(x), ref.has(x));
      if (i % 211 === 0) {
        assert.deepEqual([...rs.values()], [...ref].sort((a, b) => a - b));
        const from = Math.floor(rand() * universe);
        let expect: number | undefined;
        for (let y = from; y < universe; y++) if (!ref.has(y)) { expect = y; break; }
        assert.equal(rs.nextFree(from, universe - 1), expect);
      }
    }
    assert.equal(rs.size, ref.size);
  });
}

test('a fragmented range set refills without losing members', () => {
  const rs = new RangeSet();
  for (let x = 0; x < 20_000; x += 2) rs.add(x);
  assert.equal(rs.runs, 10_000);
  for (let x = 19_999; x > 0; x -= 2) rs.add(x);
  assert.equal(rs.runs, 1);
  assert.equal(rs.size, 20_000);
  assert.equal(rs.nextFree(0, 1e9), 20_000);
});
