import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { clientFor } from '../../src/cli/connection.js';

// How the CLI picks its daemon and TLS files, as the docker CLI does (the handshakes
// themselves are proven against berthd in test/integration/daemon-tls.test.ts).

const dir = mkdtempSync(join(tmpdir(), 'berth-certs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `${f}\n`);
const empty = mkdtempSync(join(dir, 'empty-'));

test('-H, then BERTH_HOST, then DOCKER_HOST (an empty one is unset), then the default socket', () => {
  assert.equal(clientFor({ host: 'unix:///a.sock' }, { BERTH_HOST: 'unix:///b.sock' }).host, 'unix:///a.sock');
  assert.equal(clientFor({}, { BERTH_HOST: 'unix:///b.sock', DOCKER_HOST: 'unix:///c.sock' }).host, 'unix:///b.sock');
  assert.equal(clientFor({}, { BERTH_HOST: '', DOCKER_HOST: 'unix:///c.sock' }).host, 'unix:///c.sock');
  assert.deepEqual(clientFor({}, {}).transport, { path: '/run/berth/berth.sock' });
  assert.deepEqual(clientFor({ host: 'tcp://127.0.0.1' }, {}).transport, { host: '127.0.0.1', port: 2375, tls: undefined });
});

test('DOCKER_TLS_VERIFY and DOCKER_CERT_PATH give TLS with the three files; --tlsverify alone wants a CA', () => {
  const c = clientFor({}, { DOCKER_HOST: 'tcp://10.0.0.1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
  assert.deepEqual(c.transport, { host: '10.0.0.1', port: 2376, tls: { verify: true, ca: Buffer.from('ca.pem\n'), cert: Buffer.from('cert.pem\n'), key: Buffer.from('key.pem\n') } });
  // no default client certificate: none is sent (berthd with --tlsverify will refuse it)
  const bare = clientFor({ host: 'tcp://10.0.0.1:4000', tlsverify: true, tlscacert: join(dir, 'ca.pem') }, { DOCKER_CERT_PATH: empty });
  assert.deepEqual(bare.transport, { host: '10.0.0.1', port: 4000, tls: { verify: true, ca: Buffer.from('ca.pem\n'), cert: undefined, key: undefined } });
  assert.throws(() => clientFor({ host: 'tcp://10.0.0.1', tlsverify: true }, { DOCKER_CERT_PATH: empty }), /could not read --tlscacert .*ca\.pem: ENOENT/);
  assert.throws(() => clientFor({ host: 'tcp://10.0.0.1', tlsverify: true, tlscert: join(dir, 'nope.pem') }, { DOCKER_CERT_PATH: dir }), /could not read --tlscert .*nope\.pem: ENOENT/);
  assert.throws(() => clientFor({ host: 'tcp://10.0.0.1', tls: true, tlscert: join(dir, 'cert.pem') }, { DOCKER_CERT_PATH: empty }), /--tlscert and --tlskey go together/);
  // --tls alone: TLS without checking the daemon; TLS flags say nothing to a unix socket
  assert.equal((clientFor({ host: 'tcp://10.0.0.1', tls: true }, { DOCKER_CERT_PATH: empty }).transport as { tls: { verify: boolean } }).tls.verify, false);
  assert.deepEqual(clientFor({ host: 'unix:///a.sock', tlsverify: true }, {}).transport, { path: '/a.sock' });
});
