import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import { AnswerCache } from '../../src/dns/cache.js';
import { DnsHandler, type Forwarder } from '../../src/dns/handler.js';
import { NameTable } from '../../src/dns/names.js';
import type { Upstream } from '../../src/dns/upstream.js';

/** the asking container (the sandbox a query came in on says which) */
const CLIENT = 'c1';

class FakeUpstream implements Forwarder {
  calls = 0;
  fail = false;
  async query(msg: Buffer, _qlen: number, _ups: Upstream[]): Promise<Buffer> {
    this.calls++;
    await Promise.resolve(); // reads the query later, as a real upstream client may
    if (this.fail) throw new Error('unreachable');
    const q = dnsPacket.decode(msg);
    const name = q.questions?.[0]?.name ?? '';
    if (name === 'missing.test') {
      return dnsPacket.encode({ type: 'response', id: q.id, flags: 3, questions: q.questions });
    }
    return dnsPacket.encode({
      type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions, answers: [{ type: 'A', name, ttl: 60, data: '203.0.113.10' }],
    });
  }
}

function setup(): { h: DnsHandler; up: FakeUpstream; t: NameTable } {
  const t = new NameTable();
  t.set({ networkId: 'n1', containerId: 'c1', ip: '10.1.0.2', names: ['vm1'] });
  t.set({ networkId: 'n1', containerId: 'c2', ip: '10.1.0.3', names: ['vm2', 'web'] });
  t.set({ networkId: 'n1', containerId: 'c3', ip: '10.1.0.4', names: ['vm3', 'web'] });
  t.set({ networkId: 'n2', containerId: 'c9', ip: '10.2.0.2', names: ['far'] });
  const up = new FakeUpstream();
  const h = new DnsHandler(t, up, 10);
  h.setUpstreams(['192.0.2.53']);
  return { h, up, t };
}

function q(name: string, type: dnsPacket.RecordType = 'A', id = 7): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
}

/** dns-packet sets rcode at run time; its typings leave it out. */
type Decoded = dnsPacket.DecodedPacket & { rcode: string };

async function ask(h: DnsHandler, msg: Buffer, source = CLIENT, transport: 'udp' | 'tcp' = 'udp'): Promise<Decoded> {
  const r = await h.handle(msg, source, transport);
  assert.ok(r, 'an answer');
  return dnsPacket.decode(r) as Decoded;
}

const ttlOf = (a: dnsPacket.Answer | undefined): number | undefined => (a as { ttl?: number } | undefined)?.ttl;

const ips = (p: dnsPacket.Packet): string[] => (p.answers ?? []).map((a) => (a as { data: string }).data);

test('A for a local name is answered authoritatively with a short TTL; AAAA is NOERROR with no records', async () => {
  const { h } = setup();
  const a = await ask(h, q('VM2.'));
  assert.equal(a.rcode, 'NOERROR');
  assert.equal(a.flag_aa, true);
  assert.deepEqual(ips(a), ['10.1.0.3']);
  assert.equal(ttlOf(a.answers?.[0]), 10);
  const aaaa = await ask(h, q('vm2', 'AAAA'));
  assert.equal(aaaa.rcode, 'NOERROR');
  assert.equal(aaaa.answers?.length, 0);
});

test('a shared alias answers every member, rotating the first', async () => {
  const { h } = setup();
  const a = await ask(h, q('web'));
  const b = await ask(h, q('web'));
  assert.deepEqual([...ips(a)].sort(), ['10.1.0.3', '10.1.0.4']);
  assert.notEqual(ips(a)[0], ips(b)[0]);
});

test('names of other networks are NXDOMAIN; a sandbox whose container has no endpoint is REFUSED', async () => {
  const { h } = setup();
  assert.equal((await ask(h, q('far'))).rcode, 'NXDOMAIN');
  assert.equal((await ask(h, q('vm1'), 'gone')).rcode, 'REFUSED');
});

test('PTR for a container address answers its name', async () => {
  const { h } = setup();
  const a = await ask(h, q('3.0.1.10.in-addr.arpa', 'PTR'));
  assert.deepEqual(ips(a), ['vm2']);
});

test('forwarded answers are cached: the second query does not reach the upstream', async () => {
  const { h, up } = setup();
  const a = await ask(h, q('echo.internet.test', 'A', 1));
  const b = await ask(h, q('ECHO.internet.test', 'A', 2));
  assert.deepEqual(ips(a), ['203.0.113.10']);
  assert.deepEqual(ips(b), ['203.0.113.10']);
  assert.equal(b.id, 2);
  assert.equal(b.questions?.[0]?.name, 'ECHO.internet.test');
  assert.equal(up.calls, 1);
  assert.equal(h.stats.cacheHits, 1);
  await ask(h, q('missing.test'));
  const neg = await ask(h, q('missing.test'));
  assert.equal(neg.rcode, 'NXDOMAIN');
  assert.equal(up.calls, 2);
});

test('concurrent identical forwarded queries share one upstream query', async () => {
  const { h, up } = setup();
  const answers = await Promise.all([1, 2, 3].map((id) => ask(h, q('x.test', 'A', id))));
  assert.deepEqual(answers.map((a) => a.id), [1, 2, 3]);
  assert.equal(up.calls, 1);
});

test('an unreachable upstream gives SERVFAIL', async () => {
  const { h, up } = setup();
  up.fail = true;
  assert.equal((await ask(h, q('down.test'))).rcode, 'SERVFAIL');
});

test('malformed packets get FORMERR when the header is readable and silence otherwise', async () => {
  const { h } = setup();
  assert.equal(await h.handle(Buffer.from([1, 2, 3]), CLIENT, 'udp'), undefined);
  const junk = Buffer.alloc(20, 0xff);
  junk[2] = 0;
  const r = await h.handle(junk, CLIENT, 'udp');
  assert.ok(r);
  assert.equal(r.readUInt16BE(0), 0xffff);
  assert.equal(r[3]! & 0x0f, 1);
});

test('cache entries expire and their TTLs count down', () => {
  const c = new AnswerCache();
  const msg = dnsPacket.encode({
    type: 'response', id: 1, flags: 0, questions: [{ type: 'A', name: 'a.test' }],
    answers: [{ type: 'A', name: 'a.test', ttl: 600, data: '1.2.3.4' }],
  });
  const qwire = msg.subarray(12, 12 + 'a.test'.length + 2 + 4);
  assert.equal(c.put('k', msg, qwire, 0), true);
  const later = c.get('k', 5, qwire, 100_000);
  assert.ok(later);
  assert.equal(ttlOf(dnsPacket.decode(later).answers?.[0]), 500);
  assert.equal(c.get('k', 5, qwire, 300_001), undefined, 'kept at most 300 s');
});

test('upstreams are IP addresses of either family with an optional port; anything else is skipped', async () => {
  const { parseUpstream } = await import('../../src/dns/upstream.js');
  assert.deepEqual(parseUpstream('203.0.113.10'), { host: '203.0.113.10', port: 53 });
  assert.deepEqual(parseUpstream('203.0.113.10:5353'), { host: '203.0.113.10', port: 5353 });
  assert.deepEqual(parseUpstream('2001:db8::1'), { host: '2001:db8::1', port: 53 });
  assert.deepEqual(parseUpstream('[2001:db8::1]:5353'), { host: '2001:db8::1', port: 5353 });
  assert.deepEqual(parseUpstream('fe80::1%eth0'), { host: 'fe80::1%eth0', port: 53 });
  assert.equal(parseUpstream('2001:db8::1::2'), undefined);
  assert.equal(parseUpstream('[2001:db8::1]:0'), undefined);
  assert.equal(parseUpstream('dns.example'), undefined);
  assert.equal(parseUpstream('1.2.3.4:0'), undefined);
});

test('a container with an empty upstream list gets SERVFAIL at once for outside names', async () => {
  const { h, t, up } = setup();
  t.set({ networkId: 'n1', containerId: 'c1', ip: '10.1.0.2', names: ['vm1'], upstreams: [] });
  const r = await ask(h, q('outside.test'));
  assert.equal(r.rcode, 'SERVFAIL');
  assert.equal(up.calls, 0);
});

/** A dual-stack table: c1 asks; c2, c3 share "web" with both families; c4 is IPv6-only; c5 IPv4-only. */
function dualStack(): { h: DnsHandler; up: FakeUpstream } {
  const t = new NameTable();
  t.set({ networkId: 'n1', containerId: 'c1', ip: '10.1.0.2', ip6: 'fd00:1::2', names: ['vm1'] });
  t.set({ networkId: 'n1', containerId: 'c2', ip: '10.1.0.3', ip6: 'fd00:1::3', names: ['vm2', 'web'] });
  t.set({ networkId: 'n1', containerId: 'c3', ip: '10.1.0.4', ip6: 'FD00:1:0::4', names: ['vm3', 'web'] });
  t.set({ networkId: 'n1', containerId: 'c4', ip6: 'fd00:1::5', names: ['six'] });
  t.set({ networkId: 'n1', containerId: 'c5', ip: '10.1.0.6', names: ['four'] });
  const up = new FakeUpstream();
  const h = new DnsHandler(t, up, 10);
  h.setUpstreams(['192.0.2.53']);
  return { h, up };
}

test('AAAA for a dual-stack name answers its IPv6 address authoritatively; A still the IPv4 one', async () => {
  const { h, up } = dualStack();
  const aaaa = await ask(h, q('VM2', 'AAAA'));
  assert.equal(aaaa.rcode, 'NOERROR');
  assert.equal(aaaa.flag_aa, true);
  assert.deepEqual(aaaa.answers?.map((a) => a.type), ['AAAA']);
  assert.deepEqual(ips(aaaa), ['fd00:1::3']);
  assert.equal(ttlOf(aaaa.answers?.[0]), 10);
  assert.deepEqual(ips(await ask(h, q('vm2', 'A'))), ['10.1.0.3']);
  assert.equal(up.calls, 0);
});

test('A and AAAA of a shared alias rotate each on its own, so interleaved A+AAAA lookups still spread', async () => {
  const { h } = dualStack();
  const firstA: string[] = [];
  const firstAAAA: string[] = [];
  for (let i = 0; i < 4; i++) {
    // getaddrinfo asks both, every time: one family's queries must not step the other's counter
    const a = ips(await ask(h, q('web', 'A')));
    const aaaa = ips(await ask(h, q('web', 'AAAA')));
    assert.deepEqual([...a].sort(), ['10.1.0.3', '10.1.0.4']);
    assert.deepEqual([...aaaa].sort(), ['fd00:1::3', 'fd00:1::4']);
    firstA.push(a[0]!);
    firstAAAA.push(aaaa[0]!);
  }
  assert.equal(new Set(firstA.slice(0, 2)).size, 2, `A rotates: ${firstA.join()}`);
  assert.equal(new Set(firstAAAA.slice(0, 2)).size, 2, `AAAA rotates: ${firstAAAA.join()}`);
  assert.equal(firstA[2], firstA[0]);
  assert.equal(firstAAAA[2], firstAAAA[0]);
});

test('a name without an address of the family asked is NODATA (NOERROR, no records), never forwarded', async () => {
  const { h, up } = dualStack();
  const noV6 = await ask(h, q('four', 'AAAA'));
  assert.equal(noV6.rcode, 'NOERROR');
  assert.equal(noV6.flag_aa, true);
  assert.equal(noV6.answers?.length, 0);
  const noV4 = await ask(h, q('six', 'A'));
  assert.equal(noV4.rcode, 'NOERROR');
  assert.equal(noV4.answers?.length, 0);
  assert.deepEqual(ips(await ask(h, q('six', 'AAAA'))), ['fd00:1::5']);
  assert.equal(up.calls, 0, 'container names never go upstream');
});

test('ANY for a dual-stack name answers both families', async () => {
  const { h } = dualStack();
  const any = await ask(h, q('vm2', 'ANY' as dnsPacket.RecordType));
  assert.deepEqual(any.answers?.map((a) => `${a.type} ${(a as { data: string }).data}`), ['A 10.1.0.3', 'AAAA fd00:1::3']);
});

test('PTR in ip6.arpa answers the name of a visible IPv6 address, whatever the case of its nibbles', async () => {
  const { h, up } = dualStack();
  // fd00:1::4 (given as FD00:1:0::4)
  const nibbles = '4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f';
  const lower = await ask(h, q(`${nibbles}.ip6.arpa`, 'PTR'));
  assert.equal(lower.rcode, 'NOERROR');
  assert.deepEqual(ips(lower), ['vm3']);
  const upper = await ask(h, q(`${nibbles.toUpperCase()}.IP6.ARPA`, 'PTR'));
  assert.deepEqual(ips(upper), ['vm3']);
  assert.equal(up.calls, 0);
  // an address nobody holds is someone else's to answer
  await ask(h, q(`${nibbles.replace(/^4/, '9')}.ip6.arpa`, 'PTR'));
  assert.equal(up.calls, 1);
});

test('a forwarded query is answered right when the caller reuses its memory as soon as handle returns (a batch does)', async () => {
  const { h, up } = setup();
  const mem = Buffer.alloc(512);
  const asked = q('Outside.Test', 'A', 4242);
  asked.copy(mem);
  const r = h.handle(mem.subarray(0, asked.length), CLIENT, 'udp');
  assert.ok(r instanceof Promise, 'forwarded');
  q('vm1', 'AAAA', 1).copy(mem); // the next datagram lands where this one was
  mem.fill(0xff, 20);
  const a = dnsPacket.decode((await r) as Buffer) as Decoded;
  assert.equal(a.id, 4242);
  assert.equal(a.questions?.[0]?.name, 'Outside.Test');
  assert.deepEqual(ips(a), ['203.0.113.10']);
  assert.deepEqual(ips(await ask(h, q('outside.test'))), ['203.0.113.10']);
  assert.equal(up.calls, 1, 'cached under its own question');
});

test('a repeated query gets the same answer with its own id, each asker its own view; a record change is seen by the next query', async () => {
  const { h, t } = setup();
  const first = await ask(h, q('Vm2', 'A', 1));
  const again = await ask(h, q('Vm2', 'A', 2));
  assert.equal(again.id, 2);
  assert.deepEqual({ ...again, id: 1 }, first);
  assert.equal(again.questions?.[0]?.name, 'Vm2', 'the question as asked, case and all');
  assert.equal((await ask(h, q('vm2', 'A', 3), 'c9')).rcode, 'NXDOMAIN', 'another network sees another answer');
  assert.equal((await ask(h, q('vm2', 'A', 4), 'c9')).rcode, 'NXDOMAIN');
  t.set({ networkId: 'n1', containerId: 'c2', ip: '10.1.0.30', names: ['vm2', 'web'] });
  assert.deepEqual(ips(await ask(h, q('Vm2', 'A', 5))), ['10.1.0.30']);
  t.set({ networkId: 'n2', containerId: 'c2', ip: '10.2.0.30', names: ['vm2'] });
  assert.deepEqual(ips(await ask(h, q('vm2', 'A', 6), 'c9')), ['10.2.0.30']);
  assert.equal(h.stats.local, 4);
  assert.equal(h.stats.nxdomain, 2);
  // a shared alias still rotates from one query to the next, asked the same way
  const orders = new Set<string>();
  for (let id = 10; id < 14; id++) orders.add(ips(await ask(h, q('web', 'A', id)))[0] ?? '');
  assert.equal(orders.size, 2);
});
