import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameTable, reverseToIp, type Client } from '../../src/dns/names.js';

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
  assert.deepEqual(t.resolve(client(t, 'c2'), 'vm1'), { kind: 'addresses', ips: ['10.1.0.2'] });
  assert.deepEqual(t.resolve(client(t, 'c2'), 'abc123'), { kind: 'addresses', ips: ['10.1.0.2'] });
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
    if (r.kind === 'addresses') assert.deepEqual([...r.ips].sort(), ['10.1.0.2', '10.1.0.3', '10.1.0.4']);
  }
  const firsts = seen.map((r) => (r.kind === 'addresses' ? r.ips[0] : ''));
  assert.equal(new Set(firsts.slice(0, 3)).size, 3);
  assert.equal(firsts[3], firsts[0]);
});

test('a container on two networks sees the names of both, and is known by either address', () => {
  const t = table();
  const c = client(t, 'c2');
  assert.deepEqual(c.networks.sort(), ['n1', 'n2']);
  assert.deepEqual(t.resolve(c, 'other'), { kind: 'addresses', ips: ['10.2.0.2'] });
  assert.deepEqual(t.resolve(client(t, 'c2'), 'other'), { kind: 'addresses', ips: ['10.2.0.2'] });
});

test('a name under one of the client\'s search domains resolves like the bare name', () => {
  const t = table();
  const c = client(t, 'c4');
  assert.deepEqual(t.resolve(c, 'vm2.example.org'), { kind: 'addresses', ips: ['10.2.0.3'] });
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
  assert.deepEqual(t.resolve(client(t, 'c5'), 'db'), { kind: 'addresses', ips: ['10.1.0.3'] });
  assert.deepEqual(t.resolve(client(t, 'c1'), 'db'), { kind: 'forward' });
});

test('a link alias follows its target: absent (NXDOMAIN), then started, then back with a new address', () => {
  const t = table();
  t.set({ networkId: 'n1', containerId: 'c5', ip: '10.1.0.9', names: ['vm5'], linkAliases: { later: 'late' } });
  assert.deepEqual(t.resolve(client(t, 'c5'), 'later'), { kind: 'nxdomain' });
  t.set({ networkId: 'n1', containerId: 'c6', ip: '10.1.0.20', names: ['late'] });
  assert.deepEqual(t.resolve(client(t, 'c5'), 'later'), { kind: 'addresses', ips: ['10.1.0.20'] });
  t.remove('n1', 'c6');
  assert.deepEqual(t.resolve(client(t, 'c5'), 'later'), { kind: 'nxdomain' });
  t.set({ networkId: 'n1', containerId: 'c6', ip: '10.1.0.21', names: ['late'] });
  assert.deepEqual(t.resolve(client(t, 'c5'), 'later'), { kind: 'addresses', ips: ['10.1.0.21'] });
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
  assert.deepEqual(t.resolve(client(t, 'c3'), 'renamed'), { kind: 'addresses', ips: ['10.1.0.3'] });
  assert.deepEqual(t.resolve(client(t, 'c3'), 'vm2'), { kind: 'nxdomain' }); // still held on n2
  t.removeNetwork('n2');
  assert.deepEqual(t.resolve(client(t, 'c3'), 'vm2'), { kind: 'forward' });
});
