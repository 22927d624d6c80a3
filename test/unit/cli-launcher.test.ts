// bin/berth as users start it: from the startup snapshot npm run build made for this node
// (dist/bin/berth-cli picks it), with the same output, errors, exit codes and stdin as the
// plain bundle; and from the plain bundle when the node on PATH is not the one that built
// the snapshot. No daemon: each command ends at its connection, or before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants, copyFileSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BERTH = fileURLToPath(new URL('../../../bin/berth', import.meta.url));
const BLOBS = fileURLToPath(new URL('../../src/cli/snapshot/', import.meta.url));
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
    assert.equal(insisted.stderr, `berth: BERTH_CLI_SNAPSHOT=1 but no startup snapshot for ${dir}/node (npm run build makes it)\n`);
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
