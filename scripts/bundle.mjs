// Bundles each program berth starts into one file, in place of tsc's entry file (the path
// that bin/*, the lab and the benches run; the CLI's when there is no startup snapshot for
// its node, see build-cli-snapshot.mjs): the CLI and berth-cni, so a command loads one
// module instead of resolving and linking ~30 (commander's CommonJS through the ESM loader,
// src/cli/*, what they import); berthd and its threads (the kernel worker, the resolver's),
// so a restart is not spent linking ~150 modules in each of four isolates. Runs after tsc in
// `npm run build`; a plain `tsc` run writes the unbundled entries back, which work the same,
// only slower to start. A thread's entry is found from its spawner as ../kernel/worker.js or
// ../dns/worker.js, which holds from dist/src/daemon/ (bundled) as from dist/src/*/ (not).
import { build } from 'esbuild';

// berth-cni too: a runtime execs it for every ADD and DEL.
// The topology page's script, for the browser (elkjs is the page's other script).
await build({ entryPoints: ['src/ui/page.ts'], outfile: 'dist/ui/app.js', bundle: true, platform: 'browser', format: 'iife', target: 'es2020', logLevel: 'warning' });

const programs = ['dist/src/cli/main.js', 'dist/src/cni/main.js', 'dist/src/daemon/main.js', 'dist/src/kernel/worker.js', 'dist/src/dns/worker.js'];
for (const entry of programs) {
  await build({
    entryPoints: [entry],
    outfile: entry,
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // elkjs: loaded by `system graph --format svg` alone, every other command would parse it
    // at start; the native addons load their .node files from their own package
    external: ['elkjs', 'better-sqlite3', 'koffi'],
    // commander is CommonJS: its require() calls need a real require in an ES module.
    banner: { js: "import { createRequire as __berthRequire } from 'node:module';\nconst require = __berthRequire(import.meta.url);" },
  });
}
