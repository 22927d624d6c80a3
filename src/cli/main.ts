import { berthProgram, runBerth } from './program.js';

// berth's CLI as a plain program (the bundle bin/berth falls back to, and what the lab
// runs with node): the command tree built at every start. The startup snapshot holds it
// built instead (snapshot.ts).

void runBerth(berthProgram(), process.argv);
