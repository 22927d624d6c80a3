import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalCidr, cidrContains, cidrInside, cidrOverlaps, firstHost, formatIPv4, isCanonicalCidr,
  isIPv4, isValidMac, lastHost, macFromIp, netmaskToPrefix, parseCidr, parseIPv4, parseMac,
  prefixToNetmask,
} from '../../src/util/ip.js';
import { InvalidParameterError } from '../../src/util/errors.js';

function invalid(message: string) {
  return (err: unknown) => err instanceof InvalidParameterError && err.message === message;
}

test('dotted quads round-trip through uint32 including the extremes', () => {
  assert.equal(parseIPv4('0.0.0.0'), 0);
  assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  assert.equal(parseIPv4('172.17.0.1'), 0xac110001);
  for (const s of ['0.0.0.0', '10.0.0.1', '172.31.255.254', '255.255.255.255', '1.2.3.4']) {
    assert.equal(formatIPv4(parseIPv4(s)), s);
  }
});

test('malformed IP addresses are rejected with Docker wording', () => {
  for (const bad of ['300.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '1.2.3.-1', ' 1.2.3.4',
    '1.2.3.4 ', 'a.b.c.d', '', '1..2.3', '1.2.3.4/24', '0x1.2.3.4', '1e2.1.1.1', '256.0.0.0']) {
    assert.equal(isIPv4(bad), false, bad);
    assert.throws(() => parseIPv4(bad), invalid(`invalid IP address: ${bad}`));
  }
  assert.throws(() => formatIPv4(2 ** 32), InvalidParameterError);
  assert.throws(() => formatIPv4(-1), InvalidParameterError);
});

test('a CIDR parses into address, prefix, network and broadcast', () => {
  const c = parseCidr('172.17.0.1/16');
  assert.equal(c.address, '172.17.0.1');
  assert.equal(c.prefix, 16);
  assert.equal(c.network, '172.17.0.0');
  assert.equal(c.broadcast, '172.17.255.255');
  const all = parseCidr('10.1.2.3/0');
  assert.equal(all.network, '0.0.0.0');
  assert.equal(all.broadcast, '255.255.255.255');
  const host = parseCidr('10.1.2.3/32');
  assert.equal(host.network, '10.1.2.3');
  assert.equal(host.broadcast, '10.1.2.3');
});

test('malformed CIDRs are rejected with Docker wording', () => {
  for (const bad of ['172.22.0.0/33', '172.22.0.0', '172.22.0.0/', '172.22.0.0/016', '172.22.0.0/-1',
    '300.0.0.0/8', '172.22.0.0/16/1', '/16', '172.22.0.0/1a']) {
    assert.throws(() => parseCidr(bad), invalid(`invalid CIDR address: ${bad}`), bad);
  }
});

test('canonical form drops host bits and tells canonical from not', () => {
  assert.equal(canonicalCidr('172.17.0.1/16'), '172.17.0.0/16');
  assert.equal(canonicalCidr('192.168.17.200/20'), '192.168.16.0/20');
  assert.equal(isCanonicalCidr('172.22.0.0/24'), true);
  assert.equal(isCanonicalCidr('172.22.0.1/24'), false);
});

test('containment and overlap follow subnet boundaries', () => {
  assert.equal(cidrContains('172.17.0.0/16', '172.17.255.255'), true);
  assert.equal(cidrContains('172.17.0.0/16', '172.18.0.0'), false);
  assert.equal(cidrOverlaps('10.0.0.0/8', '10.200.0.0/16'), true);
  assert.equal(cidrOverlaps('10.200.0.0/16', '10.0.0.0/8'), true);
  assert.equal(cidrOverlaps('172.17.0.0/16', '172.18.0.0/16'), false);
  assert.equal(cidrOverlaps('192.168.0.0/20', '192.168.15.255/32'), true);
  assert.equal(cidrOverlaps('192.168.0.0/20', '192.168.16.0/32'), false);
  assert.equal(cidrInside('172.17.5.0/24', '172.17.0.0/16'), true);
  assert.equal(cidrInside('172.17.0.0/16', '172.17.5.0/24'), false);
});

test('usable hosts skip network and broadcast except in /31 and /32', () => {
  assert.equal(firstHost('172.17.0.0/16'), '172.17.0.1');
  assert.equal(lastHost('172.17.0.0/16'), '172.17.255.254');
  assert.equal(firstHost('10.0.0.0/30'), '10.0.0.1');
  assert.equal(lastHost('10.0.0.0/30'), '10.0.0.2');
  assert.equal(firstHost('10.0.0.0/31'), '10.0.0.0');
  assert.equal(lastHost('10.0.0.0/31'), '10.0.0.1');
  assert.equal(firstHost('10.0.0.7/32'), '10.0.0.7');
});

test('prefix and netmask convert both ways and non-contiguous masks are refused', () => {
  assert.equal(prefixToNetmask(0), '0.0.0.0');
  assert.equal(prefixToNetmask(20), '255.255.240.0');
  assert.equal(prefixToNetmask(32), '255.255.255.255');
  for (let p = 0; p <= 32; p++) assert.equal(netmaskToPrefix(prefixToNetmask(p)), p);
  assert.throws(() => netmaskToPrefix('255.0.255.0'), InvalidParameterError);
  assert.throws(() => netmaskToPrefix('255.255.255.1'), InvalidParameterError);
  assert.throws(() => prefixToNetmask(33), InvalidParameterError);
});

test('container MACs follow Docker rule 02:42 plus the address bytes', () => {
  assert.equal(macFromIp('172.17.0.2'), '02:42:ac:11:00:02');
  assert.equal(macFromIp('10.255.0.1'), '02:42:0a:ff:00:01');
  assert.throws(() => macFromIp('172.17.0.256'), invalid('invalid IP address: 172.17.0.256'));
});

test('MAC validation accepts six hex octets and normalises them', () => {
  assert.equal(isValidMac('02:42:ac:11:00:02'), true);
  assert.equal(isValidMac('02:42:AC:11:00:02'), true);
  assert.equal(isValidMac('02-42-ac-11-00-02'), true);
  for (const bad of ['02:42:ac:11:00', '02:42:ac:11:00:02:03', '02:42-ac:11:00:02', '0g:42:ac:11:00:02',
    '2:42:ac:11:00:02', '', '0242ac110002']) {
    assert.equal(isValidMac(bad), false, bad);
  }
  assert.equal(parseMac('02-42-AC-11-00-02'), '02:42:ac:11:00:02');
  assert.throws(() => parseMac('nope'), invalid('invalid MAC address: nope'));
});
