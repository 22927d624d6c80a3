// Bundles the CLI (and berth-cni) into one file each, in place of tsc's dist/src/cli/main.js (what
// bin/berth runs when there is no startup snapshot for its node, see
// build-cli-snapshot.mjs), so a command loads one module instead of
// resolving and linking ~30 (commander's CommonJS through the ESM loader, src/cli/*,
// what they import). Runs after tsc in `npm run build`; a plain `tsc` run writes the
// unbundled entry back, which works the same, only slower to start.
import { build } from 'esbuild';

// berth-cni too: a runtime execs it for every ADD and DEL.
// The topology page's script, for the browser (elkjs is the page's other script).
await build({ entryPoints: ['src/ui/page.ts'], outfile: 'dist/ui/app.js', bundle: true, platform: 'browser', format: 'iife', target: 'es2020', logLevel: 'warning' });

for (const entry of ['dist/src/cli/main.js', 'dist/src/cni/main.js']) {
  await build({
    entryPoints: [entry],
    outfile: entry,
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // loaded by `system graph --format svg` alone: every other command would parse it at start
    external: ['elkjs'],
    // commander is CommonJS: its require() calls need a real require in an ES module.
    banner: { js: "import { createRequire as __berthRequire } from 'node:module';\nconst require = __berthRequire(import.meta.url);" },
  });
}
