import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import { slowParse } from '../../src/dns/slow-parse.js';
import {
  RCODE_NOERROR, TYPE_A, TYPE_AAAA, TYPE_PTR, encodeAnswer, parseQuery, walkResponse,
} from '../../src/dns/wire.js';

function query(name: string, type: dnsPacket.RecordType, edns = false): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as dnsPacket.Answer] : [],
  });
}

test('the hand parser reads what dns-packet encodes: name lower-cased, type, class, EDNS size', () => {
  const q = parseQuery(query('VM1.Example.ORG', 'AAAA'));
  assert.ok(q);
  assert.equal(q.name, 'vm1.example.org');
  assert.equal(q.type, TYPE_AAAA);
  assert.equal(q.qclass, 1);
  assert.equal(q.edns, false);
  const e = parseQuery(query('vm1', 'A', true));
  assert.ok(e);
  assert.equal(e.edns, true);
  assert.equal(e.udpSize, 4096);
});

test('the hand parser declines what is not a plain query (the slow path takes it)', () => {
  const m = query('vm1', 'A');
  const resp = Buffer.from(m);
  resp[2] = 0x80;
  assert.equal(parseQuery(resp), undefined);
  assert.equal(parseQuery(m.subarray(0, m.length - 1)), undefined);
  assert.equal(parseQuery(Buffer.concat([m, Buffer.from([0])])), undefined);
  const withAnswer = dnsPacket.encode({
    type: 'query', id: 1, questions: [{ type: 'A', name: 'vm1' }],
    answers: [{ type: 'A', name: 'vm1', data: '1.2.3.4' }],
  });
  assert.equal(parseQuery(withAnswer), undefined);
  const slow = slowParse(withAnswer);
  assert.ok(slow.ok);
  if (slow.ok) assert.equal(slow.question.name, 'vm1');
});

test('answers built by hand decode with dns-packet: id, flags, question, rotated records, OPT', () => {
  const msg = query('Web', 'A', true);
  const q = parseQuery(msg);
  assert.ok(q);
  const out = encodeAnswer({
    id: 4242, rd: true, rcode: RCODE_NOERROR, authoritative: true, question: q, ttl: 10,
    records: [{ type: TYPE_A, ip: '10.0.0.3' }, { type: TYPE_A, ip: '10.0.0.2' }],
  });
  const d = dnsPacket.decode(out);
  assert.equal(d.id, 4242);
  assert.equal(d.type, 'response');
  assert.equal(d.flag_aa, true);
  assert.equal(d.flag_rd, true);
  assert.equal(d.questions?.[0]?.name, 'Web');
  assert.deepEqual(d.answers?.map((a) => [a.type, (a as { ttl?: number }).ttl, (a as { data: string }).data]), [['A', 10, '10.0.0.3'], ['A', 10, '10.0.0.2']]);
  assert.equal(d.additionals?.[0]?.type, 'OPT');
});

test('PTR answers carry the name; answers too big for UDP are truncated with TC', () => {
  const q = parseQuery(query('2.0.1.10.in-addr.arpa', 'PTR'));
  assert.ok(q);
  const d = dnsPacket.decode(encodeAnswer({
    id: 1, rd: true, rcode: 0, authoritative: true, question: q, ttl: 10, records: [{ type: TYPE_PTR, name: 'vm1' }],
  }));
  assert.equal((d.answers?.[0] as { data: string }).data, 'vm1');
  const many = Array.from({ length: 100 }, (_, i) => ({ type: TYPE_A, ip: `10.0.${i}.1` } as const));
  const big = encodeAnswer({ id: 1, rd: true, rcode: 0, authoritative: true, question: q, ttl: 10, records: many }, 512);
  assert.ok(big.length <= 512);
  const bd = dnsPacket.decode(big);
  assert.equal(bd.flag_tc, true);
  assert.ok((bd.answers?.length ?? 0) > 10);
});

test('the response walker finds every TTL and the SOA negative TTL', () => {
  const resp = dnsPacket.encode({
    type: 'response', id: 9, flags: 0, questions: [{ type: 'A', name: 'x.test' }],
    answers: [{ type: 'A', name: 'x.test', ttl: 77, data: '1.1.1.1' }, { type: 'A', name: 'x.test', ttl: 50, data: '1.1.1.2' }],
    authorities: [{ type: 'SOA', name: 'test', ttl: 900, data: { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 20 } }],
  });
  const s = walkResponse(resp);
  assert.ok(s);
  assert.deepEqual(s.answerTtls, [77, 50]);
  assert.equal(s.ttlOffsets.length, 3);
  assert.equal(s.soaMinimum, 20);
});

test('AAAA answers are built by hand (no slow path): 16-byte rdata that dns-packet decodes, truncated by size like A', () => {
  const msg = query('web', 'AAAA', true);
  const q = parseQuery(msg);
  assert.ok(q, 'a plain AAAA query takes the fast path');
  const out = encodeAnswer({
    id: 4242, rd: true, rcode: RCODE_NOERROR, authoritative: true, question: q, ttl: 10,
    records: [{ type: TYPE_AAAA, ip: 'fd00:1::3' }, { type: TYPE_AAAA, ip: '2001:db8:0:1::ab' }],
  });
  const d = dnsPacket.decode(out);
  assert.deepEqual(d.answers?.map((a) => [a.type, (a as { data: string }).data]), [['AAAA', 'fd00:1::3'], ['AAAA', '2001:db8:0:1::ab']]);
  const many = Array.from({ length: 40 }, (_, i) => ({ type: TYPE_AAAA, ip: `fd00::${i + 1}` } as const));
  const plain = parseQuery(query('web', 'AAAA'));
  assert.ok(plain);
  const cut = encodeAnswer({ id: 1, rd: true, rcode: RCODE_NOERROR, authoritative: true, question: plain, ttl: 10, records: many }, 512);
  assert.ok(cut.length <= 512);
  const dc = dnsPacket.decode(cut);
  assert.equal(dc.flag_tc, true);
  assert.equal(dc.answers?.length, Math.floor((512 - 12 - plain.wire.length) / 28));
});

test('an ip6.arpa PTR query takes the fast path too', () => {
  const name = '3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.D.F.ip6.arpa';
  const q = parseQuery(query(name, 'PTR'));
  assert.ok(q);
  assert.equal(q.name, name.toLowerCase());
  assert.equal(q.type, TYPE_PTR);
});
