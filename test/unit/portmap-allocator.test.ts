import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePortRange, PortAllocator, type Reserver } from '../../src/portmap/allocator.js';

/** A fake kernel: ports in `busy` are held by "host processes". */
function fakeReserver(busy: Set<string>, open: Set<string>): Reserver {
  return async (ip, proto, port) => {
    const key = `${ip}|${proto}|${port}`;
    if (busy.has(`${proto}|${port}`) || busy.has(key)) throw Object.assign(new Error('in use'), { code: 'EADDRINUSE' });
    open.add(key);
    return { close: async () => void open.delete(key) };
  };
}

test('the same host ip/port/proto cannot be published twice, and 0.0.0.0 conflicts with any address', async () => {
  const open = new Set<string>();
  const a = new PortAllocator({ first: 40000, last: 40010 }, fakeReserver(new Set(), open));
  assert.equal(await a.allocate('c1', { hostIp: '0.0.0.0', proto: 'tcp', start: 8080, end: 8080 }), 8080);
  await assert.rejects(a.allocate('c2', { hostIp: '0.0.0.0', proto: 'tcp', start: 8080, end: 8080 }), { status: 409, message: 'Bind for 0.0.0.0:8080 failed: port is already allocated' });
  await assert.rejects(a.allocate('c2', { hostIp: '127.0.0.1', proto: 'tcp', start: 8080, end: 8080 }), /Bind for 127\.0\.0\.1:8080 failed: port is already allocated/);
  assert.equal(await a.allocate('c2', { hostIp: '0.0.0.0', proto: 'udp', start: 8080, end: 8080 }), 8080, 'udp is another port');
  assert.equal(await a.allocate('c3', { hostIp: '127.0.0.1', proto: 'tcp', start: 9090, end: 9090 }), 9090);
  assert.equal(await a.allocate('c4', { hostIp: '127.0.0.2', proto: 'tcp', start: 9090, end: 9090 }), 9090, 'two specific addresses do not conflict');
  await assert.rejects(a.allocate('c5', { hostIp: '0.0.0.0', proto: 'tcp', start: 9090, end: 9090 }), /already allocated/);
  assert.equal(open.size, 4, 'one reservation socket per binding');
});

test('a port a host process holds is "already allocated"; a range takes the first free one', async () => {
  const a = new PortAllocator({ first: 40000, last: 40010 }, fakeReserver(new Set(['tcp|8080']), new Set()));
  await assert.rejects(a.allocate('c1', { hostIp: '0.0.0.0', proto: 'tcp', start: 8080, end: 8080 }), /Bind for 0\.0\.0\.0:8080 failed: port is already allocated/);
  assert.equal(await a.allocate('c1', { hostIp: '0.0.0.0', proto: 'tcp', start: 8080, end: 8085 }), 8081);
  assert.equal(await a.allocate('c2', { hostIp: '0.0.0.0', proto: 'tcp', start: 8080, end: 8085 }), 8082);
  await assert.rejects(a.allocate('c3', { hostIp: '0.0.0.0', proto: 'tcp', start: 8081, end: 8082 }), /0\.0\.0\.0:8081-8082 failed: port is already allocated/);
});

test('random ports come from the ephemeral range, skipping ports in use, until it is exhausted', async () => {
  const a = new PortAllocator(parsePortRange('40000\t40003\n'), fakeReserver(new Set(['tcp|40001']), new Set()));
  const got: number[] = [];
  for (let i = 0; i < 3; i++) got.push(await a.allocate(`c${i}`, { hostIp: '0.0.0.0', proto: 'tcp', start: 0, end: 0 }));
  assert.deepEqual(got, [40000, 40002, 40003]);
  await assert.rejects(a.allocate('c9', { hostIp: '0.0.0.0', proto: 'tcp', start: 0, end: 0 }), /all ports from 40000 to 40003 are allocated/);
  await a.release('c0');
  assert.equal(await a.allocate('c9', { hostIp: '0.0.0.0', proto: 'tcp', start: 0, end: 0 }), 40000);
});

test('release frees the ports and closes their reservations; restore takes exactly the stored port', async () => {
  const open = new Set<string>();
  const a = new PortAllocator({ first: 40000, last: 40010 }, fakeReserver(new Set(), open));
  await a.allocate('c1', { hostIp: '0.0.0.0', proto: 'tcp', start: 8080, end: 8080 });
  await a.allocate('c1', { hostIp: '0.0.0.0', proto: 'udp', start: 8080, end: 8080 });
  await a.release('c1');
  assert.equal(open.size, 0);
  assert.equal(a.size, 0);
  await a.restore('c2', '0.0.0.0', 'tcp', 8080);
  await assert.rejects(a.restore('c3', '127.0.0.1', 'tcp', 8080), /already allocated/);
  assert.throws(() => parsePortRange('x'), /invalid ip_local_port_range/);
});

test(':: covers the IPv6 addresses as 0.0.0.0 the IPv4 ones, and neither the other family; allocateOn takes one port on all addresses or none', async () => {
  const open = new Set<string>();
  const a = new PortAllocator({ first: 40000, last: 40010 }, fakeReserver(new Set(['::|tcp|40000']), open));
  assert.equal(await a.allocate('c1', { hostIp: '0.0.0.0', proto: 'tcp', start: 8080, end: 8080 }), 8080);
  assert.equal(await a.allocate('c2', { hostIp: '::', proto: 'tcp', start: 8080, end: 8080 }), 8080, 'v6 any does not clash with v4 any');
  await assert.rejects(a.allocate('c3', { hostIp: '::1', proto: 'tcp', start: 8080, end: 8080 }), { status: 409, message: 'Bind for [::1]:8080 failed: port is already allocated' });
  assert.equal(await a.allocate('c3', { hostIp: '::1', proto: 'tcp', start: 8081, end: 8081 }), 8081);
  await assert.rejects(a.allocate('c4', { hostIp: '::', proto: 'tcp', start: 8081, end: 8081 }), /Bind for \[::\]:8081 failed/);
  // 40000 is free on 0.0.0.0 but held on :: by a host process: both families move on together
  assert.equal(await a.allocateOn('c5', ['0.0.0.0', '::'], { proto: 'tcp', start: 0, end: 0 }), 40001);
  assert.ok(!open.has('0.0.0.0|tcp|40000'), 'the half-taken 40000 was given back');
  await assert.rejects(a.allocateOn('c6', ['0.0.0.0', '::'], { proto: 'tcp', start: 8080, end: 8080 }), /already allocated/);
  assert.equal(open.size, 5);
});
