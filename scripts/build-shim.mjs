#!/usr/bin/env node
// Compiles the container supervisor (src/runtime/shim/berth-shim.c → dist/bin/berth-shim)
// with the system C compiler. Rebuilds only when the source is newer than the binary.
// Why a C shim at all: see the comment at the top of berth-shim.c (Node cannot fork into
// namespaces safely; one exec of a tiny supervisor is the fastest way).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = 'src/runtime/shim/berth-shim.c';
const OUT = 'dist/bin/berth-shim';

function upToDate() {
  const out = join(ROOT, OUT);
  return existsSync(out) && statSync(out).mtimeMs >= statSync(join(ROOT, SRC)).mtimeMs;
}

if (upToDate()) process.exit(0);
mkdirSync(join(ROOT, 'dist/bin'), { recursive: true });
const argv = ['-O2', '-Wall', '-o', OUT, SRC];
const r = spawnSync('cc', argv, { cwd: ROOT, stdio: 'inherit' });
if (r.error || r.status !== 0) {
  console.error(`build-shim: cc ${argv.join(' ')} failed${r.error ? `: ${r.error.message}` : ''}`);
  process.exit(1);
}
console.log(`build-shim: built ${OUT}`);
