// Docker's plugin protocol, berth's side: discovery in folders and the wire, against
// real unix-socket HTTP servers in a temp dir (no lab needed: nothing networks here).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PluginClient, PluginError } from '../../src/plugins/client.js';
import { discover, parseAddress } from '../../src/plugins/discovery.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-plugins-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A plugin answering `answers[method]` (status, body); records the calls. */
function serve(path: string, answers: Record<string, [number, string] | 'hang'>): Promise<{ server: Server; calls: { method: string; body: string; accept?: string }[] }> {
  const calls: { method: string; body: string; accept?: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const method = (req.url ?? '').slice(1);
      calls.push({ method, body, accept: req.headers.accept });
      const a = answers[method] ?? [404, '{"Err":"no such method"}'];
      if (a === 'hang') return;
      res.writeHead(a[0]);
      res.end(a[1]);
    });
  });
  return new Promise((resolve) => server.listen(path, () => resolve({ server, calls })));
}

test('a spec file holds unix:// or tcp:// addresses; anything else is said', () => {
  assert.deepEqual(parseAddress('unix:///run/x.sock', 'x.spec'), { kind: 'unix', path: '/run/x.sock' });
  assert.deepEqual(parseAddress('tcp://10.0.0.1:8080', 'x.spec'), { kind: 'tcp', host: '10.0.0.1', port: 8080 });
  assert.throws(() => parseAddress('ftp://x', 'x.spec'), /x\.spec: "ftp:\/\/x" is not unix:\/\/\/PATH or tcp:\/\/HOST:PORT/);
  assert.throws(() => parseAddress('tcp://h:0', 'x.spec'), /is not/);
});

test('discovery: a socket, NAME/NAME.sock, a .spec, a .json; a socket wins; a name with / finds nothing', async () => {
  const sockets = join(dir, 'sockets');
  const specs = join(dir, 'specs');
  mkdirSync(join(sockets, 'nested'), { recursive: true });
  mkdirSync(specs, { recursive: true });
  const a = await serve(join(sockets, 'flat.sock'), {});
  const b = await serve(join(sockets, 'nested', 'nested.sock'), {});
  writeFileSync(join(specs, 'flat.spec'), 'tcp://10.0.0.1:1\n');
  writeFileSync(join(specs, 'bytcp.spec'), 'tcp://10.0.0.2:8080\n');
  writeFileSync(join(specs, 'byjson.json'), JSON.stringify({ Name: 'byjson', Addr: 'unix:///run/byjson.sock' }));
  const dirs = { sockets: [sockets], specs: [specs] };
  try {
    assert.deepEqual(await discover('flat', dirs), { kind: 'unix', path: join(sockets, 'flat.sock') });
    assert.deepEqual(await discover('nested', dirs), { kind: 'unix', path: join(sockets, 'nested', 'nested.sock') });
    assert.deepEqual(await discover('bytcp', dirs), { kind: 'tcp', host: '10.0.0.2', port: 8080 });
    assert.deepEqual(await discover('byjson', dirs), { kind: 'unix', path: '/run/byjson.sock' });
    assert.equal(await discover('absent', dirs), undefined);
    assert.equal(await discover('../specs/bytcp', dirs), undefined);
  } finally {
    a.server.close();
    b.server.close();
  }
});

test('the wire: media type, empty body for no argument, Err and Error fields, a 404 on an optional method', async () => {
  const path = join(dir, 'wire.sock');
  const p = await serve(path, {
    'Plugin.Activate': [200, '{"Implements":["NetworkDriver"]}'],
    'NetworkDriver.CreateNetwork': [200, '{"Err":"no room"}'],
    'IpamDriver.RequestPool': [200, '{"Error":"pool taken"}'],
    'NetworkDriver.Join': [500, 'plain text failure'],
    'NetworkDriver.Leave': [200, 'not json'],
  });
  const c = new PluginClient('wire', { kind: 'unix', path });
  try {
    assert.deepEqual(await c.call('Plugin.Activate', undefined), { Implements: ['NetworkDriver'] });
    assert.deepEqual(p.calls[0], { method: 'Plugin.Activate', body: '', accept: 'application/vnd.docker.plugins.v1.2+json' });
    await assert.rejects(c.call('NetworkDriver.CreateNetwork', { NetworkID: 'n' }), /^PluginError: plugin wire: NetworkDriver\.CreateNetwork: no room$/);
    assert.equal(p.calls[1]!.body, '{"NetworkID":"n"}');
    await assert.rejects(c.call('IpamDriver.RequestPool', {}), /plugin wire: IpamDriver\.RequestPool: pool taken/);
    await assert.rejects(c.call('NetworkDriver.Join', {}), /plugin wire: NetworkDriver\.Join: plain text failure/);
    await assert.rejects(c.call('NetworkDriver.Leave', {}), /the answer is not a JSON object/);
    assert.equal(await c.call('NetworkDriver.ProgramExternalConnectivity', {}, { optional: true }), undefined);
    await assert.rejects(c.call('NetworkDriver.ProgramExternalConnectivity', {}), (e) => e instanceof PluginError && /no such method/.test(e.message));
  } finally {
    p.server.close();
  }
});

test('a call has one deadline: a plugin that hangs is said by name; one that appears late is waited for and activated again', async () => {
  const path = join(dir, 'late.sock');
  const hang = await serve(path, { 'NetworkDriver.Join': 'hang' });
  const c = new PluginClient('late', { kind: 'unix', path }, 300);
  const t0 = Date.now();
  await assert.rejects(c.call('NetworkDriver.Join', {}), /plugin late did not answer NetworkDriver\.Join within 300 ms/);
  assert.ok(Date.now() - t0 < 2_000);
  hang.server.closeAllConnections();
  await new Promise((r) => hang.server.close(r));
  // nothing listens now; it comes back 150 ms later: the call waits, and the plugin is activated first
  let back: Awaited<ReturnType<typeof serve>> | undefined;
  setTimeout(() => void serve(path, { 'Plugin.Activate': [200, '{"Implements":["NetworkDriver"]}'], 'NetworkDriver.Leave': [200, '{}'] }).then((s) => (back = s)), 150);
  try {
    assert.deepEqual(await new PluginClient('late', { kind: 'unix', path }, 3_000).call('NetworkDriver.Leave', {}), {});
    assert.deepEqual(back!.calls.map((x) => x.method), ['Plugin.Activate', 'NetworkDriver.Leave']);
    await assert.rejects(new PluginClient('gone', { kind: 'unix', path: join(dir, 'never.sock') }, 200).call('NetworkDriver.Leave', {}), /plugin gone: NetworkDriver\.Leave: nothing answers at unix:\/\//);
  } finally {
    back?.server.close();
  }
});

test('a .json spec with TLSConfig: the plugin over HTTPS, its certificate checked against CAFile, a client certificate sent', async () => {
  const tls = join(dir, 'tls');
  mkdirSync(tls);
  const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: tls, stdio: 'pipe' });
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=lab ca']);
  for (const who of ['server', 'client']) {
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who}`]);
    writeFileSync(join(tls, `${who}.ext`), who === 'server' ? 'subjectAltName=IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n');
    ssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`, '-days', '2', '-extfile', `${who}.ext`]);
  }
  const read = (f: string) => readFileSync(join(tls, f));
  const seen: (string | undefined)[] = [];
  const server = createHttpsServer({ key: read('server.key'), cert: read('server.pem'), ca: read('ca.pem'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    seen.push(String((req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN));
    res.writeHead(200);
    res.end('{"Implements":["NetworkDriver"]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const specs = join(dir, 'tls-specs');
    mkdirSync(specs);
    const spec = (tlsConfig: unknown) => writeFileSync(join(specs, 'secure.json'), JSON.stringify({ Name: 'secure', Addr: `https://127.0.0.1:${port}`, TLSConfig: tlsConfig }));
    spec({ CAFile: join(tls, 'ca.pem'), CertFile: join(tls, 'client.pem'), KeyFile: join(tls, 'client.key') });
    const address = await discover('secure', { sockets: [], specs: [specs] });
    assert.equal(address?.kind === 'tcp' && !!address.tls, true);
    assert.deepEqual(await new PluginClient('secure', address!).call('Plugin.Activate', undefined), { Implements: ['NetworkDriver'] });
    assert.deepEqual(seen, ['client'], 'the client certificate was presented');
    // the server's certificate is not trusted without its CA; InsecureSkipVerify takes it anyway
    spec({ CertFile: join(tls, 'client.pem'), KeyFile: join(tls, 'client.key') });
    await assert.rejects(new PluginClient('secure', (await discover('secure', { sockets: [], specs: [specs] }))!).call('Plugin.Activate', undefined, { timeoutMs: 2000 }), /plugin secure: Plugin\.Activate: .*(certificate|self.signed)/i);
    spec({ CertFile: join(tls, 'client.pem'), KeyFile: join(tls, 'client.key'), InsecureSkipVerify: true });
    assert.ok(await new PluginClient('secure', (await discover('secure', { sockets: [], specs: [specs] }))!).call('Plugin.Activate', undefined));
    spec({ CAFile: join(tls, 'nosuch.pem') });
    await assert.rejects(discover('secure', { sockets: [], specs: [specs] }), /TLSConfig\.CAFile .*nosuch\.pem: ENOENT/);
  } finally {
    server.close();
  }
});
