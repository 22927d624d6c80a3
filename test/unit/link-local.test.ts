import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinkLocalIps, linkLocalCidr } from '../../src/util/link-local.js';

test('link-local addresses of both families pass and get their scope\'s prefix', () => {
  assert.doesNotThrow(() => checkLinkLocalIps(['169.254.7.7', 'fe80::7', 'FEBF::1']));
  assert.equal(linkLocalCidr('169.254.7.7'), '169.254.7.7/16');
  assert.equal(linkLocalCidr('fe80::7'), 'fe80::7/64');
});

test('an address that does not parse is refused with the whole list, as dockerd words it', () => {
  assert.throws(() => checkLinkLocalIps(['169.254.1.1', 'bogus']), { status: 400, message: 'Invalid link-local IP address: [169.254.1.1 bogus]' });
  assert.throws(() => checkLinkLocalIps(['169.254.1.256']), { status: 400, message: 'Invalid link-local IP address: [169.254.1.256]' });
});

test('an address outside 169.254/16 and fe80::/10 is refused by itself', () => {
  assert.throws(() => checkLinkLocalIps(['169.254.1.1', '10.99.0.1']), { status: 400, message: 'invalid link local IP address: 10.99.0.1' });
  assert.throws(() => checkLinkLocalIps(['fec0::1']), { message: 'invalid link local IP address: fec0::1' });
  assert.throws(() => checkLinkLocalIps(['::1']), { message: 'invalid link local IP address: ::1' });
});
