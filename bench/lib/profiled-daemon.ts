// berthd under the V8 CPU profiler (node 20 refuses --cpu-prof in NODE_OPTIONS, and the lab
// starts the daemon as `node FILE ARGS`): scripts/bench.sh points BERTH_LAB_DAEMON here when
// BENCH_PROF=1. The profile of the main thread is written to BENCH_PROF_DIR on exit.
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_PROF_DIR ?? '/run/berth-lab/bench-prof';
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 500 });
session.post('Profiler.start');

// A same-thread inspector session answers synchronously, so this works inside 'exit'.
process.on('exit', () => {
  session.post('Profiler.stop', (err, res) => {
    if (err) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `berthd-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
  });
});

await import('../../src/daemon/main.js');
