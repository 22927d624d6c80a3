import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { crashDrill, type DrillOptions } from '../lab/crash-drill.js';
import { labFor, type Lab } from '../lab/lab.js';

// berthd killed with -9 at random moments of a mixed workload (test/lab/crash-drill.ts),
// restarted each time, then kernel, processes and store compared. Three seeds on bridge
// networks, one more with an overlay network on a real etcd (its claims and releases cut
// by the kills too); the longer version (1,000 operations, 60 kills) is bench/crash-drill.js.

const SEEDS = (process.env.BERTH_DRILL_SEEDS ?? '11,23,37').split(',').map(Number);
const OVERLAY_SEED = Number(process.env.BERTH_DRILL_OVERLAY_SEED ?? 41);
const CLUSTER_FLAGS = ['--cluster-store', 'etcd://127.0.0.1:2379', '--cluster-advertise', 'uplink0'];

async function drill(t: TestContext, lab: Lab, o: Pick<DrillOptions, 'seed' | 'overlay'>): Promise<void> {
  const report = await crashDrill(lab, { ...o, operations: 200, kills: 10, concurrency: 4, burst: 8, maxContainers: 24, log: (l) => t.diagnostic(l) });
  t.diagnostic(JSON.stringify({ ...report, examples: undefined }));
  for (const e of report.examples) t.diagnostic(e);
  assert.equal(report.kills, 10);
  assert.ok(report.cut > 0, 'the kills cut operations under way');
  assert.deepEqual(report.findings, { processes: 0, netnsMounts: 0, links: 0, addresses: 0, nftElements: 0, files: 0, store: 0 }, report.examples.join('\n'));
  assert.deepEqual(report.lost, []);
  assert.deepEqual(report.serverErrors, []);
  assert.deepEqual(report.firstOperationFailures, []);
}

describe('kill -9 drill', { concurrency: false }, () => {
  for (const seed of SEEDS) {
    test(`seed ${seed}: every kill leaves a state start-up makes whole; nothing lost, nothing leaked`, async (t) => {
      await drill(t, await labFor(t), { seed });
    });
  }

  test(`seed ${OVERLAY_SEED}, with an overlay network on etcd: the store agrees with the host after every kill`, async (t) => {
    const lab = await labFor(t, { startDaemon: false, daemonArgs: CLUSTER_FLAGS });
    await lab.startEtcd();
    await lab.startDaemon();
    await drill(t, lab, { seed: OVERLAY_SEED, overlay: true });
  });
});
