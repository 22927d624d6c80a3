import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameTable, reverseToIp, type Client } from '../../src/dns/names.js';
import { ip6ArpaToHex, ipv6FromHex, ipv6Hex } from '../../src/dns/ip6.js';

function table(): NameTable {
  const t = new NameTable();
  t.set({ networkId: 'n1', containerId: 'c1', ip: '10.1.0.2', names: ['vm1', 'abc123', 'Web'] });
  t.set({ networkId: 'n1', containerId: 'c2', ip: '10.1.0.3', names: ['vm2', 'web'] });
  t.set({ networkId: 'n1', containerId: 'c3', ip: '10.1.0.4', names: ['vm3', 'web'] });
  t.set({ networkId: 'n2', containerId: 'c4', ip: '10.2.0.2', names: ['other'], searchDomains: ['example.org'] });
  t.set({ networkId: 'n2', containerId: 'c2', ip: '10.2.0.3', names: ['vm2'] });
  return t;
}

function client(t: NameTable, containerId: string): Client {
  const c = t.client(containerId);
  assert.ok(c, `client ${containerId}`);
  return c;
}

test('a container resolves the names of containers on its networks, case-insensitively', () => {
  const t = table();
  assert.deepEqual(t.resolve(client(t, 'c2'), 'vm1'), { kind: 'addresses', v4: ['10.1.0.2'], v6: [] });
  assert.deepEqual(t.resolve(client(t, 'c2'), 'abc123'), { kind: 'addresses', v4: ['10.1.0.2'], v6: [] });
});

test('a name that exists only on a network the client is not on is NXDOMAIN', () => {
  const t = table();
  assert.deepEqual(t.resolve(client(t, 'c4'), 'vm1'), { kind: 'nxdomain' });
  assert.deepEqual(t.resolve(client(t, 'c1'), 'other'), { kind: 'nxdomain' });
});

test('names nobody holds are forwarded', () => {
  const t = table();
  assert.deepEqual(t.resolve(client(t, 'c1'), 'example.com'), { kind: 'forward' });
});

test('a shared alias returns every member, rotated one step per query', () => {
  const t = table();
  const c = client(t, 'c2');
  const seen = [0, 1, 2, 3].map(() => t.resolve(c, 'web'));
  for (const r of seen) {
    assert.equal(r.kind, 'addresses');
    if (r.kind === 'addresses') assert.deepEqual([...r.v4].sort(), ['10.1.0.2', '10.1.0.3', '10.1.0.4']);
  }
  const firsts = seen.map((r) => (r.kind === 'addresses' ? r.v4[0] : ''));
  assert.equal(new Set(firsts.slice(0, 3)).size, 3);
  assert.equal(firsts[3], firsts[0]);
});

test('a container on two networks sees the names of both, and is known by either address', () => {
  const t = table();
  const c = client(t, 'c2');
  assert.deepEqual(c.networks.sort(), ['n1', 'n2']);
  assert.deepEqual(t.resolve(c, 'other'), { kind: 'addresses', v4: ['10.2.0.2'], v6: [] });
  assert.deepEqual(t.resolve(client(t, 'c2'), 'other'), { kind: 'addresses', v4: ['10.2.0.2'], v6: [] });
});

test('a name under one of the client\'s search domains resolves like the bare name', () => {
  const t = table();
  const c = client(t, 'c4');
  assert.deepEqual(t.resolve(c, 'vm2.example.org'), { kind: 'addresses', v4: ['10.2.0.3'], v6: [] });
  assert.deepEqual(t.resolve(c, 'vm2.example.com'), { kind: 'forward' });
});

test('a container with no endpoint is no client', () => {
  assert.equal(table().client('c9'), undefined);
});

test('PTR: a visible container address maps to its first name; an invisible one is NXDOMAIN', () => {
  const t = table();
  assert.equal(reverseToIp('2.0.1.10.in-addr.arpa'), '10.1.0.2');
  assert.equal(reverseToIp('300.0.1.10.in-addr.arpa'), undefined);
  assert.deepEqual(t.resolve(client(t, 'c2'), '2.0.1.10.in-addr.arpa'), { kind: 'pointer', name: 'vm1' });
  assert.deepEqual(t.resolve(client(t, 'c4'), '2.0.1.10.in-addr.arpa'), { kind: 'nxdomain' });
  assert.deepEqual(t.resolve(client(t, 'c4'), '9.9.9.10.in-addr.arpa'), { kind: 'forward' });
});

test('link aliases are visible only to the container that has the link', () => {
  const t = table();
  t.set({ networkId: 'n1', containerId: 'c5', ip: '10.1.0.9', names: ['vm5'], linkAliases: { DB: 'VM2' } });
  assert.deepEqual(t.resolve(client(t, 'c5'), 'db'), { kind: 'addresses', v4: ['10.1.0.3'], v6: [] });
  assert.deepEqual(t.resolve(client(t, 'c1'), 'db'), { kind: 'forward' });
});

test('a link alias follows its target: absent (NXDOMAIN), then started, then back with a new address', () => {
  const t = table();
  t.set({ networkId: 'n1', containerId: 'c5', ip: '10.1.0.9', names: ['vm5'], linkAliases: { later: 'late' } });
  assert.deepEqual(t.resolve(client(t, 'c5'), 'later'), { kind: 'nxdomain' });
  t.set({ networkId: 'n1', containerId: 'c6', ip: '10.1.0.20', names: ['late'] });
  assert.deepEqual(t.resolve(client(t, 'c5'), 'later'), { kind: 'addresses', v4: ['10.1.0.20'], v6: [] });
  t.remove('n1', 'c6');
  assert.deepEqual(t.resolve(client(t, 'c5'), 'later'), { kind: 'nxdomain' });
  t.set({ networkId: 'n1', containerId: 'c6', ip: '10.1.0.21', names: ['late'] });
  assert.deepEqual(t.resolve(client(t, 'c5'), 'later'), { kind: 'addresses', v4: ['10.1.0.21'], v6: [] });
});

test('a link alias looks its target up on the link\'s own network only', () => {
  const t = table();
  // "other" exists on n2 only; c5's link is on n1
  t.set({ networkId: 'n1', containerId: 'c5', ip: '10.1.0.9', names: ['vm5'], linkAliases: { x: 'other' } });
  t.set({ networkId: 'n2', containerId: 'c5', ip: '10.2.0.9', names: ['vm5'] });
  assert.deepEqual(t.resolve(client(t, 'c5'), 'x'), { kind: 'nxdomain' });
});

test('removing and replacing endpoints takes effect at once', () => {
  const t = table();
  t.remove('n1', 'c1');
  assert.deepEqual(t.resolve(client(t, 'c2'), 'vm1'), { kind: 'forward' });
  assert.equal(t.client('10.1.0.2'), undefined);
  t.set({ networkId: 'n1', containerId: 'c2', ip: '10.1.0.3', names: ['renamed'] });
  assert.deepEqual(t.resolve(client(t, 'c3'), 'renamed'), { kind: 'addresses', v4: ['10.1.0.3'], v6: [] });
  assert.deepEqual(t.resolve(client(t, 'c3'), 'vm2'), { kind: 'nxdomain' }); // still held on n2
  t.removeNetwork('n2');
  assert.deepEqual(t.resolve(client(t, 'c3'), 'vm2'), { kind: 'forward' });
});

test('IPv6 text <-> hex digits: compressed, full, upper-case, zoned and dotted-quad forms', () => {
  assert.equal(ipv6Hex('fd00::2'), 'fd000000000000000000000000000002');
  assert.equal(ipv6Hex('FD00:0:0:0:0:0:0:2'), 'fd000000000000000000000000000002');
  assert.equal(ipv6Hex('::'), '0'.repeat(32));
  assert.equal(ipv6Hex('::1'), `${'0'.repeat(31)}1`);
  assert.equal(ipv6Hex('fe80::1%eth0'), `fe80${'0'.repeat(27)}1`);
  assert.equal(ipv6Hex('::ffff:10.1.2.3'), `${'0'.repeat(20)}ffff0a010203`);
  assert.equal(ipv6Hex('10.1.2.3'), undefined);
  assert.equal(ipv6Hex('fd00::2::3'), undefined);
  assert.equal(ipv6FromHex('fd000000000000000000000000000002'), 'fd00::2');
  assert.equal(ipv6FromHex('20010db8000000010000000000000001'), '2001:db8:0:1::1');
  assert.equal(ipv6FromHex('0'.repeat(32)), '::');
  assert.equal(ipv6FromHex('00010002000300040005000600070008'), '1:2:3:4:5:6:7:8');
});

test('ip6.arpa names: 32 single-hex-digit labels, reversed; anything shorter or odd is not one', () => {
  const name = '2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa';
  assert.equal(ip6ArpaToHex(name), 'fd000001000000000000000000000002');
  assert.equal(reverseToIp(name), 'fd000001000000000000000000000002');
  assert.equal(ip6ArpaToHex('0.0.d.f.ip6.arpa'), undefined, 'a zone, not an address');
  assert.equal(ip6ArpaToHex(name.replace(/^2/, 'g')), undefined);
  assert.equal(ip6ArpaToHex(name.replace(/^2\./, '22')), undefined);
});

test('dual-stack endpoints: both families per name, PTR from either address, families asked alone', () => {
  const t = new NameTable();
  t.set({ networkId: 'n1', containerId: 'a', ip: '10.1.0.2', ip6: 'fd00:1::2', names: ['a'] });
  t.set({ networkId: 'n1', containerId: 'b', ip6: 'FD00:1::0:3', names: ['b', 'web'] });
  t.set({ networkId: 'n1', containerId: 'c', ip: '10.1.0.4', names: ['c', 'web'] });
  const me = client(t, 'a');
  assert.deepEqual(t.resolve(me, 'a'), { kind: 'addresses', v4: ['10.1.0.2'], v6: ['fd00:1::2'] });
  assert.deepEqual(t.resolve(me, 'b', { v4: false, v6: true }), { kind: 'addresses', v4: [], v6: ['fd00:1::3'] });
  assert.deepEqual(t.resolve(me, 'b', { v4: true, v6: false }), { kind: 'addresses', v4: [], v6: [] }, 'NODATA, not forward');
  assert.deepEqual(t.resolve(me, 'web', { v4: false, v6: true }), { kind: 'addresses', v4: [], v6: ['fd00:1::3'] });
  const ptr6 = '3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa';
  assert.deepEqual(t.resolve(me, ptr6), { kind: 'pointer', name: 'b' });
  assert.deepEqual(t.resolve(me, '2.0.1.10.in-addr.arpa'), { kind: 'pointer', name: 'a' });
  t.remove('n1', 'b');
  assert.deepEqual(t.resolve(me, ptr6), { kind: 'forward' }, 'a removed endpoint leaves no reverse entry');
  assert.deepEqual(t.resolve(me, 'web', { v4: false, v6: true }), { kind: 'addresses', v4: [], v6: [] });
});
