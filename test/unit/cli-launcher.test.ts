// bin/berth as users start it: from the startup snapshot npm run build made for this node
// (dist/bin/berth-cli picks it), with the same output, errors, exit codes and stdin as the
// plain bundle; and from the plain bundle when the node on PATH is not the one that built
// the snapshot. No daemon: each command ends at its connection, or before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BERTH = fileURLToPath(new URL('../../../bin/berth', import.meta.url));
const DIST = fileURLToPath(new URL('../../', import.meta.url));
const BLOBS = join(DIST, 'src/cli/snapshot');
const NO_DAEMON = 'unix:///nonexistent/berth.sock';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function berth(args: string[], opts: { snapshot?: '0' | '1'; input?: string; path?: string; bin?: string } = {}): Ran {
  const env: NodeJS.ProcessEnv = { ...process.env, BERTH_HOST: NO_DAEMON, NODE_OPTIONS: '' };
  if (opts.snapshot) env.BERTH_CLI_SNAPSHOT = opts.snapshot;
  else delete env.BERTH_CLI_SNAPSHOT;
  if (opts.path) env.PATH = opts.path;
  const r = spawnSync(opts.bin ?? BERTH, args, { env, input: opts.input ?? '', encoding: 'utf8', cwd: tmpdir() });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('npm run build made a startup snapshot for this node, and bin/berth starts from it', () => {
  assert.equal(readdirSync(BLOBS).filter((f) => f.endsWith('.blob')).length, 1);
  const r = berth(['--version'], { snapshot: '1' });
  assert.deepEqual(r, { code: 0, stdout: '0.1.0\n', stderr: '' });
});

test('from the snapshot, every answer, error line and exit code is the plain bundle\'s', () => {
  const cases: { args: string[]; input?: string }[] = [
    { args: ['ps'] },
    { args: ['network', 'ls', '-q'] },
    { args: ['inspect', 'c1', 'c2'] },
    { args: ['exec', 'c', 'true'] },
    { args: ['run', '-d', '--', 'true'] },
    { args: ['nosuchcommand'] },
    { args: ['network', 'ls', '--help'] },
    { args: ['-H', 'tcp://[::1]:70000', 'ps'] },
    // stdin: the confirmation prompt reads it
    { args: ['network', 'prune'], input: 'n\n' },
    { args: ['network', 'prune'], input: 'y\n' },
  ];
  for (const c of cases) {
    const fromSnapshot = berth(c.args, { snapshot: '1', input: c.input });
    const plain = berth(c.args, { snapshot: '0', input: c.input });
    assert.deepEqual(fromSnapshot, plain, `berth ${c.args.join(' ')}`);
  }
  assert.deepEqual(berth(['run', '-d', '--', 'true'], { snapshot: '1' }), { code: 125, stdout: '', stderr: `Cannot connect to the berth daemon at ${NO_DAEMON}. Is berthd running?\n` });
  assert.equal(berth(['ps'], { snapshot: '1' }).code, 1);
});

test('a node that did not build the snapshot (another file) runs the plain bundle; BERTH_CLI_SNAPSHOT=1 says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-other-node-'));
  try {
    // a copy: the same version, but not the file whose identity names the blob
    copyFileSync(process.execPath, join(dir, 'node'), constants.COPYFILE_FICLONE);
    const path = `${dir}:${process.env.PATH}`;
    assert.deepEqual(berth(['--version'], { path }), { code: 0, stdout: '0.1.0\n', stderr: '' });
    const insisted = berth(['--version'], { path, snapshot: '1' });
    assert.equal(insisted.code, 127);
    assert.equal(insisted.stderr, `berth: BERTH_CLI_SNAPSHOT=1 but no startup snapshot for ${dir}/node: there is none for this node (npm run build makes it)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an installed link to bin/berth (as /usr/local/bin/berth) finds the checkout and its snapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-link-'));
  try {
    symlinkSync(BERTH, join(dir, 'berth'));
    assert.deepEqual(berth(['--version'], { bin: join(dir, 'berth'), snapshot: '1' }), { code: 0, stdout: '0.1.0\n', stderr: '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a snapshot older than the plain bundle (a later tsc run rewrote it) is not used: the bundle is the newer CLI', () => {
  // a copy of the built tree, launcher, bundle and blob, in which only the times differ
  const root = mkdtempSync(join(tmpdir(), 'berth-stale-'));
  try {
    for (const d of ['dist/bin', 'dist/src/cli/snapshot']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(join(DIST, 'bin/berth-cli'), join(root, 'dist/bin/berth-cli'));
    copyFileSync(join(DIST, 'src/cli/main.js'), join(root, 'dist/src/cli/main.js'));
    const [blob] = readdirSync(BLOBS).filter((f) => f.endsWith('.blob'));
    copyFileSync(join(BLOBS, blob!), join(root, 'dist/src/cli/snapshot', blob!));
    const launcher = join(root, 'dist/bin/berth-cli');
    const at = (file: string, s: number) => utimesSync(join(root, file), s, s);
    at(`dist/src/cli/snapshot/${blob}`, 1_000_000);
    at('dist/src/cli/main.js', 2_000_000);
    const stale = berth(['--version'], { bin: launcher, snapshot: '1' });
    assert.equal(stale.code, 127);
    assert.match(stale.stderr, /no startup snapshot for .*: it is older than dist\/src\/cli\/main\.js/);
    assert.deepEqual(berth(['--version'], { bin: launcher }), { code: 0, stdout: '0.1.0\n', stderr: '' });
    at(`dist/src/cli/snapshot/${blob}`, 3_000_000);
    assert.deepEqual(berth(['--version'], { bin: launcher, snapshot: '1' }), { code: 0, stdout: '0.1.0\n', stderr: '' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the snapshot keeps node's code cache only for its modules a command may still load (scripts/snapshot-code-cache.mjs)", async () => {
  const script = pathToFileURL(join(DIST, '../scripts/snapshot-code-cache.mjs')).href;
  const { withCodeCacheOf } = (await import(script)) as { withCodeCacheOf: (blob: Buffer, keep: { has(id: string): boolean }) => { kept: string[] } | undefined };
  const [blob] = readdirSync(BLOBS).filter((f) => f.endsWith('.blob'));
  const ids = withCodeCacheOf(readFileSync(join(BLOBS, blob!)), { has: () => true })?.kept;
  assert.ok(ids, 'the blob has the layout the build trims');
  // what the CLI imports lazily (logs and attach: http; TLS; prune's prompt; a terminal)
  for (const id of ['http', '_http_client', 'tls', '_tls_wrap', 'readline', 'tty']) assert.ok(ids.includes(id), `${id} kept`);
  // in the heap already (every command connects through node:net and prints through streams)
  for (const id of ['net', 'stream', 'internal/streams/readable']) assert.ok(!ids.includes(id), `${id} dropped`);
});
