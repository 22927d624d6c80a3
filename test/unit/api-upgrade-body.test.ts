import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Router } from '../../src/api/router.js';
import { listen } from '../../src/api/server.js';

// A hijacked request (exec start, attach) carries a JSON body; when that body reaches the
// server after the headers, it must be read as the body and never become the stream's
// first input (docker exec -i once saw {"Detach":false,"Tty":false} on its stdin).

test('the body of an upgrade request sent after its headers is the body, not stream input', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-upgrade-'));
  const sock = join(dir, 'api.sock');
  const seen: { body?: unknown; input: string } = { input: '' };
  const router = new Router().add('POST', '/exec/{id}/start', async (req, reply) => {
    seen.body = await req.body();
    reply.res.writeHead(101, { Connection: 'Upgrade', Upgrade: 'tcp' });
    const socket = reply.hijack!.resume();
    socket.on('data', (d: Buffer) => {
      seen.input += d.toString();
      if (seen.input.endsWith('\n')) socket.end('done\n');
    });
  });
  const server = await listen(router, { path: sock }, () => undefined);
  try {
    const body = '{"Detach":false,"Tty":false}';
    const client = connect(sock);
    let answer = '';
    client.on('data', (d) => (answer += d.toString()));
    const closed = new Promise((resolve) => client.on('close', resolve));
    client.write(`POST /v1.43/exec/x/start HTTP/1.1\r\nHost: api\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    await sleep(50);
    client.write(body.slice(0, 10));
    await sleep(20);
    client.write(body.slice(10) + 'typed\n');
    await closed;
    assert.deepEqual(seen.body, { Detach: false, Tty: false });
    assert.equal(seen.input, 'typed\n');
    assert.match(answer, /^HTTP\/1\.1 101 /);
    assert.match(answer, /done\n$/);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
