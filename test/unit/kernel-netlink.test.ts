import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToIp, ipToBytes } from '../../src/kernel/netlink/ipbytes.js';
import {
  attr, attrString, attrU32, decodeMessages, encodeMessage, nested, parseAttrs, strAttr, u32Attr,
} from '../../src/kernel/netlink/message.js';

// The netlink wire encoding, without a kernel: lengths, 4-byte padding, nesting.

test('attributes are length-prefixed and padded to 4 bytes', () => {
  const a = strAttr(3, 'eth0');
  assert.equal(a.readUInt16LE(0), 4 + 5); // "eth0\0"
  assert.equal(a.readUInt16LE(2), 3);
  assert.equal(a.length, 12);
  assert.equal(u32Attr(4, 1500).readUInt32LE(4), 1500);
});

test('nested attributes parse back, with the NLA_F_NESTED bit masked', () => {
  const n = nested(18, [strAttr(1, 'veth'), attr(2, Buffer.from([1, 2, 3]))]);
  const outer = parseAttrs(n);
  const inner = parseAttrs(outer.get(18)!);
  assert.equal(attrString(inner.get(1)), 'veth');
  assert.deepEqual([...inner.get(2)!], [1, 2, 3]);
});

test('messages round-trip through encode and decode', () => {
  const body = [Buffer.alloc(16), u32Attr(4, 9000)];
  const m1 = encodeMessage(16, 0x605, 7, body);
  const m2 = encodeMessage(3, 0, 8, [Buffer.alloc(4)]);
  const both = Buffer.concat([m1, m2]);
  const out = decodeMessages(both, both.length);
  assert.deepEqual(out.map((m) => [m.type, m.flags, m.seq]), [[16, 0x605, 7], [3, 0, 8]]);
  assert.equal(attrU32(parseAttrs(out[0].payload, 16).get(4)), 9000);
});

test('IPv4 and IPv6 addresses convert to network-order bytes and back', () => {
  assert.deepEqual([...ipToBytes('172.17.0.2').bytes], [172, 17, 0, 2]);
  for (const ip of ['fd00::1', '::1', '::', '2001:db8:0:1:2:3:4:5', 'fe80::42:aff:fe09:2', '2001:db8::1:0:0:1']) {
    assert.equal(bytesToIp(ipToBytes(ip).bytes), ip, ip);
  }
  assert.equal(bytesToIp(ipToBytes('::ffff:10.0.0.1').bytes), '::ffff:a00:1');
  assert.equal(bytesToIp(ipToBytes('2001:0db8:0000:0000:0000:0000:0000:0001').bytes), '2001:db8::1');
});
