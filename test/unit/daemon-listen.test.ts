import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeHost, isLoopback, parseHost } from '../../src/daemon/hosts.js';
import { checkListenPolicy, tlsFlags } from '../../src/daemon/tls.js';
import { parseClientHost } from '../../src/cli/client.js';

// Which TCP addresses berthd may serve, and how: mutual TLS anywhere, plain TCP or TLS
// without client certificates on loopback only (with a warning).

test('loopback is 127/8 and ::1 (also IPv4-mapped); the wildcard and other addresses are not', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
  for (const a of ['0.0.0.0', '::', '10.0.0.1', '198.51.100.2', 'fe80::1', '::ffff:10.0.0.1', '::11']) assert.ok(!isLoopback(a), a);
});

test('without --tlsverify a non-loopback TCP host is refused; on loopback it is a warning; with it, nothing', () => {
  const tcp = (v: string) => parseHost(v, false);
  const plain = tlsFlags({});
  const tlsOnly = tlsFlags({ tls: true, tlsverify: false });
  const mutual = tlsFlags({ tlsverify: true });
  assert.throws(() => checkListenPolicy([tcp('tcp://0.0.0.0:2375')], plain), /^Error: refusing to listen on tcp:\/\/0\.0\.0\.0:2375 with plain TCP/);
  assert.throws(() => checkListenPolicy([tcp('tcp://[::]:2376')], tlsOnly), /refusing to listen on tcp:\/\/\[::\]:2376 with TLS without client certificates/);
  assert.deepEqual(checkListenPolicy([tcp('tcp://0.0.0.0:2376'), tcp('tcp://[::]:2376')], mutual), []);
  assert.match(checkListenPolicy([tcp('tcp://127.0.0.1:2375')], plain).join(), /plain TCP .* root on this host/);
  assert.deepEqual(checkListenPolicy([parseHost('unix:///run/b.sock', false), parseHost('fd://', false)], plain), []);
});

test('host forms: brackets for IPv6, dockerd\'s default ports, localhost for no address', () => {
  assert.equal(describeHost(parseHost('tcp://[::1]:99', true)), 'tcp://[::1]:99');
  assert.equal(describeHost(parseHost('tcp://', true)), 'tcp://127.0.0.1:2376');
  assert.equal(describeHost(parseHost('tcp://localhost', false)), 'tcp://127.0.0.1:2375');
  assert.deepEqual(parseClientHost('tcp://[::1]', { verify: true }), { host: '::1', port: 2376, tls: { verify: true } });
  assert.deepEqual(parseClientHost('tcp://example.org:4000', undefined), { host: 'example.org', port: 4000, tls: undefined });
  assert.throws(() => parseClientHost('ssh://x', undefined), /unsupported host ssh:\/\/x/);
});
