// peerHasRead (src/api/peer-read.ts): the exec path waits until the client has taken the
// 101 off its unix socket. Against a real socket pair: a client that reads late holds it
// until it reads; one that never reads, only up to the bound.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { peerHasRead } from '../../src/api/peer-read.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-peer-read-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A server-side socket that has sent 100 bytes to a client that has not read them yet. */
async function pair(name: string): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const path = join(dir, `${name}.sock`);
  return new Promise((resolve) => {
    let client: Socket;
    const srv = createServer((s) => {
      s.write('x'.repeat(100), () => resolve({ server: s, client, close: () => { s.destroy(); client.destroy(); srv.close(); } }));
    });
    srv.listen(path, () => {
      client = connect(path);
      client.pause();
    });
  });
}

test('it waits while the client has not read, and resolves once it has', async () => {
  const p = await pair('late');
  let done = false;
  const waiting = peerHasRead(p.server, 10_000).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(done, false, 'not before the client reads');
  p.client.resume();
  await waiting;
  assert.equal(done, true);
  p.close();
});

test('a client that never reads holds it only up to the bound', async () => {
  const p = await pair('never');
  await peerHasRead(p.server, 200);
  assert.equal(p.client.readableLength, 0, 'the client still has read nothing');
  p.close();
});
