// Overlay networks when things fail (issue 14): a host dies, etcd stops answering and comes
// back, a host loses its lease, berthd restarts (cleanly and with kill -9), and berthd is
// killed at the instants between the steps of an overlay operation. Three hosts on one
// underlay with a real etcd; the real CLI, kernel and store throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterFor, CLUSTER_ETCD_ENDPOINT, CLUSTER_STORE, type ClusterHost } from '../lab/cluster.js';
import { checkConsistency } from '../lab/consistency.js';
import { freezeEtcd } from '../lab/etcd.js';
import { sleep } from '../lab/exec.js';
import { eventually, fails, hostOk, inspect, ok, pingFrom, resolves, runSleeper } from './helpers.js';

const CLUSTER_FLAGS = ['--cluster-store', CLUSTER_STORE, '--cluster-advertise', 'eth0'];

async function etcdctl(h: ClusterHost, args: string[]): Promise<string> {
  const r = await h.inHost(['etcdctl', '--endpoints', CLUSTER_ETCD_ENDPOINT, '--dial-timeout', '2s', '--command-timeout', '3s', ...args], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** The endpoint records of a network in the store: eid → its record's ip and host. */
async function storedEndpoints(h: ClusterHost, networkId: string): Promise<{ ip: string; host: string; id: string; up: boolean }[]> {
  const out = await etcdctl(h, ['get', '--prefix', '--print-value-only', `/berth/v1/endpoints/${networkId}/`]);
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { ip: string; host: string; id: string; up: boolean }).sort((a, b) => a.ip.localeCompare(b.ip));
}

async function storedAddresses(h: ClusterHost, networkId: string): Promise<string[]> {
  const out = await etcdctl(h, ['get', '--prefix', '--keys-only', `/berth/v1/addresses/${networkId}/`]);
  return out.split('\n').filter(Boolean).map((k) => k.slice(k.lastIndexOf('/') + 1)).sort();
}

/** berthd killed itself at its crash point: its end is collected, and it did reach the point. */
async function crashed(h: ClusterHost): Promise<void> {
  await h.stopDaemon();
  assert.match(h.daemonLog(), /berthd killed by SIGKILL\n$/, 'berthd reached its crash point');
}

const ipOf = (h: ClusterHost, c: string) => inspect(h, c, '{{(index .NetworkSettings.Networks "ov").IPAddress}}');

test('overlay networks through host death, etcd outages, lost leases, restarts and crashes', async (t) => {
  const cluster = await clusterFor(t, { hosts: 3, daemonArgs: CLUSTER_FLAGS });
  const [h1, h2, h3] = [1, 2, 3].map((i) => cluster.host(i)) as [ClusterHost, ClusterHost, ClusterHost];
  const nid = await ok(h1, ['network', 'create', '-d', 'overlay', 'ov']);
  for (const h of [h2, h3]) await eventually(`ov on ${h.name}`, async () => (await h.berth(['network', 'inspect', 'ov'])).code === 0);
  await runSleeper(h1, 'a1', ['--network', 'ov']);
  await runSleeper(h2, 'b2', ['--network', 'ov']);
  await runSleeper(h3, 'd3', ['--network', 'ov']);
  const d3ip = await ipOf(h3, 'd3');
  await eventually('a1 reaches d3 by name', () => pingFrom(h1, 'a1', 'd3'));

  await t.test('berthd restarts (SIGTERM, then kill -9): its containers keep their addresses and reachability, nothing twice in etcd', async () => {
    const before = await storedEndpoints(h1, nid);
    const ip = await ipOf(h1, 'a1');
    await h1.restartDaemon();
    assert.equal(await ipOf(h1, 'a1'), ip);
    assert.ok(await pingFrom(h2, 'b2', 'a1'), 'b2 still reaches a1 by name');
    assert.ok(await pingFrom(h1, 'a1', 'b2'), 'a1 still reaches b2 by name');
    await h1.killDaemon();
    assert.ok(await pingFrom(h2, 'b2', 'a1'), 'the data path does not need berthd');
    await h1.startDaemon();
    assert.equal(await ipOf(h1, 'a1'), ip);
    assert.ok(await pingFrom(h3, 'd3', 'a1'));
    assert.deepEqual(await storedEndpoints(h1, nid), before, 'the same records, none added');
    assert.deepEqual(await storedAddresses(h1, nid), before.map((e) => e.ip).sort());
    await runSleeper(h1, 'a1b', ['--network', 'ov']);
    assert.ok(await pingFrom(h2, 'b2', 'a1b'), 'a container started after the restart is reached');
    await ok(h1, ['rm', '-f', 'a1b']);
  });

  await t.test('etcd stops answering: traffic and names keep working, overlay calls fail naming the store, bridges are untouched; then it converges', async () => {
    await ok(h1, ['network', 'create', '-d', 'overlay', 'spare']);
    await eventually('spare on host 2', async () => (await h2.berth(['network', 'inspect', 'spare'])).code === 0);
    freezeEtcd(cluster.etcd!, true);
    try {
      assert.ok(await pingFrom(h1, 'a1', 'b2'), 'cross-host ping by name through the outage');
      assert.equal(await resolves(h3, 'd3', 'a1'), await ipOf(h1, 'a1'));
      let start = Date.now();
      await fails(h2, ['network', 'create', '-d', 'overlay', 'during'], /cluster store etcd:\/\/10\.99\.0\.2:2379/);
      const createMs = Date.now() - start;
      start = Date.now();
      await fails(h2, ['run', '-d', '--name', 'late', '--network', 'ov', '--', 'sleep', '60'], /cluster store etcd:\/\/10\.99\.0\.2:2379/);
      const runMs = Date.now() - start;
      t.diagnostic(`with etcd frozen: network create failed after ${createMs} ms, run after ${runMs} ms`);
      assert.ok(createMs < 10_000 && runMs < 10_000, 'no hang');
      // while a rm asks the store, nothing joins the network here (it would be left on a network the store no longer has)
      const rm = h2.berth(['network', 'rm', 'spare']);
      await sleep(1000);
      await fails(h2, ['create', '--name', 'joiner', '--network', 'spare', '--', 'sleep', '60'], /network spare not found \(it is being removed\)/);
      const rmDone = await rm;
      assert.notEqual(rmDone.code, 0);
      assert.match(rmDone.stderr, /cluster store etcd:\/\/10\.99\.0\.2:2379/);
      assert.equal((await h2.berth(['network', 'inspect', 'spare'])).code, 0, 'a failed rm leaves it');
      await ok(h2, ['network', 'create', 'local']);
      await runSleeper(h2, 'onbridge', ['--network', 'local']);
      assert.ok(await pingFrom(h2, 'onbridge', cluster.internetAddr), 'a bridge network works as ever');
      await ok(h2, ['rm', '-f', 'onbridge']);
      await h2.berth(['rm', '-f', 'late']);
      await ok(h2, ['network', 'rm', 'local']);
    } finally {
      freezeEtcd(cluster.etcd!, false);
    }
    const took = await eventually('a run on host 2 works again', async () => (await h2.berth(['run', '-d', '--name', 'after', '--network', 'ov', '--', 'sleep', '3600'])).code === 0, 20_000);
    t.diagnostic(`overlay run works again ${took} ms after etcd was thawed`);
    await eventually('a1 reaches the new container by name', () => pingFrom(h1, 'a1', 'after'));
    // a host whose lease ran out while etcd slept (host 3 may renew too late) puts its endpoints again on a new one
    await eventually('a1, b2, d3, after: each once in the store', async () => {
      const stored = await storedEndpoints(h1, nid);
      return stored.length === 4 && new Set(stored.map((e) => e.ip)).size === 4;
    }, 15_000);
    assert.deepEqual(await storedAddresses(h1, nid), (await storedEndpoints(h1, nid)).map((e) => e.ip).sort(), 'every address held by its record, none else');
    await ok(h2, ['rm', '-f', 'after']);
    await ok(h2, ['network', 'rm', 'spare']);
  });

  await t.test('a host whose lease is lost (revoked) puts its endpoints again on a new one', async () => {
    const fields = await etcdctl(h1, ['get', '-w', 'fields', `/berth/v1/endpoints/${nid}/${await inspect(h2, 'b2', '{{(index .NetworkSettings.Networks "ov").EndpointID}}')}`]);
    const lease = /"Lease" : (\d+)/.exec(fields)?.[1];
    assert.ok(lease && lease !== '0', fields);
    await etcdctl(h1, ['lease', 'revoke', BigInt(lease).toString(16)]);
    assert.ok(!(await storedEndpoints(h1, nid)).some((e) => e.ip === '10.0.0.3'), 'revoked: b2 left the store');
    await eventually('b2 is back in the store', async () => (await storedEndpoints(h1, nid)).some((e) => e.ip === '10.0.0.3'), 15_000);
    await eventually('a1 reaches b2 by name again', () => pingFrom(h1, 'a1', 'b2'), 10_000);
    assert.equal((await storedEndpoints(h1, nid)).length, 3);
  });

  await t.test('a host dies: its names and entries vanish from the others within the lease TTL, its addresses are free again', async () => {
    const dev = `vx-${nid.slice(0, 12)}`;
    assert.match(await hostOk(h1, ['ip', 'neigh', 'show', 'dev', dev]), new RegExp(`${d3ip.replace(/\./g, '\\.')} `));
    const killed = Date.now();
    await cluster.killHost(3);
    for (const h of [h1, h2]) {
      await eventually(`d3 gone on ${h.name}`, async () => !(await hostOk(h, ['ip', 'neigh', 'show', 'dev', dev])).includes(`${d3ip} `) && !(await hostOk(h, ['bridge', 'fdb', 'show', 'dev', dev])).includes(cluster.addrOf(3).addr), 15_000);
    }
    t.diagnostic(`host 3's entries gone from hosts 1 and 2 ${Date.now() - killed} ms after its death (lease TTL 10 s)`);
    assert.equal(await resolves(h1, 'a1', 'd3'), '', 'its names are gone');
    assert.ok(!(await storedAddresses(h1, nid)).includes(d3ip));
    await runSleeper(h1, 'heir', ['--network', 'ov', '--ip', d3ip]);
    assert.ok(await pingFrom(h2, 'b2', 'heir'), 'its address serves a new container on another host');
    await ok(h1, ['rm', '-f', 'heir']);
  });

  await t.test('kill -9 inside overlay operations leaves nothing behind, locally or in etcd', async () => {
    // between the endpoint's claim in etcd and its local record: the claim is given back at start-up
    await h2.stopDaemon();
    await h2.startDaemon(undefined, { BERTH_CRASH_AT: 'overlay-endpoint.claimed' });
    await h2.berth(['run', '-d', '--name', 'cut', '--network', 'ov', '--', 'sleep', '3600']);
    await crashed(h2);
    // claimed, never up (no interface answers at its address): host 1 has its data path
    // ready, but does not serve its name
    const cut = (await storedEndpoints(h1, nid)).find((e) => !e.up);
    assert.ok(cut, 'the cut claim is in the store, not up');
    await eventually('its neighbour entry on host 1', async () => (await hostOk(h1, ['ip', 'neigh', 'show', 'dev', `vx-${nid.slice(0, 12)}`])).includes(`${cut.ip} `));
    assert.equal(await resolves(h1, 'a1', 'cut'), '', 'a name is served only once its endpoint is up');
    assert.ok((await storedEndpoints(h1, nid)).filter((e) => e.id !== cut.id).every((e) => e.up), 'the others are up');
    await h2.startDaemon();
    await eventually('the cut claim is given back', async () => (await storedEndpoints(h1, nid)).length === 2);
    assert.deepEqual(await storedAddresses(h1, nid), (await storedEndpoints(h1, nid)).map((e) => e.ip).sort());
    await ok(h2, ['rm', '-f', 'cut']);
    assert.deepEqual(await checkConsistency(h2), { processes: [], netnsMounts: [], links: [], addresses: [], nftElements: [], files: [], store: [] });
    // between a network's claim and its making here: it is made at start-up, as on every other host
    await h2.stopDaemon();
    await h2.startDaemon(undefined, { BERTH_CRASH_AT: 'overlay-network.claimed' });
    await h2.berth(['network', 'create', '-d', 'overlay', 'halfway']);
    await crashed(h2);
    await h2.startDaemon();
    for (const h of [h1, h2]) await eventually(`halfway on ${h.name}`, async () => (await h.berth(['network', 'inspect', 'halfway'])).code === 0);
    await ok(h1, ['network', 'rm', 'halfway']);
    for (const h of [h1, h2]) await eventually(`halfway gone on ${h.name}`, async () => (await h.berth(['network', 'inspect', 'halfway'])).code !== 0);
    // a run cut after its record: the container is not running, and its claim goes at start-up
    await h2.stopDaemon();
    await h2.startDaemon(undefined, { BERTH_CRASH_AT: 'start.recorded' });
    await h2.berth(['run', '-d', '--name', 'cut2', '--network', 'ov', '--', 'sleep', '3600']);
    await crashed(h2);
    await h2.startDaemon();
    await eventually('the cut run\'s claim is given back', async () => (await storedEndpoints(h1, nid)).length === 2);
    await ok(h2, ['start', 'cut2']);
    assert.ok(await pingFrom(h1, 'a1', 'cut2'), 'started again, it is reached');
    await ok(h2, ['rm', '-f', 'cut2']);
    assert.deepEqual(await checkConsistency(h2), { processes: [], netnsMounts: [], links: [], addresses: [], nftElements: [], files: [], store: [] });
  });
});
