import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateEntries, NeighbourLimit, suggestThresholds, type NeighbourMode, type NeighbourSysctls, type NeighbourThresholds } from '../../src/engine/neighbour-limit.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../../src/store/records.js';

// The neighbour-table watch without /proc: a fake sysctl, records with just the fields it reads.

class FakeSysctls implements NeighbourSysctls {
  reads = 0;
  writes: NeighbourThresholds[] = [];
  constructor(public limit: number | undefined, private readonly writable = true) {}
  async readLimit(): Promise<number | undefined> {
    this.reads++;
    return this.limit;
  }
  async write(t: NeighbourThresholds): Promise<void> {
    if (!this.writable) throw new Error('read-only');
    this.writes.push(t);
    this.limit = t.gcThresh3;
  }
}

const net = (id: string, driver = 'bridge') => ({ id, name: id, driver }) as unknown as NetworkRecord;
const ctr = (id: string) => ({ id }) as unknown as ContainerRecord;
const ep = (id: string, ipv4 = '10.0.0.2') => ({ id, addresses: ipv4 ? [`${ipv4}/24`] : [] }) as unknown as EndpointRecord;

async function setup(limit: number | undefined, mode: NeighbourMode = 'report', writable = true) {
  const sysctls = new FakeSysctls(limit, writable);
  const logs: string[] = [];
  const watch = new NeighbourLimit(sysctls, (m) => logs.push(m), mode, (n) => n.driver === 'bridge');
  await watch.refresh();
  const bridge = net('n1');
  watch.networkUp(bridge);
  const up = async (from: number, to: number) => {
    for (let i = from; i < to; i++) await watch.endpointUp(ctr(`c${i}`), bridge, ep(`e${i}`));
  };
  const down = (from: number, to: number) => {
    for (let i = from; i < to; i++) watch.endpointDown(ctr(`c${i}`), bridge, ep(`e${i}`));
  };
  return { sysctls, logs, watch, up, down };
}

test('the estimate is two entries per bridge endpoint plus one per bridge', () => {
  assert.equal(estimateEntries(1020, 5), 2045);
  assert.equal(estimateEntries(0, 1), 1);
});

test('the suggested cap is a power of two with headroom, with gc_thresh1/2 at the kernel default ratios', () => {
  assert.deepEqual(suggestThresholds(2050, 1024), { gcThresh3: 4096, gcThresh2: 2048, gcThresh1: 512 });
  assert.deepEqual(suggestThresholds(1025, 1024), { gcThresh3: 2048, gcThresh2: 1024, gcThresh1: 256 });
});

test('below the limit nothing is said and /info carries no warning', async () => {
  const { logs, watch, up } = await setup(100);
  await up(0, 49); // 2·49 + 1 = 99
  assert.deepEqual(logs, []);
  assert.deepEqual(await watch.warnings(), []);
  assert.deepEqual(watch.status(), { limit: 100, estimate: 99, containers: 49, over: false });
});

test('crossing the limit logs one warning with the sysctl to raise, and /info shows it', async () => {
  const { logs, watch, up } = await setup(100);
  await up(0, 60);
  assert.equal(logs.length, 1);
  assert.equal(
    logs[0],
    'neighbour table: ~101 entries needed by 50 containers, above net.ipv4.neigh.default.gc_thresh3=100; raise it: ' +
      'sysctl -w net.ipv4.neigh.default.gc_thresh3=1024 net.ipv4.neigh.default.gc_thresh2=512 net.ipv4.neigh.default.gc_thresh1=128',
  );
  const warnings = await watch.warnings();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^WARNING: neighbour table: ~121 entries needed by 60 containers, above net\.ipv4\.neigh\.default\.gc_thresh3=100; raise it/);
});

test('past the limit it warns again only at each doubling, not at every container', async () => {
  const { logs, up } = await setup(100);
  await up(0, 250); // estimate 501: crosses 100, 200, 400
  assert.equal(logs.length, 3);
  assert.match(logs[0], /~101 entries/);
  assert.match(logs[1], /~201 entries/);
  assert.match(logs[2], /~401 entries/);
});

test('an unknown limit (not the host netns) is never alarming', async () => {
  const { logs, watch, up, sysctls } = await setup(undefined);
  await up(0, 5000);
  assert.deepEqual(logs, []);
  assert.deepEqual(await watch.warnings(), []);
  assert.equal(watch.status().limit, undefined);
  assert.equal(watch.status().over, false);
  assert.equal(sysctls.reads, 1, 'the limit is read once, not per container');
});

test('the hot path reads no sysctl: only a crossing re-reads the limit', async () => {
  const { up, sysctls } = await setup(1000);
  await up(0, 400);
  assert.equal(sysctls.reads, 1);
  await up(400, 500); // crosses 1000
  assert.equal(sysctls.reads, 2);
});

test('counting goes down with endpoints; replayed ups and unknown downs do not count twice', async () => {
  const { watch, up, down } = await setup(100);
  await up(0, 10);
  await up(0, 10); // start-up replays are idempotent
  assert.equal(watch.status().estimate, 21);
  down(0, 4);
  down(0, 4);
  assert.equal(watch.status().estimate, 13);
  assert.equal(watch.status().containers, 6);
});

test('endpoints without an IPv4 or on other drivers are not counted; bridges come and go', async () => {
  const { watch } = await setup(100);
  await watch.endpointUp(ctr('h'), net('host', 'host'), ep('eh'));
  await watch.endpointUp(ctr('x'), net('n1'), ep('ex', ''));
  assert.equal(watch.status().estimate, 1);
  watch.networkUp(net('n2'));
  watch.networkUp(net('nn', 'null'));
  assert.equal(watch.status().estimate, 2);
  watch.networkDown(net('n2'));
  assert.equal(watch.status().estimate, 1);
});

test('several endpoints of one container count once in the container figure', async () => {
  const { watch } = await setup(100);
  await watch.endpointUp(ctr('c'), net('n1'), ep('a'));
  await watch.endpointUp(ctr('c'), net('n1'), ep('b'));
  assert.deepEqual({ ...watch.status() }, { limit: 100, estimate: 5, containers: 1, over: false });
});

test('after falling well below the limit, a new crossing warns again; hovering at the limit does not', async () => {
  const { logs, up, down } = await setup(100);
  await up(0, 50); // 101: warn
  down(45, 50);
  await up(45, 50); // back to 101: no repeat
  assert.equal(logs.length, 1);
  down(25, 50); // 51 > 50: still armed off
  await up(25, 50);
  assert.equal(logs.length, 1);
  down(24, 50); // 49 ≤ 50: re-armed
  await up(24, 50);
  assert.equal(logs.length, 2);
});

test('a limit raised by the admin clears the /info warning', async () => {
  const { watch, up, sysctls } = await setup(100);
  await up(0, 60);
  assert.equal((await watch.warnings()).length, 1);
  sysctls.limit = 4096;
  assert.deepEqual(await watch.warnings(), []);
  assert.equal(watch.status().limit, 4096);
});

test('concurrent starts that cross together give one warning', async () => {
  const { watch, logs } = await setup(100);
  const bridge = net('n1');
  await Promise.all(Array.from({ length: 60 }, (_, i) => watch.endpointUp(ctr(`c${i}`), bridge, ep(`e${i}`))));
  assert.equal(logs.length, 1);
});

test('auto mode raises all three thresholds where the sysctl exists, and says so', async () => {
  const { logs, watch, up, sysctls } = await setup(1024, 'auto');
  await up(0, 520); // 1041 > 1024
  assert.deepEqual(sysctls.writes, [{ gcThresh3: 2048, gcThresh2: 1024, gcThresh1: 256 }]);
  assert.equal(logs.length, 1);
  assert.match(logs[0], /above net\.ipv4\.neigh\.default\.gc_thresh3=1024; raised it to 2048 \(gc_thresh2=1024, gc_thresh1=256\)$/);
  assert.deepEqual(await watch.warnings(), []);
  await up(520, 1100); // 2201 > 2048: raised again
  assert.equal(sysctls.writes.length, 2);
  assert.equal(sysctls.writes[1].gcThresh3, 4096);
});

test('auto mode never writes where the limit is unknown', async () => {
  const { logs, up, sysctls } = await setup(undefined, 'auto');
  await up(0, 3000);
  assert.deepEqual(sysctls.writes, []);
  assert.deepEqual(logs, []);
});

test('auto mode falls back to the warning when the write fails', async () => {
  const { logs, watch, up } = await setup(100, 'auto', false);
  await up(0, 60);
  assert.equal(logs.length, 2);
  assert.match(logs[0], /cannot raise net\.ipv4\.neigh\.default\.gc_thresh3 to 1024: read-only/);
  assert.match(logs[1], /raise it: sysctl -w/);
  assert.equal((await watch.warnings()).length, 1);
});
