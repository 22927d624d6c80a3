import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { labFor } from '../lab/lab.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { hostLinks, inspect, ok, runSleeper } from './helpers.js';
import { apiRequest } from '../lab/api-client.js';

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
  test('after a kill -9, reads and names are served before the start-up sweep; writes wait for it, then find the leftovers gone', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--subnet', '10.57.0.0/24', 'n4']);
    await runSleeper(lab, 'kept', ['--network', 'n4']);
    const keptIp = await inspect(lab, 'kept', '{{.NetworkSettings.Networks.n4.IPAddress}}');
    const sandbox = await inspect(lab, 'kept', '{{.NetworkSettings.SandboxKey}}');
    await lab.killDaemon();
    // a leftover the sweep removes: the state dir of a container no record knows
    const stray = join(lab.execRoot, 'containers', 'f'.repeat(64));
    mkdirSync(stray, { recursive: true });
    // berthd held at the sweep's start (src/engine/crash-points.ts) until the file goes
    const pause = join(lab.dir, 'pause-sweep');
    writeFileSync(pause, '');
    await lab.startDaemon(undefined, { BERTH_PAUSE_AT: 'startup-sweep', BERTH_PAUSE_FILE: pause }, { untilSwept: false });

    const ping = await apiRequest(lab.socket, 'GET', '/_ping');
    assert.equal(ping.status, 200);
    assert.match(String(ping.headers['berth-writes']), /held until the start-up sweep ends/);
    assert.match(await ok(lab, ['ps', '--format', '{{.Names}}']), /^kept$/m, 'reads are served');
    const dig = await lab.inNetns(sandbox, ['dig', '+short', '+tries=3', '+time=1', '@127.0.0.11', 'kept']);
    assert.equal(dig.stdout.trim(), keptIp, 'names are served');
    assert.ok(existsSync(stray), 'the sweep has not run');
    // a write waits: it neither fails nor runs while the sweep is held
    let ran = false;
    const run = runSleeper(lab, 'later', ['--network', 'n4']).then((id) => ((ran = true), id));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(ran, false, 'the write waits for the sweep');
    assert.equal((await ok(lab, ['ps', '-a', '--format', '{{.Names}}'])).split('\n').includes('later'), false, 'nothing of it made yet');

    rmSync(pause);
    assert.match(await run, /^[0-9a-f]{64}$/);
    assert.equal(existsSync(stray), false, 'the sweep ran before the write');
    assert.equal((await apiRequest(lab.socket, 'GET', '/_ping')).headers['berth-writes'], undefined);
    assert.match(lab.daemonLog(), /start-up sweep done in \d+ ms/);
    await ok(lab, ['rm', '-f', 'kept', 'later']);
  });
});
