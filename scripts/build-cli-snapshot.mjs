// Builds the CLI's startup snapshot (the last step of `npm run build`, after tsc made
// dist/src/cli/snapshot.js and build-shim.mjs the launcher dist/bin/berth-cli): that entry
// bundled as CommonJS (node's snapshot builder runs a CommonJS script, whose require
// gives only built-in modules), run once under `node --build-snapshot`, the heap saved as
// dist/src/cli/snapshot/IDENTITY.blob. IDENTITY is the node binary's stat (device, inode,
// size, mtime): a blob is valid only for the node that built it, and the launcher
// (src/cli/launcher/berth-cli.c, which explains why) finds a blob by the identity of the
// node it is about to run. Blobs of other nodes are removed: they hold an older CLI.
// Built with the V8 flags the launcher runs it with (cli-node-flags.mjs), and with only the
// part of node's builtin code cache a command can use (snapshot-code-cache.mjs says why).
// When no snapshot can be made the CLI still works, from the plain bundle: a warning, exit 0.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { SNAPSHOT_V8_FLAGS } from './cli-node-flags.mjs';
import { withCodeCacheOf } from './snapshot-code-cache.mjs';

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

const bundled = await build({
  entryPoints: [join(CLI, 'snapshot.js')],
  metafile: true,
  plugins: [lazyChildProcess],
  outfile: ENTRY,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  external: ['elkjs'],
  // the heap holds the bundle's source (for what compiles lazily): without its comments and
  // indentation it is 160 KB instead of 250, which a command deserializes (~0.5 ms, bench:cli);
  // names are kept, and nothing here reads a function's source
  minifyWhitespace: true,
  legalComments: 'none',
  // a snapshot's code has no import() (node gives it no loader for one): lazy modules as require()
  supported: { 'dynamic-import': false },
  // graph-svg.ts reads import.meta.url where it has one, argv[1] here
  logOverride: { 'empty-import-meta': 'silent' },
});

/**
 * node's modules the CLI imports lazily (import(), commander's child_process proxy), from
 * the bundle's own record of its imports, and tty (process.stdout on a terminal: the build
 * has no terminal); the others it imports are loaded in the snapshot's heap already.
 * (stdout to a file: the probe below writes to one.)
 */
function builtinImports(metafile) {
  const lazy = new Set(['node:tty']);
  const eager = new Set();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const i of input.imports) {
      if (!i.external || i.path.startsWith('elkjs')) continue;
      (i.kind === 'dynamic-import' || file.startsWith('lazy:') ? lazy : eager).add(i.path);
    }
  }
  return { lazy: [...lazy], eager: [...eager].filter((m) => !lazy.has(m)) };
}

/**
 * The ids of node's own modules that loading the lazily imported ones, and a stdout that is
 * a file, bring in beyond what the eager ones did: the code cache a command may still read.
 * Asked of this very node, whose stdout is a file here.
 */
function lazyBuiltinIds(nodeBin, env) {
  const { lazy, eager } = builtinImports(bundled.metafile);
  const probe = `const [eager, lazy] = process.argv.slice(1).map((a) => JSON.parse(a));
for (const m of eager) require(m);
const before = new Set(process.moduleLoadList);
for (const m of lazy) require(m);
const out = process.stdout;
const ids = process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice(13));
out.write(JSON.stringify(ids));`;
  const file = join(DIR, 'probe.json');
  const fd = openSync(file, 'w');
  try {
    const r = spawnSync(nodeBin, ['-e', probe, JSON.stringify(eager), JSON.stringify(lazy)], { env, encoding: 'utf8', stdio: ['ignore', fd, 'pipe'] });
    if (r.status !== 0) throw new Error(`probing node's lazily loaded modules: exit ${r.status}: ${r.stderr}`);
    return new Set(JSON.parse(readFileSync(file, 'utf8')));
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}

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
// node's code cache is trimmed after the build instead (withCodeCacheOf).
const made = spawnSync(node, [...SNAPSHOT_V8_FLAGS, '--snapshot-blob', partial, '--build-snapshot', ENTRY], { cwd: CLI, env, encoding: 'utf8' });
if (made.status !== 0) {
  rmSync(partial, { force: true });
  warn(`node --build-snapshot exited ${made.status}: ${(made.stderr || made.error?.message || '').trim()}`);
  process.exit(0);
}
if (made.stderr) process.stderr.write(made.stderr);
let trimmed;
try {
  trimmed = withCodeCacheOf(readFileSync(partial), lazyBuiltinIds(node, env));
  if (!trimmed) throw new Error(`the blob of node ${process.version} is not of the layout snapshot-code-cache.mjs knows`);
  writeFileSync(partial, trimmed.blob);
} catch (err) {
  console.error(`build-cli-snapshot: ${err.message}; the whole code cache kept`);
}
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
const cache = trimmed ? `, the code cache of ${trimmed.kept.length} of node's ${trimmed.kept.length + trimmed.dropped.length} modules` : '';
console.log(`build-cli-snapshot: built ${blob.slice(ROOT.length)} (${(statSync(blob).size / 1e6).toFixed(1)} MB${cache}) for ${node} ${process.version}`);
