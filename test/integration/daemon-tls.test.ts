import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH_BIN, DAEMON_PATH, Lab, type RunOptions, type RunResult } from '../lab/lab.js';
import { DOCKER_28 } from '../compat/docker-cli.js';
import { ok } from './helpers.js';

// The API on TCP (issue 12): -H tcp:// beside the unix socket, only with mutual TLS unless
// on loopback, as the docker CLI and berth's own CLI reach it (dockerd's and docker's
// flags, docker's environment variables); attach and exec hijack the TLS connection as
// they do the unix one. Certificates are made here with openssl; all traffic is loopback
// inside the lab's host netns.

const PORT = 2376;
const TCP = `tcp://127.0.0.1:${PORT}`;

interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** a client key pair signed by another CA, which berthd must not take */
  strangerCert: string;
  strangerKey: string;
  /** ca.pem, cert.pem, key.pem: what DOCKER_CERT_PATH names */
  certPath: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate for 127.0.0.1/localhost, a client certificate, and a stranger's CA and client. */
function makePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => join(dir, f);
  const key = (name: string) => ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', p(`${name}-key.pem`)];
  const ca = (name: string) => openssl(['req', '-x509', ...key(name), '-out', p(`${name}.pem`), '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const signed = (name: string, by: string, ext: string) => {
    openssl(['req', ...key(name), '-out', p(`${name}.csr`), '-subj', `/CN=${name}`]);
    writeFileSync(p(`${name}.ext`), ext);
    openssl(['x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${by}.pem`), '-CAkey', p(`${by}-key.pem`), '-CAcreateserial',
      '-out', p(`${name}-cert.pem`), '-days', '2', '-extfile', p(`${name}.ext`)]);
  };
  ca('ca');
  signed('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('client', 'ca', 'extendedKeyUsage=clientAuth\n');
  ca('other-ca');
  signed('stranger', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  const certPath = p('docker-cert-path');
  mkdirSync(certPath);
  copyFileSync(p('ca.pem'), join(certPath, 'ca.pem'));
  copyFileSync(p('client-cert.pem'), join(certPath, 'cert.pem'));
  copyFileSync(p('client-key.pem'), join(certPath, 'key.pem'));
  return {
    dir, ca: p('ca.pem'), serverCert: p('server-cert.pem'), serverKey: p('server-key.pem'), clientCert: p('client-cert.pem'),
    clientKey: p('client-key.pem'), strangerCert: p('stranger-cert.pem'), strangerKey: p('stranger-key.pem'), certPath,
  };
}

describe('berthd on TCP with mutual TLS', { concurrency: false }, () => {
  let lab: Lab;
  let pki: Pki;
  /** no user's ~/.docker, contexts or DOCKER_* from the machine */
  let env: Record<string, string>;
  const serverFlags = () => ['--tlsverify', '--tlscacert', pki.ca, '--tlscert', pki.serverCert, '--tlskey', pki.serverKey];
  const clientFlags = () => ['--tlsverify', '--tlscacert', pki.ca, '--tlscert', pki.clientCert, '--tlskey', pki.clientKey];
  const berthTcp = (args: string[], opts: RunOptions = {}): Promise<RunResult> => lab.inHost([BERTH_BIN, ...args], { ...opts, env: { ...env, ...opts.env } });
  const docker = (args: string[], opts: RunOptions = {}): Promise<RunResult> => lab.inHost([DOCKER_28.bin, ...args], { ...opts, env: { ...env, ...opts.env } });
  const succeeds = async (r: Promise<RunResult>, what: string): Promise<string> => {
    const res = await r;
    assert.equal(res.code, 0, `${what} failed (${res.code}): ${res.stderr}${res.stdout}`);
    return res.stdout.trim();
  };
  /** A berthd that must refuse to start: exit 2, one line on stderr, its data-root never made. */
  const refusedStart = async (args: string[], message: RegExp): Promise<void> => {
    const dataRoot = join(lab.dir, `refused-${Math.random().toString(36).slice(2)}`);
    const r = await lab.inHost(['node', DAEMON_PATH, '--data-root', dataRoot, '--exec-root', join(dataRoot, 'exec'), '--config-file', lab.configFile, ...args]);
    assert.equal(r.code, 2, `berthd ${args.join(' ')} should refuse to start: ${r.stderr}${r.stdout}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line, got: ${r.stderr}`);
    assert.ok(!existsSync(dataRoot), 'refused before the controller opened its store');
  };

  after(() => lab?.destroy());
  before(async () => {
    lab = await Lab.create({ startDaemon: false });
    pki = makePki(join(lab.dir, 'pki'));
    const home = join(lab.dir, 'home');
    mkdirSync(home);
    env = { HOME: home, DOCKER_CONFIG: join(home, '.docker'), DOCKER_CLI_HINTS: 'false', DOCKER_HOST: '', BERTH_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' };
    await lab.startDaemon(['-D', '-H', TCP, ...serverFlags()]);
  });

  test('the unix socket and the TLS port are served side by side', async () => {
    assert.match(lab.daemonLog(), new RegExp(`API listen on unix://${lab.socket}`));
    assert.match(lab.daemonLog(), /API listen on tcp:\/\/127\.0\.0\.1:2376 \(mutual TLS\)/);
    assert.equal((await lab.api('GET', '/_ping')).text, 'OK');
  });

  test('the docker CLI with --tlsverify and its certificates creates, lists and inspects networks', async () => {
    const d = (args: string[]) => succeeds(docker([...clientFlags(), '-H', TCP, ...args]), `docker ${args.join(' ')}`);
    const id = await d(['network', 'create', '--subnet', '172.30.0.0/24', 'over_tls']);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.match(await d(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']), /^over_tls bridge$/m);
    assert.equal(await d(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', 'over_tls']), '172.30.0.0/24');
    // the same network seen through the unix socket: one daemon behind both
    assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{.Id}}', 'over_tls']), id);
  });

  test('exec and attach hijack the TLS connection: output, stdin and its end, the exit code', async () => {
    await ok(lab, ['run', '-d', '--name', 'tls_box', '--network', 'over_tls', '--', 'sleep', '600']);
    const d = (args: string[], opts?: RunOptions) => docker([...clientFlags(), '-H', TCP, ...args], opts);
    assert.equal(await succeeds(d(['exec', 'tls_box', 'sh', '-c', 'echo out; echo err >&2']), 'docker exec'), 'out');
    // stdin through the hijacked TLS stream, and its close (cat ends only when it sees EOF)
    assert.equal(await succeeds(d(['exec', '-i', 'tls_box', 'cat'], { input: 'typed over tls\n' }), 'docker exec -i'), 'typed over tls');
    assert.equal((await d(['exec', 'tls_box', 'sh', '-c', 'exit 7'])).code, 7);
    // berth's CLI: run (attach before start) and exec, over the same port
    const b = (args: string[], opts?: RunOptions) => succeeds(berthTcp(['-H', TCP, ...clientFlags(), ...args], opts), `berth ${args.join(' ')}`);
    assert.equal(await b(['run', '--name', 'tls_said', '--', 'sh', '-c', 'echo attached over tls']), 'attached over tls');
    assert.equal(await b(['exec', '-i', 'tls_box', 'cat'], { input: 'berth stdin\n' }), 'berth stdin');
    // a streamed answer (logs) over the same connection kind
    assert.equal(await b(['logs', 'tls_said']), 'attached over tls');
  });

  test("berth's CLI takes docker's variables: DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH (and BERTH_HOST first)", async () => {
    const viaEnv = { DOCKER_HOST: TCP, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: pki.certPath };
    assert.match(await succeeds(berthTcp(['network', 'ls'], { env: viaEnv }), 'berth network ls'), /over_tls/);
    assert.match(await succeeds(berthTcp(['network', 'ls'], { env: { ...viaEnv, DOCKER_HOST: 'unix:///nowhere', BERTH_HOST: TCP } }), 'berth with BERTH_HOST'), /over_tls/);
    // and docker's own reading of the same variables agrees
    assert.match(await succeeds(docker(['network', 'ls'], { env: viaEnv }), 'docker network ls'), /over_tls/);
  });

  test('a client without a certificate, or with one from another CA, is refused at the handshake', async () => {
    // no --tlscert: none sent (the default ~/.docker/cert.pem is not there)
    const bare = await berthTcp(['-H', TCP, '--tlsverify', '--tlscacert', pki.ca, 'network', 'ls']);
    assert.notEqual(bare.code, 0);
    assert.match(bare.stderr, /^error during connect to tcp:\/\/127\.0\.0\.1:2376: TLS: .*certificate/);
    assert.equal(bare.stderr.trim().split('\n').length, 1, bare.stderr);
    assert.doesNotMatch(bare.stdout, /over_tls/);
    const dockerBare = await docker(['--tlsverify', '--tlscacert', pki.ca, '-H', TCP, 'network', 'ls']);
    assert.notEqual(dockerBare.code, 0);
    assert.match(dockerBare.stderr, /certificate required|bad certificate/);
    const stranger = await berthTcp(['-H', TCP, '--tlsverify', '--tlscacert', pki.ca, '--tlscert', pki.strangerCert, '--tlskey', pki.strangerKey, 'network', 'ls']);
    assert.notEqual(stranger.code, 0);
    assert.match(stranger.stderr, /^error during connect to tcp:\/\/127\.0\.0\.1:2376: TLS: the daemon closed the connection/);
    const dockerStranger = await docker(['--tlsverify', '--tlscacert', pki.ca, '--tlscert', pki.strangerCert, '--tlskey', pki.strangerKey, '-H', TCP, 'network', 'ls']);
    // node checks a client's chain after the handshake and closes without an alert: docker says EOF
    assert.notEqual(dockerStranger.code, 0);
    assert.doesNotMatch(dockerStranger.stdout, /over_tls/);
    // and berth's client checks the server: a CA that did not sign berthd's certificate
    const distrust = await berthTcp(['-H', TCP, '--tlsverify', '--tlscacert', join(pki.dir, 'other-ca.pem'), '--tlscert', pki.clientCert, '--tlskey', pki.clientKey, 'network', 'ls']);
    assert.notEqual(distrust.code, 0);
    assert.match(distrust.stderr, /TLS: .*(unable to verify|self.signed|certificate)/);
  });

  test('plain HTTP to the TLS port gets no answer', async () => {
    const plain = await berthTcp(['-H', TCP, 'network', 'ls']);
    assert.notEqual(plain.code, 0);
    assert.doesNotMatch(plain.stdout, /over_tls|NETWORK ID/);
    const curl = await lab.inHost(['curl', '-sS', '--max-time', '10', `http://127.0.0.1:${PORT}/_ping`]);
    assert.notEqual(curl.code, 0);
    assert.notEqual(curl.stdout, 'OK');
    // the refused handshakes above are the clients' business: a debug line each (-D), no error, no stack trace
    assert.match(lab.daemonLog(), /debug: TLS handshake with 127\.0\.0\.1:\d+ refused: \S+\n/);
    assert.doesNotMatch(lab.daemonLog(), /Error|\n\s+at /);
  });

  test('a TCP address other machines can reach is refused without --tlsverify; bad key pairs refuse to start', async () => {
    await refusedStart(['-H', 'tcp://0.0.0.0:2377'], /^berthd: refusing to listen on tcp:\/\/0\.0\.0\.0:2377 with plain TCP \(no --tlsverify\): .*--tlsverify/);
    await refusedStart(['-H', `tcp://${lab.hostUplinkAddr}:2377`], new RegExp(`refusing to listen on tcp://${lab.hostUplinkAddr.replace(/\./g, '\\.')}:2377`));
    await refusedStart(['-H', 'tcp://[::]:2377', '--tls', '--tlsverify=false', '--tlscert', pki.serverCert, '--tlskey', pki.serverKey], /refusing to listen on tcp:\/\/\[::\]:2377 with TLS without client certificates/);
    await refusedStart(['-H', TCP, '--tlsverify', '--tlscacert', pki.ca, '--tlscert', join(pki.dir, 'nope.pem'), '--tlskey', pki.serverKey], /^berthd: cannot read --tlscert .*nope\.pem: ENOENT$/m);
    await refusedStart(['-H', TCP, '--tlsverify', '--tlscacert', join(pki.dir, 'nope-ca.pem'), '--tlscert', pki.serverCert, '--tlskey', pki.serverKey], /cannot read --tlscacert .*nope-ca\.pem: ENOENT/);
    await refusedStart(['-H', TCP, '--tlsverify', '--tlscacert', pki.ca, '--tlscert', pki.serverCert, '--tlskey', pki.clientKey], /cannot use --tlscert .*server-cert\.pem with --tlskey .*client-key\.pem/);
    await refusedStart(['-H', TCP, '--tlsverify', '--tlscacert', pki.serverKey, '--tlscert', pki.serverCert, '--tlskey', pki.serverKey], /--tlscacert .*server-key\.pem holds no PEM certificate/);
    // the defaults (/etc/berth/tls/…) are not there on this machine either
    await refusedStart(['-H', TCP, '--tlsverify'], /cannot read --tlscert \/etc\/berth\/tls\/cert\.pem/);
  });

  test('with mutual TLS every address may be served (the wildcard here, reached on loopback)', async () => {
    await lab.restartDaemon(['-H', `tcp://0.0.0.0:${PORT}`, ...serverFlags()]);
    assert.match(lab.daemonLog(), /API listen on tcp:\/\/0\.0\.0\.0:2376 \(mutual TLS\)/);
    assert.match(await succeeds(docker([...clientFlags(), '-H', TCP, 'network', 'ls']), 'docker network ls'), /over_tls/);
    assert.doesNotMatch(lab.daemonLog(), /WARNING/);
  });

  test('plain TCP on loopback is served, with a warning in the log', async () => {
    await lab.restartDaemon(['-H', 'tcp://127.0.0.1:2375']);
    assert.match(lab.daemonLog(), /WARNING: API listen on tcp:\/\/127\.0\.0\.1:2375 with plain TCP \(no --tlsverify\)/);
    assert.match(await succeeds(berthTcp(['-H', 'tcp://127.0.0.1:2375', 'network', 'ls']), 'berth over plain loopback TCP'), /over_tls/);
    assert.match(await succeeds(docker(['-H', 'tcp://127.0.0.1:2375', 'network', 'ls']), 'docker over plain loopback TCP'), /over_tls/);
  });
});
