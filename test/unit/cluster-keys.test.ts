import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextFree, poolBounds } from '../../src/cluster/addresses.js';
import { hostIdentity } from '../../src/cluster/host-identity.js';
import { keys, lastSegment, segments } from '../../src/cluster/keys.js';
import { prefixEnd } from '../../src/cluster/store.js';
import { formatIPv4, parseIPv4 } from '../../src/util/ip.js';

// The cluster store's pure parts: the key layout, the address allocator's arithmetic, the
// host id kept in the data-root.

test('every key is under /berth/v1/, one kind per folder, segments percent-encoded', () => {
  assert.equal(keys.host('ab12'), '/berth/v1/hosts/ab12');
  assert.equal(keys.network('n1'), '/berth/v1/networks/n1');
  assert.equal(keys.name('web/front'), '/berth/v1/names/web%2Ffront', 'a name with a slash stays one segment');
  assert.equal(keys.vni(4097), '/berth/v1/vnis/4097');
  assert.equal(keys.address('n1', '10.0.9.2'), '/berth/v1/addresses/n1/10.0.9.2');
  assert.ok(keys.address('n1', '10.0.9.2').startsWith(keys.addresses('n1')));
  assert.equal(keys.endpoint('n1', 'e1'), '/berth/v1/endpoints/n1/e1');
  assert.ok(keys.endpoint('n1', 'e1').startsWith(keys.endpoints('n1')) && keys.endpoints('n1').startsWith(keys.allEndpoints));
  assert.equal(lastSegment(keys.name('web/front')), 'web/front');
  assert.deepEqual(segments(keys.endpoint('n 1', 'e1')), ['endpoints', 'n 1', 'e1']);
  assert.throws(() => segments('/docker/network/v1.0/x'), /not a berth cluster key/);
  assert.ok(!keys.address('n10', '10.0.0.2').startsWith(keys.addresses('n1')), "one network's prefix does not cover another's");
});

test("a prefix's range end is the prefix with its last byte raised", () => {
  assert.equal(prefixEnd('/berth/v1/hosts/').toString(), '/berth/v1/hosts0');
  assert.equal(prefixEnd('ab').toString(), 'ac');
});

test('an address pool hands out the usable addresses of its subnet, within --ip-range', () => {
  assert.deepEqual(poolBounds({ subnet: '10.0.9.0/24' }), { first: 0x0a000901, last: 0x0a0009fe });
  const r = poolBounds({ subnet: '10.0.9.0/24', range: '10.0.9.128/25' });
  assert.equal(formatIPv4(r.first), '10.0.9.128');
  assert.equal(formatIPv4(r.last), '10.0.9.254', 'never the broadcast address, even inside the range');
  assert.throws(() => poolBounds({ subnet: '10.0.9.0/24', range: '10.1.0.0/24' }), /ip-range 10\.1\.0\.0\/24 is not inside subnet 10\.0\.9\.0\/24/);
  assert.throws(() => poolBounds({ subnet: 'fd00::/64' }), /cluster addresses are IPv4/);
});

test('the next address after the cursor that is not taken comes first, wrapping around; none when all are', () => {
  const bounds = poolBounds({ subnet: '10.0.9.0/29' }); // .1 to .6
  const at = (ip: string) => parseIPv4(ip);
  const taken = new Set(['10.0.9.1', '10.0.9.2', '10.0.9.4']);
  assert.equal(nextFree(bounds, undefined, (ip) => taken.has(ip)), '10.0.9.3', 'no cursor: the lowest free');
  assert.equal(nextFree(bounds, at('10.0.9.3'), (ip) => taken.has(ip)), '10.0.9.5', 'after the cursor, not the lowest free');
  assert.equal(nextFree(bounds, at('10.0.9.5'), (ip) => taken.has(ip)), '10.0.9.6');
  assert.equal(nextFree(bounds, at('10.0.9.6'), (ip) => taken.has(ip)), '10.0.9.3', 'wraps around at the end');
  assert.equal(nextFree(bounds, at('10.1.0.9'), (ip) => taken.has(ip)), '10.0.9.3', 'a cursor outside the pool (another range): from the first');
  for (const ip of ['10.0.9.3', '10.0.9.5', '10.0.9.6']) taken.add(ip);
  assert.equal(nextFree(bounds, at('10.0.9.2'), (ip) => taken.has(ip)), undefined);
});

test('the host id is made once and kept, never the hostname', () => {
  const meta = new Map<string, string>();
  const store = { getMeta: (k: string) => meta.get(k), setMeta: (k: string, v: string) => void meta.set(k, v) };
  const id = hostIdentity(store);
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(hostIdentity(store), id);
  assert.notEqual(hostIdentity({ getMeta: () => undefined, setMeta: () => undefined }), id);
});
