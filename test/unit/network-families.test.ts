import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitFamilies } from '../../src/engine/networks.js';
import { checkUsableSubnet } from '../../src/ipam/special-subnets.js';
import { InvalidParameterError } from '../../src/util/errors.js';

// A create request's IPAM.Config split by family (dockerd's order: IPv4, then IPv6), and
// the IPv6 blocks no container network may use.

const fams = (r: Parameters<typeof splitFamilies>[0]) => splitFamilies(r).map((f) => `${f.family}:${f.cfg?.subnet ?? 'default'}`);

test('each enabled family gets its config or the default pool, IPv4 first whatever the order given', () => {
  assert.deepEqual(fams({ name: 'n' }), ['4:default']);
  assert.deepEqual(fams({ name: 'n', enableIPv6: true }), ['4:default', '6:default']);
  assert.deepEqual(fams({ name: 'n', enableIPv6: true, ipamConfig: [{ subnet: 'fd00::/64' }, { subnet: '10.1.0.0/16' }] }), ['4:10.1.0.0/16', '6:fd00::/64']);
  assert.deepEqual(fams({ name: 'n', enableIPv6: true, ipamConfig: [{ subnet: 'fd00::/64' }] }), ['4:default', '6:fd00::/64']);
  assert.deepEqual(fams({ name: 'n', enableIPv6: true, enableIPv4: false }), ['6:default']);
});

test('a family given twice, a subnet of a disabled family, and no family at all are refused', () => {
  const bad = (r: Parameters<typeof splitFamilies>[0], m: RegExp) => assert.throws(() => splitFamilies(r), (e: unknown) => e instanceof InvalidParameterError && m.test(e.message));
  bad({ name: 'n', enableIPv6: true, ipamConfig: [{ subnet: 'fd00::/64' }, { subnet: 'fd01::/64' }] }, /one IPv6 subnet per network/);
  bad({ name: 'n', ipamConfig: [{ subnet: '10.0.0.0/8' }, { subnet: '11.0.0.0/8' }] }, /one IPv4 subnet per network/);
  bad({ name: 'n', ipamConfig: [{ subnet: 'fd00::/64' }] }, /an IPv6 subnet needs IPv6 enabled/);
  bad({ name: 'n', enableIPv6: true, enableIPv4: false, ipamConfig: [{ subnet: '10.0.0.0/8' }] }, /IPv4 is disabled on this network/);
  bad({ name: 'n', enableIPv4: false }, /^IPv4 or IPv6 must be enabled$/);
});

test('special IPv6 blocks and /128s are refused; ULA, global and small subnets are fine', () => {
  for (const [s, m] of [['::1/128', /single address/], ['::/64', /unspecified/], ['fe80::/64', /link-local/], ['febf::/64', /link-local/],
    ['ff02::/64', /multicast/], ['::ffff:0:0/104', /IPv4-mapped/], ['::/0', /overlaps/], ['fd00::1/128', /single address/]] as const) {
    assert.throws(() => checkUsableSubnet(s), m, s);
  }
  for (const s of ['fd00::/64', '2001:db8::/32', 'fd00:1::/120', 'fec0::/64', '2001:db8::/127']) checkUsableSubnet(s);
});
