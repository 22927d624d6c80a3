// Proves the multi-host lab (test/lab/cluster.ts) that issue 14's tests and benchmarks run
// in: hosts with a berthd each on one underlay, the cluster's etcd, the internet behind the
// router, a host's death, and a teardown that leaves nothing.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Cluster, CLUSTER_ETCD_ENDPOINT, withCluster, type ClusterHost } from '../lab/cluster.js';
import { run, runOk } from '../lab/exec.js';
import { labProcesses, netnsInode } from '../lab/teardown.js';
import { ok, runSleeper } from './helpers.js';

const ECHO_CLIENT = fileURLToPath(new URL('../lab/echo-client.js', import.meta.url));

function etcdctlFrom(host: ClusterHost, args: string[]) {
  return host.inHost(['etcdctl', '--endpoints', CLUSTER_ETCD_ENDPOINT, '--dial-timeout', '2s', '--command-timeout', '3s', ...args], { timeoutMs: 10_000 });
}

async function pings(host: ClusterHost, addr: string): Promise<boolean> {
  return (await host.inHost(['ping', '-c', '1', '-W', '2', addr])).code === 0;
}

/** The names `ip netns list` shows. */
async function netnsNames(): Promise<string[]> {
  return (await runOk(['ip', 'netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

test('a cluster of 3 hosts and etcd on one underlay, and its end', async (t) => {
  // per-host flags: each host's default bridge gets a subnet of its own
  const cluster = await Cluster.create({ hosts: 3, etcd: true, daemonArgs: (i) => ['--bip', `10.${100 + i}.0.1/24`] });
  const [h1, h2, h3] = [1, 2, 3].map((i) => cluster.host(i)) as [ClusterHost, ClusterHost, ClusterHost];
  // what destroy must leave nothing of, taken while it all still exists
  const dirs = [cluster.dir, h1.dir, h2.dir, h3.dir];
  const namespaces = [cluster.switchNs, cluster.routerNs, cluster.internetNs, cluster.etcdNs, h1.hostNs, h2.hostNs, h3.hostNs];
  const inodes = new Set(namespaces.map(netnsInode).filter((x): x is number => x !== undefined));
  assert.equal(inodes.size, namespaces.length, 'every namespace of the cluster exists, each its own');
  assert.equal((await netnsNames()).filter((n) => n.startsWith(`${cluster.name}-`)).length, namespaces.length, 'ip netns list shows them by the cluster\'s name');
  try {
    await t.test('each host runs its own berthd, data-root and exec-root; all see one hostname', async () => {
      for (const h of [h1, h2, h3]) {
        const res = await h.api('GET', '/_ping');
        assert.equal(res.status, 200);
        assert.equal(res.body, 'OK');
      }
      assert.equal(new Set([h1, h2, h3].map((h) => h.dataRoot)).size, 3);
      assert.equal(new Set([h1, h2, h3].map((h) => h.execRoot)).size, 3);
      assert.equal(new Set([h1, h2, h3].map((h) => h.socket)).size, 3);
      for (const [i, h] of [h1, h2, h3].entries()) {
        assert.equal(await ok(h, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', 'bridge']), `10.${101 + i}.0.0/24`);
      }
      const names = await Promise.all([h1, h2, h3].map(async (h) => (await runOk(['nsenter', `--net=${h.hostNs}`, 'hostname'])).trim()));
      assert.equal(new Set(names).size, 1, 'the hosts share the lab world\'s UTS namespace');
      t.diagnostic(`every berthd sees hostname ${names[0]}`);
    });

    await t.test('the hosts reach each other over the underlay, IPv4 and IPv6, on eth0 at MTU 1500', async () => {
      for (const [i, h] of [h1, h2, h3].entries()) {
        const addr = cluster.addrOf(i + 1);
        assert.deepEqual([h.hostUplinkAddr, h.hostUplinkAddr6], [addr.addr, addr.addr6]);
        const [eth0] = JSON.parse(await runOk(['nsenter', `--net=${h.hostNs}`, 'ip', '-j', 'addr', 'show', 'dev', 'eth0'])) as { mtu: number; addr_info: { local: string }[] }[];
        assert.equal(eth0?.mtu, 1500);
        assert.deepEqual(eth0?.addr_info.map((a) => a.local).filter((a) => !a.startsWith('fe80')).sort(), [addr.addr, addr.addr6].sort());
      }
      assert.deepEqual(cluster.addrOf(1), { addr: '10.99.0.11', addr6: '2001:db8:99::11' });
      for (const from of [h1, h2, h3]) {
        for (const to of [h1, h2, h3]) {
          if (from === to) continue;
          assert.ok(await pings(from, to.hostUplinkAddr), `${from.name} -> ${to.hostUplinkAddr}`);
          assert.ok(await pings(from, to.hostUplinkAddr6), `${from.name} -> ${to.hostUplinkAddr6}`);
        }
      }
    });

    await t.test('each host reaches the cluster\'s etcd; a key put from host 1 is read on host 3', async () => {
      assert.equal(cluster.etcd?.endpoint, CLUSTER_ETCD_ENDPOINT);
      for (const h of [h1, h2, h3]) {
        const r = await etcdctlFrom(h, ['endpoint', 'health']);
        assert.equal(r.code, 0, r.stderr);
      }
      assert.equal((await etcdctlFrom(h1, ['put', '/berth-lab/probe', 'from host 1'])).stdout.trim(), 'OK');
      const got = await etcdctlFrom(h3, ['get', '--print-value-only', '/berth-lab/probe']);
      assert.equal(got.stdout.trim(), 'from host 1', got.stderr);
    });

    await t.test('etcd killed is unreachable; restarted, it has its data again', async () => {
      await cluster.etcd?.kill();
      assert.notEqual((await etcdctlFrom(h2, ['endpoint', 'health'])).code, 0);
      await cluster.etcd?.restart();
      const got = await etcdctlFrom(h2, ['get', '--print-value-only', '/berth-lab/probe']);
      assert.equal(got.stdout.trim(), 'from host 1', got.stderr);
    });

    await t.test('a container on host 1 reaches the internet, seen as host 1\'s underlay address; the internet has no route to containers', async () => {
      await runSleeper(h1, 'out');
      const echo = await ok(h1, ['exec', 'out', 'node', ECHO_CLIENT, 'tcp', cluster.internetAddr, String(h1.echoPort), '3000']);
      assert.equal(echo, `from ${h1.hostUplinkAddr}`);
      assert.equal(await h2.echoFrom(h2.hostNs, 'udp'), h2.hostUplinkAddr, 'a host itself is seen by its own address');
      assert.equal(await h3.echoFrom(h3.hostNs, 'tcp', cluster.internetAddr6), h3.hostUplinkAddr6);
      const ip = await ok(h1, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'out']);
      const route = await cluster.inInternet(['ip', 'route', 'get', ip]);
      assert.notEqual(route.code, 0, `the internet routes ${ip}: ${route.stdout}`);
      await ok(h1, ['rm', '-f', 'out']);
    });

    await t.test('unplug cuts host 3 off from the others and the store, its berthd alive; plug puts it back', async () => {
      await cluster.unplug(3);
      assert.equal(await pings(h1, h3.hostUplinkAddr), false, 'host 1 no longer reaches host 3');
      assert.notEqual((await etcdctlFrom(h3, ['endpoint', 'health'])).code, 0, 'host 3 no longer reaches etcd');
      assert.equal((await h3.api('GET', '/_ping')).status, 200, 'host 3\'s berthd lives on');
      await cluster.plug(3);
      assert.ok(await pings(h1, h3.hostUplinkAddr));
      assert.ok(await pings(h3, h1.hostUplinkAddr6));
      assert.equal((await etcdctlFrom(h3, ['endpoint', 'health'])).code, 0);
    });

    await t.test('killHost takes host 2 away: its berthd, netns and dir go; hosts 1 and 3 carry on', async () => {
      const ns2 = netnsInode(h2.hostNs);
      assert.ok(labProcesses(h2.dir, new Set([ns2 ?? -1])).length > 0, 'host 2 runs its berthd');
      await cluster.killHost(2);
      assert.match(h2.daemonLog(), /berthd killed by SIGKILL/);
      assert.deepEqual(labProcesses(h2.dir, new Set([ns2 ?? -1])), []);
      assert.equal(existsSync(h2.hostNs), false);
      assert.equal(existsSync(h2.dir), false);
      assert.throws(() => cluster.host(2), /host 2 is dead/);
      assert.deepEqual(cluster.liveHosts().map((h) => h.name), [h1.name, h3.name]);
      assert.equal(await pings(h1, cluster.addrOf(2).addr), false, 'host 2\'s address answers no more');
      assert.ok(await pings(h1, h3.hostUplinkAddr));
      assert.ok(await pings(h3, h1.hostUplinkAddr6));
      for (const h of [h1, h3]) assert.equal((await h.api('GET', '/_ping')).status, 200);
      assert.equal((await etcdctlFrom(h3, ['endpoint', 'health'])).code, 0);
    });
  } catch (err) {
    t.diagnostic(cluster.daemonLogs());
    throw err;
  } finally {
    await cluster.destroy();
  }

  assert.deepEqual((await netnsNames()).filter((n) => n.startsWith(`${cluster.name}-`)), [], 'no netns of the cluster is left');
  for (const ns of namespaces) assert.equal(existsSync(ns), false, `${ns} is gone`);
  for (const dir of dirs) {
    assert.equal(existsSync(dir), false, `${dir} is gone`);
    assert.deepEqual(labProcesses(dir, inodes), [], `no process of ${dir} or in the cluster's namespaces is left`);
  }
});

test('etcd: false, startDaemons: false and mtu: the underlay at 9000 bytes, no store, no berthd', async (t) => {
  await withCluster(t, { hosts: 2, etcd: false, startDaemons: false, mtu: 9000 }, async (cluster) => {
    assert.equal(cluster.etcd, undefined);
    assert.equal(existsSync(cluster.etcdNs), false);
    const [h1, h2] = [cluster.host(1), cluster.host(2)];
    assert.equal((await h1.api('GET', '/_ping').catch((e: Error) => e)) instanceof Error, true, 'no berthd answers');
    const [eth0] = JSON.parse(await runOk(['nsenter', `--net=${h1.hostNs}`, 'ip', '-j', 'link', 'show', 'dev', 'eth0'])) as { mtu: number }[];
    assert.equal(eth0?.mtu, 9000);
    // 8972 bytes of ICMP payload + 28 of headers: a 9000-byte packet, not to be fragmented
    const big = await h1.inHost(['ping', '-c', '1', '-W', '2', '-M', 'do', '-s', '8972', h2.hostUplinkAddr]);
    assert.equal(big.code, 0, big.stdout + big.stderr);
    const tooBig = await h1.inHost(['ping', '-c', '1', '-W', '2', '-M', 'do', '-s', '8973', h2.hostUplinkAddr]);
    assert.notEqual(tooBig.code, 0, 'a packet past the underlay MTU does not leave unfragmented');
    assert.equal(await h2.echoFrom(h2.hostNs), h2.hostUplinkAddr, 'the internet is reached through a 9000-byte underlay');
  });
});

test('a cluster left behind by a failing test is destroyed when the file\'s tests end', async () => {
  const fixture = fileURLToPath(new URL('../lab/leaky-cluster.fixture.js', import.meta.url));
  // a test run of its own: not a child of this one (NODE_TEST_CONTEXT would make it one)
  const r = await run(['env', '-u', 'NODE_TEST_CONTEXT', 'node', '--test', '--test-reporter=tap', fixture], { timeoutMs: 60_000 });
  assert.equal(r.code, 1, `the file failed and ended by itself: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /failing on purpose/);
  const m = /leaky-cluster (\S+) (\S+) (\S+) (\S+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const [, name, ...dirs] = m as unknown as [string, string, string, string, string];
  assert.deepEqual((await netnsNames()).filter((n) => n.startsWith(`${name}-`)), [], 'no netns of the cluster is left');
  for (const dir of dirs) {
    assert.equal(existsSync(dir), false, `${dir} is gone`);
    assert.deepEqual(labProcesses(dir, new Set()), [], `no process of ${dir} is left`);
  }
});
