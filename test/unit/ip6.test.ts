import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalCidr6, canonicalIPv6, cidr6Contains, cidr6Inside, cidr6Overlaps, formatIPv6, isIPv6,
  parseCidr6, parseIPv6, usableRange6, IPV6_MAX,
} from '../../src/util/ip6.js';
import { anyCidrContains, anyCidrOverlaps, familyOf, tryCanonicalCidr } from '../../src/util/ip-family.js';
import { InvalidParameterError } from '../../src/util/errors.js';
import { prng } from '../lab/prng.js';

test('IPv6 text is written back in RFC 5952 canonical form', () => {
  const cases: [string, string][] = [
    ['::', '::'], ['::1', '::1'], ['0:0:0:0:0:0:0:1', '::1'], ['FD00:0:0:0::01', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a lone zero group stays
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longer run wins
    ['fe80::', 'fe80::'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'], ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ];
  for (const [given, want] of cases) assert.equal(canonicalIPv6(given), want, given);
  assert.equal(parseIPv6('::'), 0n);
  assert.equal(parseIPv6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), IPV6_MAX);
});

test('malformed IPv6 addresses are refused with Docker wording', () => {
  for (const bad of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1',
    'fe80::1%eth0', ' ::1', '::1 ', '1:2:3:4:5:6:7::8:9', '::1.2.3', '1.2.3.4', 'fd00::/64', '::ffff:1.2.3.4:1']) {
    assert.equal(isIPv6(bad), false, bad);
    assert.throws(() => parseIPv6(bad), (e: unknown) => e instanceof InvalidParameterError && e.message === `invalid IP address: ${bad}`);
  }
  assert.throws(() => formatIPv6(IPV6_MAX + 1n), InvalidParameterError);
  assert.throws(() => formatIPv6(-1n), InvalidParameterError);
});

test('IPv6 CIDRs: network, last address, containment, overlap', () => {
  const c = parseCidr6('FD00:1:2:3::1/64');
  assert.equal(c.network, 'fd00:1:2:3::');
  assert.equal(c.last, 'fd00:1:2:3:ffff:ffff:ffff:ffff');
  assert.equal(c.address, 'fd00:1:2:3::1');
  assert.equal(canonicalCidr6('fd00::1/8'), 'fd00::/8');
  assert.equal(canonicalCidr6('::/0'), '::/0');
  assert.equal(canonicalCidr6('::1/128'), '::1/128');
  assert.ok(cidr6Contains('fd00::/64', 'fd00::ffff:ffff:ffff:ffff'));
  assert.ok(!cidr6Contains('fd00::/64', 'fd00:0:0:1::'));
  assert.ok(cidr6Overlaps('fd00::/48', 'fd00:0:0:5::/64'));
  assert.ok(!cidr6Overlaps('fd00::/64', 'fd00:0:0:1::/64'));
  assert.ok(cidr6Inside('fd00:0:0:5::/64', 'fd00::/48'));
  assert.ok(!cidr6Inside('fd00::/47', 'fd00::/48'));
  for (const bad of ['fd00::/129', 'fd00::/-1', 'fd00::/064', 'fd00::', 'fd00::/', 'x::/64', '10.0.0.0/8']) {
    assert.throws(() => parseCidr6(bad), (e: unknown) => e instanceof Error && e.message === `invalid CIDR address: ${bad}`);
  }
  assert.deepEqual(usableRange6(parseCidr6('fd00::/127')), { first: parseIPv6('fd00::'), last: parseIPv6('fd00::1') });
  assert.equal(usableRange6(parseCidr6('fd00::/64')).first, parseIPv6('fd00::1'));
});

test('family-neutral helpers dispatch on the text and never mix families', () => {
  assert.equal(familyOf('fd00::/64'), 6);
  assert.equal(familyOf('10.0.0.0/8'), 4);
  assert.equal(tryCanonicalCidr('FD00::1/64'), 'fd00::/64');
  assert.equal(tryCanonicalCidr('10.1.2.3/8'), '10.0.0.0/8');
  assert.equal(tryCanonicalCidr('nonsense'), undefined);
  assert.ok(anyCidrContains('10.0.0.0/8', '10.1.1.1'));
  assert.ok(anyCidrContains('fd00::/8', 'fd12::1'));
  assert.ok(!anyCidrContains('::/0', '10.0.0.1'));
  assert.ok(!anyCidrOverlaps('::/0', '0.0.0.0/0'));
});

/** A random address, biased toward zero groups so that "::" shows up often. */
function randomAddress(rand: () => number): bigint {
  let n = 0n;
  for (let i = 0; i < 8; i++) {
    const g = rand() < 0.5 ? 0 : Math.floor(rand() * 0x10000);
    n = (n << 16n) | BigInt(g);
  }
  return n;
}

test('property: format and parse round-trip, the text is canonical, and the uncompressed form parses the same', () => {
  const rand = prng(6);
  for (let i = 0; i < 5000; i++) {
    const n = randomAddress(rand);
    const text = formatIPv6(n);
    assert.equal(parseIPv6(text), n, text);
    assert.equal(formatIPv6(parseIPv6(text.toUpperCase())), text);
    assert.equal(text, text.toLowerCase());
    assert.ok(!/(^|:)0[0-9a-f]/.test(text), `leading zero in ${text}`);
    assert.ok(text.split('::').length <= 2, text);
    // two zero groups in a row are always compressed, by this run or a longer one
    if (!text.includes('::')) assert.ok(!/(^|:)0:0(:|$)/.test(text), `uncompressed zeros in ${text}`);
    const full = Array.from({ length: 8 }, (_, k) => ((n >> BigInt((7 - k) * 16)) & 0xffffn).toString(16).padStart(4, '0')).join(':');
    assert.equal(parseIPv6(full), n, full);
    assert.equal(formatIPv6(parseIPv6(full)), text);
  }
});

test('property: a CIDR contains exactly the addresses between its network and last address; overlap is symmetric', () => {
  const rand = prng(64);
  for (let i = 0; i < 2000; i++) {
    const a = `${formatIPv6(randomAddress(rand))}/${Math.floor(rand() * 129)}`;
    const b = `${formatIPv6(randomAddress(rand))}/${Math.floor(rand() * 129)}`;
    const x = parseCidr6(a);
    const ip = formatIPv6(randomAddress(rand));
    const n = parseIPv6(ip);
    assert.equal(cidr6Contains(a, ip), n >= x.networkNum && n <= x.lastNum);
    assert.ok(cidr6Contains(a, x.network) && cidr6Contains(a, x.last));
    assert.equal(cidr6Overlaps(a, b), cidr6Overlaps(b, a));
    if (cidr6Inside(a, b)) assert.ok(cidr6Overlaps(a, b));
    assert.equal(cidr6Overlaps(a, b), cidr6Inside(a, b) || cidr6Inside(b, a), `${a} ${b}`);
  }
});
