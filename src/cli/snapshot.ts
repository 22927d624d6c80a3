import { startupSnapshot } from 'node:v8';
import { berthProgram, runBerth } from './program.js';
// every listing and inspect prints through it: loaded at build, not at the first print
import './format.js';
import { warmUp } from './warm-up.js';

// The entry of berth's startup snapshot (scripts/build-cli-snapshot.mjs bundles it as
// CommonJS and runs it once under `node --build-snapshot`): every module the CLI needs is
// loaded and the command tree is built, then node saves the heap. A command started from
// the snapshot (dist/bin/berth-cli) resumes in that heap and only parses its argv; the
// launcher puts the plain bundle's path first, so process.argv has the shape of
// `node main.js ARGS`. Nothing here may keep the process's own state (argv, env, stdio,
// cwd): it would be the build's, not the command's.

const program = berthProgram();
// node takes the snapshot once the event loop is empty, after this
void warmUp();
startupSnapshot.setDeserializeMainFunction(() => void runBerth(program, process.argv));
