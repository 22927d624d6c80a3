import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startupSnapshot } from 'node:v8';
import { berthProgram } from './program.js';

// Only while `node --build-snapshot` runs snapshot.ts (warmUp refuses to run otherwise):
// each hot command is run once by a throwaway command tree, to its end, so that V8 has
// compiled all the code it runs (commander's parsing, the action, the client, node's
// socket and stream paths, the table and its template) and keeps that bytecode in the
// snapshot. A command not warmed compiles those functions at its start: 3-5 ms, and 15 ms
// when a lazy compile makes V8 parse its whole enclosing scope again (measured with
// --log-function-events). berthd cannot run at build time, so the commands talk to a
// server of the build's own on a unix socket, whose fixed answers carry just the fields
// the commands read so that their code runs to its end. It stands in for berthd in
// nothing that is checked: no test uses it and nothing it makes is kept but the compiled
// code; the output goes to sinks (the build's own stdout and stderr must not be opened, a
// snapshot cannot hold them) and the throwaway tree is dropped. The CLI against berthd is
// tested against the real one (test/integration); test/unit/cli-launcher.test.ts checks
// that the snapshot answers as the plain bundle does.

const HOT = [['ps'], ['network', 'ls'], ['inspect', 'c'], ['exec', 'c', 'true'], ['run', '-d', '--name', 'c', '--', 'true'], ['version']];
const ID = 'a63f6d0c8b49e1f0'.repeat(4);

const CONTAINER = { Id: ID, Names: ['/c'], Image: 'bb', Command: 'sleep 3600', Created: 1764806400, State: 'running', Status: 'Up 1 second', Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }] };
const NETWORK = { Name: 'bridge', Id: ID, Created: '2026-12-04T00:00:00Z', Scope: 'local', Driver: 'bridge', Internal: false, Labels: {} };

/** The answer to one request: [status, JSON body] or the raw bytes of an upgrade. */
function answer(method: string, path: string): [number, unknown] | string {
  if (method === 'GET' && path.startsWith('/containers/json')) return [200, [CONTAINER]];
  if (method === 'GET' && path === '/networks') return [200, [NETWORK]];
  if (method === 'GET' && path === '/containers/c/json') return [200, { ...CONTAINER, Name: '/c', State: { Status: 'running', Running: true } }];
  if (method === 'POST' && path.startsWith('/containers/create')) return [201, { Id: ID, Warnings: [] }];
  if (method === 'POST' && path === `/containers/${ID}/start`) return [204, undefined];
  if (method === 'POST' && path === '/containers/c/exec') return [201, { Id: ID }];
  // the upgrade, then one stdout frame of exec's output, then the end of the stream
  if (method === 'POST' && path === `/exec/${ID}/start`) return 'HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\x00\x00\x00\x00\x00\x00\x03ok\n';
  if (method === 'GET' && path === `/exec/${ID}/json`) return [200, { ID, Running: false, ExitCode: 0 }];
  if (method === 'GET' && path === '/version') return [200, { Version: '0.1.0', ApiVersion: '1.43', KernelVersion: '6.1' }];
  return [404, { message: `no ${method} ${path} here` }];
}

/** Reads one request (head and body), answers it, closes. */
function serve(conn: Socket): void {
  let got = Buffer.alloc(0);
  conn.on('data', (chunk: Buffer) => {
    got = Buffer.concat([got, chunk]);
    const end = got.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = got.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (got.length < end + 4 + length) return;
    const [method = '', path = ''] = head.split(' ');
    const a = answer(method, path);
    if (typeof a === 'string') return void conn.end(a);
    const body = a[1] === undefined ? '' : JSON.stringify(a[1]);
    conn.end(`HTTP/1.1 ${a[0]} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

export async function warmUp(): Promise<void> {
  if (!startupSnapshot.isBuildingSnapshot()) throw new Error('warm-up: only while building the CLI\'s startup snapshot');
  const dir = mkdtempSync(join(tmpdir(), 'berth-warm-up-'));
  const socket = join(dir, 'berthd.sock');
  const server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const saved = (['stdout', 'stderr'] as const).map((name) => [name, Object.getOwnPropertyDescriptor(process, name)!] as const);
  for (const [name] of saved) Object.defineProperty(process, name, { configurable: true, enumerable: true, value: new Writable({ write: (_c, _e, done) => done() }) });
  try {
    for (const args of HOT) {
      await berthProgram().parseAsync(['node', 'berth', '-H', `unix://${socket}`, ...args]);
      // a command that failed here ran only part of its code: the stand-in is out of date
      if (process.exitCode) throw new Error(`warm-up: berth ${args.join(' ')} exited ${process.exitCode}`);
    }
  } finally {
    for (const [name, descriptor] of saved) Object.defineProperty(process, name, descriptor);
    // exec sets it, from the exit code it was given
    process.exitCode = undefined;
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}
