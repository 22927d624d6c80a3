import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crashDrill } from '../lab/crash-drill.js';
import { labFor } from '../lab/lab.js';

// berthd killed with -9 at random moments of a mixed workload (test/lab/crash-drill.ts),
// restarted each time, then kernel, processes and store compared. Three seeds; the longer
// version (1,000 operations, 50 kills) is bench/crash-drill.js.

const SEEDS = (process.env.BERTH_DRILL_SEEDS ?? '11,23,37').split(',').map(Number);

describe('kill -9 drill', { concurrency: false }, () => {
  for (const seed of SEEDS) {
    test(`seed ${seed}: every kill leaves a state start-up makes whole; nothing lost, nothing leaked`, async (t) => {
      const lab = await labFor(t);
      const report = await crashDrill(lab, { seed, operations: 200, kills: 10, concurrency: 4, burst: 8, maxContainers: 24, log: (l) => t.diagnostic(l) });
      t.diagnostic(JSON.stringify({ ...report, examples: undefined }));
      for (const e of report.examples) t.diagnostic(e);
      assert.equal(report.kills, 10);
      assert.ok(report.cut > 0, 'the kills cut operations under way');
      assert.deepEqual(report.findings, { processes: 0, netnsMounts: 0, links: 0, addresses: 0, nftElements: 0, files: 0, store: 0 }, report.examples.join('\n'));
      assert.deepEqual(report.lost, []);
      assert.deepEqual(report.serverErrors, []);
      assert.deepEqual(report.firstOperationFailures, []);
    });
  }
});
