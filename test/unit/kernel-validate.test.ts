import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertCidr, assertIfName, assertMac, assertNetnsPath, assertSysctlKey,
} from '../../src/kernel/validate.js';
import { InvalidParameterError } from '../../src/util/errors.js';

// What may reach the kernel: names, MACs, CIDRs, paths, sysctl keys.

test('interface names must be 1-15 bytes of [a-zA-Z0-9_.-] and not . or ..', () => {
  for (const ok of ['eth0', 'br-1a2b3c4d5e6f', 'veth1a2b3c4', 'a', 'x.y_z-1', '123456789012345']) assertIfName(ok);
  for (const bad of ['', '.', '..', 'a b', 'a/b', 'a:b', '1234567890123456', 'ünï']) {
    assert.throws(() => assertIfName(bad), InvalidParameterError, bad);
  }
});

test('MACs must be six colon-separated hex octets of a unicast address', () => {
  assertMac('02:42:ac:11:00:02');
  assertMac('02:42:AC:11:00:02');
  for (const bad of ['02:42:ac:11:00', '02-42-ac-11-00-02', '01:00:5e:00:00:01', 'zz:42:ac:11:00:02']) {
    assert.throws(() => assertMac(bad), InvalidParameterError, bad);
  }
});

test('CIDRs must carry a valid address and prefix for their family', () => {
  for (const ok of ['10.0.0.1/8', '0.0.0.0/0', 'fd00::1/64', '::/0']) assertCidr(ok);
  for (const bad of ['10.0.0.1', '10.0.0.1/33', '10.0.0.256/8', 'fd00::1/129', 'x/8', '10.0.0.1/-1']) {
    assert.throws(() => assertCidr(bad), InvalidParameterError, bad);
  }
});

test('netns paths must be absolute without .. and sysctl keys cannot escape /proc/sys', () => {
  assertNetnsPath('/run/berth/netns/abc');
  assert.throws(() => assertNetnsPath('relative/x'), InvalidParameterError);
  assert.throws(() => assertNetnsPath('/run/../etc/x'), InvalidParameterError);
  assertSysctlKey('net.ipv4.ip_forward');
  assertSysctlKey('net/ipv4/conf/eth0.1/forwarding');
  for (const bad of ['net/../../etc/passwd', 'net..ipv4', '/net/ipv4', 'net.ipv4 x']) {
    assert.throws(() => assertSysctlKey(bad), InvalidParameterError, bad);
  }
});
