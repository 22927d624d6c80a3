// Builds the CLI's startup snapshot (the last step of `npm run build`, after tsc made
// dist/src/cli/snapshot.js and build-shim.mjs the launcher dist/bin/berth-cli): that entry
// bundled as CommonJS (node's snapshot builder runs a CommonJS script, whose require
// gives only built-in modules), run once under `node --build-snapshot`, the heap saved as
// dist/src/cli/snapshot/IDENTITY.blob. IDENTITY is the node binary's stat (device, inode,
// size, mtime): a blob is valid only for the node that built it, and the launcher
// (src/cli/launcher/berth-cli.c, which explains why) finds a blob by the identity of the
// node it is about to run. Blobs of other nodes are removed: they hold an older CLI.
// When no snapshot can be made the CLI still works, from the plain bundle: a warning, exit 0.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli');
const DIR = join(CLI, 'snapshot');
const ENTRY = join(CLI, 'snapshot.cjs');

/** The name berth-cli.c gives the blob of this node binary (same fields, same format). */
function identity(file) {
  const st = statSync(file, { bigint: true });
  const hex = (n) => n.toString(16);
  const time = (ns) => `${hex(ns / 1_000_000_000n)}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
  return `${hex(st.dev)}-${hex(st.ino)}-${hex(st.size)}-${time(st.mtimeNs)}`;
}

function warn(why) {
  console.error(`build-cli-snapshot: no startup snapshot (${why}); berth runs from the plain bundle, only slower to start`);
}

/**
 * commander loads node:child_process at start, for executable subcommands (berth has
 * none); node warns that that module's state may not survive a snapshot. In the snapshot
 * commander gets it through a proxy that loads it when first used.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (/[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "let m; module.exports = new Proxy({}, { get: (_, k) => (m ??= require('node:child_process'))[k] });",
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: [join(CLI, 'snapshot.js')],
  plugins: [lazyChildProcess],
  outfile: ENTRY,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  external: ['elkjs'],
  // a snapshot's code has no import() (node gives it no loader for one): lazy modules as require()
  supported: { 'dynamic-import': false },
  // graph-svg.ts reads import.meta.url where it has one, argv[1] here
  logOverride: { 'empty-import-meta': 'silent' },
});

const node = realpathSync(process.execPath);
const blob = join(DIR, `${identity(node)}.blob`);
mkdirSync(DIR, { recursive: true });
for (const f of readdirSync(DIR)) rmSync(join(DIR, f), { force: true });
const partial = `${blob}.partial`;
// no NODE_OPTIONS: the launcher runs the snapshot only without them (V8 flags are part of a blob's validity)
const env = { ...process.env, NODE_OPTIONS: '' };
// Not --build-snapshot-config's withoutCodeCache (a blob of 2.1 MB instead of 5): with it
// node drops the bytecode the warm-up compiled (a warmed function ran 0.1 ms, 6-8 ms with
// it), and a hot command compiles it all again (3-9 ms more CPU for ps and network ls).
const made = spawnSync(node, ['--snapshot-blob', partial, '--build-snapshot', ENTRY], { cwd: CLI, env, encoding: 'utf8' });
if (made.status !== 0) {
  rmSync(partial, { force: true });
  warn(`node --build-snapshot exited ${made.status}: ${(made.stderr || made.error?.message || '').trim()}`);
  process.exit(0);
}
if (made.stderr) process.stderr.write(made.stderr);
// the snapshot must start and answer as the plain bundle does, or it is not kept
const plain = spawnSync(node, [join(CLI, 'main.js'), '--version'], { env, encoding: 'utf8' });
renameSync(partial, blob);
// through the launcher, which must find this blob by its name
const tried = spawnSync(join(ROOT, 'dist/bin/berth-cli'), ['--version'], { env: { ...env, BERTH_CLI_SNAPSHOT: '1' }, encoding: 'utf8' });
if (tried.status !== 0 || !tried.stdout || tried.stdout !== plain.stdout || tried.stderr) {
  rmSync(blob, { force: true });
  warn(`a trial run gave exit ${tried.status}, stdout ${JSON.stringify(tried.stdout)}, stderr ${JSON.stringify(tried.stderr)}`);
  process.exit(0);
}
console.log(`build-cli-snapshot: built ${blob.slice(ROOT.length)} (${(statSync(blob).size / 1e6).toFixed(1)} MB) for ${node} ${process.version}`);
