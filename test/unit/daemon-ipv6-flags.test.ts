import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseDaemonFlags } from '../../src/daemon/flags.js';

// berthd's IPv6 flags (dockerd's names and meanings): parsed and kept in DaemonConfig.

const dir = mkdtempSync(join(tmpdir(), 'berth-v6flags-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('--ipv6, --fixed-cidr-v6, --ip6tables and an IPv6 --default-address-pool land in the config', () => {
  const off = parseDaemonFlags([]).config;
  assert.deepEqual([off.ipv6, off.fixedCidrV6, off.ip6tables], [false, undefined, true]);
  const c = parseDaemonFlags(['--ipv6', '--fixed-cidr-v6', 'fd00:1::/64', '--ip6tables=false',
    '--default-address-pool', 'base=fd99::/48,size=64', '--default-address-pool', 'base=10.10.0.0/16,size=24']).config;
  assert.deepEqual([c.ipv6, c.fixedCidrV6, c.ip6tables], [true, 'fd00:1::/64', false]);
  assert.deepEqual(c.defaultAddressPools, [{ base: 'fd99::/48', size: 64 }, { base: '10.10.0.0/16', size: 24 }]);
});

test('bad IPv6 flags are refused in one line', () => {
  assert.throws(() => parseDaemonFlags(['--fixed-cidr-v6', 'fd00::zz/64']), /invalid CIDR address: fd00::zz\/64/);
  assert.throws(() => parseDaemonFlags(['--fixed-cidr-v6', '10.0.0.0/8']), /invalid CIDR address/);
  assert.throws(() => parseDaemonFlags(['--default-address-pool', 'base=fd00::/48,size=32']), /size 32 must be between 48 and 128/);
});

test("daemon.json's ipv6, fixed-cidr-v6 and ip6tables keys set what their flags set", () => {
  const p = join(dir, 'daemon.json');
  writeFileSync(p, JSON.stringify({ ipv6: true, 'fixed-cidr-v6': 'fd00:2::/64', ip6tables: false, 'default-address-pools': [{ base: 'fd98::/48', size: 64 }] }));
  const c = parseDaemonFlags(['--config-file', p]).config;
  assert.deepEqual([c.ipv6, c.fixedCidrV6, c.ip6tables, c.defaultAddressPools], [true, 'fd00:2::/64', false, [{ base: 'fd98::/48', size: 64 }]]);
});
