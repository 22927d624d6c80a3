import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor } from '../lab/lab.js';
import { ok, runSleeper } from './helpers.js';

// Issue 6, the neighbour table: its sysctls exist only in the host's initial netns, so in a
// lab the limit is unknown. berthd must start, run containers and say nothing alarming.

describe('neighbour-table limit', { concurrency: false }, () => {
  test('in a lab the limit is unknown: berthd starts, runs containers, and info carries no neighbour warning', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--neigh-gc-thresh3', 'auto'] });
    const probe = await lab.inHost(['ls', '/proc/sys/net/ipv4/neigh/default']);
    assert.notEqual(probe.code, 0, 'the lab netns has no net.ipv4.neigh.default sysctls');
    await ok(lab, ['network', 'create', 'nb_net']);
    await runSleeper(lab, 'nb1');
    await runSleeper(lab, 'nb2', ['--network', 'nb_net']);
    const info = await lab.api('GET', '/info');
    assert.equal(info.status, 200);
    assert.deepEqual((info.body as { Warnings: string[] }).Warnings, []);
    assert.deepEqual((JSON.parse(await ok(lab, ['system', 'info'])) as { Warnings: string[] }).Warnings, []);
    assert.doesNotMatch(lab.daemonLog(), /neighbour table/);
  });
});
