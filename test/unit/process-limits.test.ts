import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessLimits, readProcessLimits, type LimitReading } from '../../src/engine/process-limits.js';

test('process limits: each level said once with what to raise, re-armed well below, /info warns over 80 %', async () => {
  const logged: string[] = [];
  let used = 50;
  const source = async (): Promise<LimitReading[]> => [{ what: 'open files of berthd', used, limit: 100, raise: 'LimitNOFILE=400' }];
  const limits = new ProcessLimits((m) => logged.push(m), source);
  await limits.check();
  assert.deepEqual(logged, [], 'half used: nothing to say');
  used = 81;
  await limits.check();
  await limits.check();
  assert.deepEqual(logged, ['open files of berthd: 81 of 100 in use (81 %); raise it before it runs out: LimitNOFILE=400'], 'said once');
  assert.deepEqual(await limits.warnings(), ['WARNING: open files of berthd: 81 of 100 in use (81 %); raise it before it runs out: LimitNOFILE=400'], 'a warning in info while over 80 %');
  used = 95;
  assert.deepEqual(await limits.warnings(), ['WARNING: open files of berthd: 95 of 100 in use (95 %); raise it before it runs out: LimitNOFILE=400']);
  assert.equal(logged.length, 2, 'the 90 % level said in the log too');
  used = 85;
  await limits.check();
  assert.equal(logged.length, 2, 'hovering: not said again');
  used = 60;
  await limits.check();
  used = 82;
  await limits.check();
  assert.equal(logged.length, 3, 'said again after going well below');
});

test('process limits: every 16th interface up checks, at most once a second, not awaited; a failing source never fails a start', async () => {
  let reads = 0;
  let clock = 0;
  const limits = new ProcessLimits(() => undefined, async () => {
    reads++;
    throw new Error('no /proc');
  }, () => clock);
  const up = (n: number) => { for (let i = 0; i < n; i++) assert.equal(limits.endpointUp({ id: `c${i % 3}` } as never), undefined, 'a start does not wait for it'); };
  up(15);
  assert.equal(reads, 0);
  up(1);
  assert.equal(reads, 1, 'the 16th');
  up(64);
  assert.equal(reads, 1, 'within the second: no more reads');
  const settled = () => new Promise((r) => setImmediate(r));
  await settled(); // the first read is over
  clock = 1500;
  up(1);
  assert.equal(reads, 2, 'a second later, with 16 or more up since: the next one checks');
  await settled();
  clock = 3000;
  up(15);
  assert.equal(reads, 2, 'fewer than 16 since');
  up(1);
  assert.equal(reads, 3);
  await settled();
  await limits.check();
  assert.equal(reads, 4, 'a failed read is not a failure');
});

test('process limits: this process\'s real readings from /proc', async () => {
  const r = await readProcessLimits(() => 3);
  const files = r.find((x) => x.what === 'open files of berthd');
  assert.ok(files && files.used > 0 && files.limit >= files.used, JSON.stringify(r));
  const tasks = r.find((x) => x.what.startsWith('tasks of the host'));
  assert.ok(tasks && tasks.used > 0 && tasks.limit > tasks.used, JSON.stringify(r));
  const watches = r.find((x) => x.what.startsWith('inotify watches of berthd'));
  assert.ok(watches && watches.used === 3 && watches.limit > 3 && /^sysctl -w fs\.inotify\.max_user_watches=\d+$/.test(watches.raise), JSON.stringify(r));
});
