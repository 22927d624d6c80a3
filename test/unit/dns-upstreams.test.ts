import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUpstream } from '../../src/dns/upstream.js';
import { hostNameservers, reachableNameservers } from '../../src/runtime/etc-files.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The path from the host's resolv.conf (or --dns) to the resolver's upstreams, for both
// families: an IPv6 nameserver must survive every step.

const HOST_RESOLV_CONF = [
  '# written by a DHCP client',
  'nameserver 127.0.0.53',
  'nameserver ::1',
  'nameserver 192.0.2.53',
  'nameserver 2001:db8::53',
  'nameserver fe80::1%eth0',
  'search example.org',
].join('\n');

test('the host\'s IPv6 nameservers are kept as upstreams (localhost ones of either family are not)', () => {
  assert.deepEqual(reachableNameservers(HOST_RESOLV_CONF), ['192.0.2.53', '2001:db8::53', 'fe80::1%eth0']);
  const dir = mkdtempSync(join(tmpdir(), 'berth-dns-up-'));
  try {
    writeFileSync(join(dir, 'resolv.conf'), HOST_RESOLV_CONF);
    assert.deepEqual(hostNameservers(join(dir, 'resolv.conf')), ['192.0.2.53', '2001:db8::53', 'fe80::1%eth0']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every kept nameserver is an upstream the resolver uses, with its family\'s address', () => {
  const ups = reachableNameservers(HOST_RESOLV_CONF).map(parseUpstream);
  assert.deepEqual(ups, [
    { host: '192.0.2.53', port: 53 },
    { host: '2001:db8::53', port: 53 },
    { host: 'fe80::1%eth0', port: 53 },
  ]);
});
