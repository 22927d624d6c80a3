import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { labFor } from '../lab/lab.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { hostLinks, inspect, ok, runSleeper } from './helpers.js';

// A kill -9 that cuts a multi-step operation leaves a state start-up reconciliation
// finishes or undoes (issue 12). Here: a start cut after the sandbox and the process
// were made but before the container was recorded as running — what a crash between
// the spawn and the record leaves. The store is put in exactly that state while berthd
// is down.

describe('crash recovery', { concurrency: false }, () => {
  test('a start cut between the spawn and the record: its process is killed, its sandbox and address freed, the next start works', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--subnet', '10.55.0.0/24', 'n1']);
    const id = await runSleeper(lab, 'cut', ['--network', 'n1', '--ip', '10.55.0.10']);
    const pid = await inspect(lab, 'cut', '{{.State.Pid}}');
    const sandbox = await inspect(lab, 'cut', '{{.NetworkSettings.SandboxKey}}');
    const vethsBefore = (await hostLinks(lab)).filter((l) => l.linkinfo?.info_kind === 'veth').length;
    await lab.killDaemon();
    const store = new SqliteStore(lab.dataRoot);
    const c = store.listContainers().find((x) => x.id === id)!;
    store.putContainer({ ...c, state: { ...c.state, status: 'created', pid: 0, shimPid: 0 } });
    store.close();
    assert.equal((await lab.inHost(['kill', '-0', pid])).code, 0, 'the cut start\'s process runs');

    await lab.startDaemon();
    assert.notEqual((await lab.inHost(['kill', '-0', pid])).code, 0, 'killed at start-up');
    assert.equal(existsSync(sandbox), false, 'its netns file is gone');
    assert.equal(await inspect(lab, 'cut', '{{.State.Status}}'), 'created');
    // its veth goes once the kernel has torn the namespace down (asynchronously)
    let veths = vethsBefore;
    for (let i = 0; i < 50 && veths >= vethsBefore; i++) {
      veths = (await hostLinks(lab)).filter((l) => l.linkinfo?.info_kind === 'veth').length;
      if (veths >= vethsBefore) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(veths, vethsBefore - 1, 'no host veth left for it');
    // its --ip is free, and its first start after the crash works at once
    await ok(lab, ['start', 'cut']);
    assert.equal(await inspect(lab, 'cut', '{{.NetworkSettings.Networks.n1.IPAddress}}'), '10.55.0.10');
    await runSleeper(lab, 'other', ['--network', 'n1']);
    assert.notEqual(await inspect(lab, 'other', '{{.NetworkSettings.Networks.n1.IPAddress}}'), '10.55.0.10');
    await ok(lab, ['rm', '-f', 'cut', 'other']);
  });

  test('a connect cut by a crash (its interface there, its address not) is made whole at start-up', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--subnet', '10.56.0.0/24', 'n2']);
    await runSleeper(lab, 'half');
    await ok(lab, ['network', 'connect', '--ip', '10.56.0.20', 'n2', 'half']);
    const sandbox = await inspect(lab, 'half', '{{.NetworkSettings.SandboxKey}}');
    await lab.killDaemon();
    // what a crash between making the interface and addressing it leaves
    assert.equal((await lab.inNetns(sandbox, ['ip', 'addr', 'flush', 'dev', 'eth1'])).code, 0);
    await lab.startDaemon();
    assert.match(await ok(lab, ['exec', 'half', 'ip', '-4', '-o', 'addr', 'show', 'eth1']), /10\.56\.0\.20\/24/);
    await runSleeper(lab, 'peer', ['--network', 'n2']);
    assert.equal((await lab.berth(['exec', 'half', 'ping', '-c1', '-W2', 'peer'])).code, 0);
    // and the next connect after the restart works the first time
    await ok(lab, ['network', 'create', 'n3']);
    await ok(lab, ['network', 'connect', 'n3', 'half']);
  });
});
