#!/usr/bin/env node
// Compiles the container supervisor (src/runtime/shim/berth-shim.c → dist/bin/berth-shim)
// and the CLI's launcher (src/cli/launcher/berth-cli.c → dist/bin/berth-cli, see its comment)
// with the system C compiler. Rebuilds only when the source is newer than the binary.
// Why a C shim at all: see the comment at the top of berth-shim.c (Node cannot fork into
// namespaces safely; one exec of a tiny supervisor is the fastest way).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cList, NODE_FLAGS, SNAPSHOT_V8_FLAGS } from './cli-node-flags.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// berth-spawner.c is the small fork server berthd starts shims through (see its comment).
// It links berth-shim.c in (without the shim's main) to run shims with no exec.
const SHIM_DIR = 'src/runtime/shim';
const PROGRAMS = [
  { dir: SHIM_DIR, srcs: ['berth-shim.c', 'container-fs.c', 'container-security.c'], deps: ['berth-shim.h', 'container-fs.h', 'container-security.h'], flags: [], out: 'dist/bin/berth-shim' },
  { dir: SHIM_DIR, srcs: ['berth-spawner.c', 'berth-shim.c', 'container-fs.c', 'container-security.c'], deps: ['berth-shim.h', 'container-fs.h', 'container-security.h'], flags: ['-DBERTH_SHIM_EMBEDDED'], out: 'dist/bin/berth-spawner' },
  // the launcher gives node the flags its startup snapshot was built with (cli-node-flags.mjs)
  {
    dir: 'src/cli/launcher',
    srcs: ['berth-cli.c'],
    deps: ['../../../scripts/cli-node-flags.mjs'],
    flags: [`-DBERTH_NODE_FLAGS=${cList(NODE_FLAGS)}`, `-DBERTH_SNAPSHOT_V8_FLAGS=${cList(SNAPSHOT_V8_FLAGS)}`],
    out: 'dist/bin/berth-cli',
  },
];

function upToDate({ dir, srcs, deps, out }) {
  const bin = join(ROOT, out);
  if (!existsSync(bin)) return false;
  const built = statSync(bin).mtimeMs;
  return [...srcs, ...deps].every((f) => built >= statSync(join(ROOT, dir, f)).mtimeMs);
}

mkdirSync(join(ROOT, 'dist/bin'), { recursive: true });
for (const p of PROGRAMS) {
  if (upToDate(p)) continue;
  const argv = ['-O2', '-Wall', ...p.flags, '-o', p.out, ...p.srcs.map((f) => join(p.dir, f))];
  const r = spawnSync('cc', argv, { cwd: ROOT, stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    console.error(`build-shim: cc ${argv.join(' ')} failed${r.error ? `: ${r.error.message}` : ''}`);
    process.exit(1);
  }
  console.log(`build-shim: built ${p.out}`);
}
