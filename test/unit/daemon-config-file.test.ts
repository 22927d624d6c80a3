import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDaemonFlags } from '../../src/daemon/flags.js';

// berthd's daemon.json: dockerd's keys, each value checked by its flag's own parser, a
// directive given both as a flag and in the file refused, --validate.

const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: unknown): string {
  const p = join(dir, `daemon${n++}.json`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}
const MAIN = fileURLToPath(new URL('../../src/daemon/main.js', import.meta.url));

test("dockerd's keys set what their flags set", () => {
  const f = parseDaemonFlags(['--config-file', file({
    bip: '172.30.0.1/16', mtu: 1400, iptables: false, 'ip-forward': false, icc: false, ip: '127.0.0.1',
    dns: ['192.0.2.53'], 'dns-search': ['corp.example'], 'dns-opts': ['ndots:2'],
    'default-address-pools': [{ base: '10.10.0.0/16', size: 24 }], 'data-root': '/srv/berth', group: 'adm',
    hosts: ['unix:///run/b.sock'], debug: true, 'neigh-gc-thresh3': 'auto',
  })]);
  const c = f.config;
  assert.deepEqual([c.bip, c.mtu, c.iptables, c.ipForward, c.icc, c.ip], ['172.30.0.1/16', 1400, false, false, false, '127.0.0.1']);
  assert.deepEqual([c.dns, c.dnsSearch, c.dnsOptions], [['192.0.2.53'], ['corp.example'], ['ndots:2']]);
  assert.deepEqual(c.defaultAddressPools, [{ base: '10.10.0.0/16', size: 24 }]);
  assert.deepEqual([c.dataRoot, f.group, f.hosts, f.debug, c.neighGcThresh3], ['/srv/berth', 'adm', [{ kind: 'unix', path: '/run/b.sock' }], true, 'auto']);
});

test("the API's keys: several hosts, TLS as dockerd's, and berth's log file", () => {
  const f = parseDaemonFlags(['--config-file', file({
    hosts: ['unix:///run/b.sock', 'tcp://127.0.0.1:2376', 'tcp://[::1]'], tlsverify: true,
    tlscacert: '/c/ca.pem', tlscert: '/c/cert.pem', tlskey: '/c/key.pem',
    'log-file': '/var/log/berthd.log', 'log-max-size': '1m', 'log-max-files': 5,
  })]);
  assert.deepEqual(f.hosts, [{ kind: 'unix', path: '/run/b.sock' }, { kind: 'tcp', address: '127.0.0.1', port: 2376 }, { kind: 'tcp', address: '::1', port: 2376 }]);
  assert.deepEqual(f.tls, { tls: true, verify: true, caFile: '/c/ca.pem', certFile: '/c/cert.pem', keyFile: '/c/key.pem' });
  assert.deepEqual(f.log, { file: '/var/log/berthd.log', maxBytes: 1024 * 1024, maxFiles: 5 });
  // a tlsverify in the file and on the command line is refused like any other directive
  assert.throws(() => parseDaemonFlags(['--config-file', file({ tlsverify: true }), '--tlsverify']), /specified both as a flag and in the configuration file: tlsverify/);
});

test("-H and the TLS flags read as dockerd's: several hosts, --tls meaning verify unless --tlsverify=false", () => {
  const none = join(dir, 'none-such.json');
  const p = (...args: string[]) => parseDaemonFlags(['--config-file', none, ...args]);
  // the default file may be missing; a named one may not: name the default instead
  assert.throws(() => p());
  const d = (...args: string[]) => parseDaemonFlags(args.concat(['--config-file', file({})]));
  assert.deepEqual(d().hosts, [{ kind: 'unix', path: '/run/berth/berth.sock' }]);
  assert.deepEqual(d('-H', 'tcp://:4000', '-H', 'fd://').hosts, [{ kind: 'tcp', address: '127.0.0.1', port: 4000 }, { kind: 'fd' }]);
  assert.deepEqual(d('-H', 'tcp://10.0.0.1').hosts, [{ kind: 'tcp', address: '10.0.0.1', port: 2375 }]);
  assert.deepEqual(d('--tls', '-H', 'tcp://10.0.0.1').hosts, [{ kind: 'tcp', address: '10.0.0.1', port: 2376 }]);
  assert.deepEqual([d('--tls').tls.tls, d('--tls').tls.verify], [true, true]);
  assert.deepEqual([d('--tls', '--tlsverify=false').tls.tls, d('--tls', '--tlsverify=false').tls.verify], [true, false]);
  assert.deepEqual([d('--tlsverify').tls.tls, d().tls.tls, d().tls.caFile], [true, false, '/etc/berth/tls/ca.pem']);
  assert.throws(() => d('-H', 'tcp://example.com:2376'), /give an IP address, not a name/);
  assert.throws(() => d('-H', 'tcp://127.0.0.1:99999'), /port 99999 is not 1-65535/);
  assert.throws(() => d('-H', 'unix://relative.sock'), /absolute path/);
});

test('flags not named in the file keep working beside it', () => {
  const f = parseDaemonFlags(['--config-file', file({ mtu: 1450 }), '--bip', '172.31.0.1/16']);
  assert.deepEqual([f.config.mtu, f.config.bip], [1450, '172.31.0.1/16']);
});

test('a directive both in the file and as a flag is an error naming both values, as dockerd says it', () => {
  const p = file({ bip: '10.0.0.1/16', mtu: 1400 });
  assert.throws(() => parseDaemonFlags(['--config-file', p, '--bip', '172.17.0.1/16']),
    new RegExp(`unable to configure berthd with file ${p}: the following directives are specified both as a flag and in the configuration file: bip: \\(from flag: 172\\.17\\.0\\.1/16, from file: "10\\.0\\.0\\.1/16"\\)`));
});

test('unknown directives, wrong types, bad values and unreadable files are refused', () => {
  assert.throws(() => parseDaemonFlags(['--config-file', file({ foo: 1, bip: '10.0.0.1/16' })]), /the following directives don't match any configuration option: foo/);
  assert.throws(() => parseDaemonFlags(['--config-file', file({ mtu: '1400' })]), /"mtu" must be a number, not "1400"/);
  assert.throws(() => parseDaemonFlags(['--config-file', file({ iptables: 'no' })]), /"iptables" must be true or false/);
  assert.throws(() => parseDaemonFlags(['--config-file', file({ dns: '1.1.1.1' })]), /"dns" must be a list of strings/);
  assert.throws(() => parseDaemonFlags(['--config-file', file({ hosts: ['unix:///a', 'ssh://b'] })]), /unsupported -H ssh:\/\/b/);
  assert.throws(() => parseDaemonFlags(['--config-file', file({ tlsverify: 'yes' })]), /"tlsverify" must be true or false/);
  assert.throws(() => parseDaemonFlags(['--config-file', file({ 'log-max-size': '10 parsecs' })]), /is not a size/);
  assert.throws(() => parseDaemonFlags(['--config-file', file({ bip: 'x' })]), /invalid CIDR address: x/);
  assert.throws(() => parseDaemonFlags(['--config-file', file({ mtu: 20 })]), /invalid MTU "20"/);
  assert.throws(() => parseDaemonFlags(['--config-file', file('{"bip": ')]), /unable to configure berthd with file .*: /);
  assert.throws(() => parseDaemonFlags(['--config-file', join(dir, 'none.json')]), /unable to read the configuration file/);
});

test('berthd --validate says "configuration OK", or one line and a non-zero exit', () => {
  const good = spawnSync(process.execPath, [MAIN, '--validate', '--config-file', file({ mtu: 1400 })], { encoding: 'utf8' });
  assert.equal(good.status, 0, good.stderr);
  assert.equal(good.stdout, 'configuration OK\n');
  const bad = spawnSync(process.execPath, [MAIN, '--validate', '--config-file', file({ mtu: 1400 }), '--mtu', '1500'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /mtu: \(from flag: 1500, from file: 1400\)/);
});
