// The CLI's hand-written HTTP exchange against node's own HTTP server on a unix socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { exchange, parseResponse } from '../../src/cli/wire.js';
import { Client, DaemonError } from '../../src/cli/client.js';

async function withServer(handler: Parameters<typeof createServer>[1], body: (socket: string) => Promise<void>, setup?: (server: Server) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-wire-'));
  const socket = join(dir, 's.sock');
  const server: Server = createServer(handler);
  setup?.(server);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  try {
    await body(socket);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a JSON call sends its body and reads a Content-Length answer', async () => {
  await withServer((req, res) => {
    let got = '';
    req.on('data', (c) => (got += c));
    req.on('end', () => {
      const payload = JSON.stringify({ method: req.method, url: req.url, got: JSON.parse(got), ua: req.headers['user-agent'] });
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(payload);
    });
  }, async (socket) => {
    const r = await new Client(`unix://${socket}`).call('POST', '/networks/create?x=1', { Name: 'né' });
    assert.deepEqual(r, { status: 201, body: { method: 'POST', url: '/networks/create?x=1', got: { Name: 'né' }, ua: 'berth-cli' } });
  });
});

test('a chunked answer written late, in pieces, arrives whole', async () => {
  await withServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('one ');
    setTimeout(() => res.end('two ✓'), 20);
  }, async (socket) => {
    const r = await exchange(connect(socket), 'GET', '/x', {});
    assert.equal(r.status, 200);
    assert.equal(r.body, 'one two ✓');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
  });
});

test('error answers become DaemonError with the daemon message and status', async () => {
  await withServer((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message: 'network nope not found' }));
  }, async (socket) => {
    await assert.rejects(new Client(`unix://${socket}`).call('GET', '/networks/nope'), (err: unknown) =>
      err instanceof DaemonError && err.status === 404 && err.message === 'network nope not found');
  });
});

test('no daemon: the same "Cannot connect" error as before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-wire-'));
  try {
    await assert.rejects(new Client(`unix://${dir}/none.sock`).call('GET', '/networks'), (err: unknown) =>
      err instanceof DaemonError && err.status === 0 && err.message === `Cannot connect to the berth daemon at unix://${dir}/none.sock. Is berthd running?`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a connection closed before the whole answer is a hang-up', () => {
  assert.throws(() => parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Le')), /socket hang up/);
  assert.throws(() => parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')), /aborted/);
  assert.throws(() => parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab')), /aborted/);
  assert.equal(parseResponse(Buffer.from('HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n')).body, '');
});

test('a hijack hands over the upgraded connection with the bytes that came with the 101, as a stream fresh to read', async () => {
  await withServer((_req, res) => res.writeHead(500).end('not an upgrade'), async (socket) => {
    const stream = await new Client(`unix://${socket}`).hijack('/exec/x/start', { Detach: false });
    assert.equal(stream.readableFlowing, null);
    const got: Buffer[] = [];
    stream.on('data', (c: Buffer) => got.push(c));
    stream.write('ping');
    await new Promise((resolve) => stream.on('end', resolve));
    assert.equal(Buffer.concat(got).toString(), 'hello /exec/x/start {"Detach":false}|ping');
  }, (server) => server.on('upgrade', (req, conn, head) => {
    assert.equal(req.headers.upgrade, 'tcp');
    assert.equal(req.headers.connection, 'Upgrade');
    // the 101 and the first output in one write, then the request's body and what the client sends, echoed
    conn.write(`HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nhello ${req.url} `);
    let got = head.toString();
    conn.on('data', (c) => {
      got += c;
      if (got.endsWith('ping')) conn.end(got.replace(/ping$/, '|ping'));
    });
  }));
});

test('a refused hijack is a DaemonError with the daemon message, the connection left open by the daemon or not', async () => {
  await withServer((_req, res) => {
    // node keeps the connection alive: the answer ends where its length says
    res.writeHead(409, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message: 'container c is not running' }));
  }, async (socket) => {
    await assert.rejects(new Client(`unix://${socket}`).hijack('/exec/x/start', {}), (err: unknown) =>
      err instanceof DaemonError && err.status === 409 && err.message === 'container c is not running');
  });
  const dir = mkdtempSync(join(tmpdir(), 'berth-wire-'));
  try {
    await assert.rejects(new Client(`unix://${dir}/none.sock`).hijack('/exec/x/start', {}), (err: unknown) =>
      err instanceof DaemonError && err.message === `Cannot connect to the berth daemon at unix://${dir}/none.sock. Is berthd running?`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
