// A network driver plugin of scope global (issue 15), as Weave's was in Docker's classic
// multi-host mode: two hosts, each a netns with its own berthd and its own copy of the lab
// plugin (test/lab/net-plugin.ts --global), on one underlay with a real etcd. The
// network is claimed in the store by one host and made on the other by its plugin; the
// plugins hear of the hosts (DiscoverNew/DiscoverDelete with libnetwork's node discovery
// data) and join their bridges with VXLAN of their own; addresses come from the store.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { clusterFor, CLUSTER_STORE, type ClusterHost } from '../lab/cluster.js';
import { LAB_ROOT } from '../lab/lab.js';
import { eventually, inspect, ok, pingFrom, runSleeper } from './helpers.js';

const PLUGIN = fileURLToPath(new URL('../lab/net-plugin.js', import.meta.url));
const pluginDir = (i: number) => join(LAB_ROOT, `global-plugins-${i}`);

interface Call { method: string; body: Record<string, any> }

function calls(i: number): Call[] {
  try {
    return readFileSync(join(pluginDir(i), 'labnet.calls'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call);
  } catch {
    return [];
  }
}

const told = (i: number, method: string) => calls(i).filter((c) => c.method === `NetworkDriver.${method}`).map((c) => c.body);

test('a plugin of scope global: one network on every host, hosts told to the plugin, containers across hosts reach each other by name', async (t) => {
  for (const i of [1, 2]) mkdirSync(pluginDir(i), { recursive: true });
  const cluster = await clusterFor(t, { hosts: 2, daemonArgs: (i) => ['--cluster-store', CLUSTER_STORE, '--cluster-advertise', 'eth0', '--plugin-dir', pluginDir(i)] });
  const [h1, h2] = [cluster.host(1), cluster.host(2)];
  for (const [i, h] of [[1, h1], [2, h2]] as [number, ClusterHost][]) {
    await h.spawnIn(h.hostNs, ['node', PLUGIN, join(pluginDir(i), 'labnet.sock'), join(pluginDir(i), 'labnet.calls'), '--global']).waitForOutput('ready\n');
  }

  const id = await ok(h1, ['network', 'create', '-d', 'labnet', 'gnet']);
  for (const h of [h1, h2]) for (const l of [`lp${id.slice(0, 10)}`, `lv${id.slice(0, 10)}`]) h.foreignLinks.add(l);
  assert.equal(await ok(h1, ['network', 'inspect', '-f', '{{.Scope}} {{.Driver}}', 'gnet']), 'global labnet');
  await eventually('the network on host 2', async () => (await h2.berth(['network', 'inspect', '-f', '{{.Id}}', 'gnet'])).stdout.trim() === id, 10_000);
  // each plugin made the network on its host, once, and was told of both hosts
  await eventually('both plugins told of both hosts', async () => [1, 2].every((i) => told(i, 'DiscoverNew').length === 2), 10_000);
  for (const [i, h, other] of [[1, h1, h2], [2, h2, h1]] as [number, ClusterHost, ClusterHost][]) {
    assert.deepEqual(told(i, 'CreateNetwork').map((b) => b.NetworkID), [id], `host ${i}: CreateNetwork once`);
    assert.deepEqual(told(i, 'DiscoverNew').sort((a, b) => Number(b.DiscoveryData.Self) - Number(a.DiscoveryData.Self)), [
      { DiscoveryType: 1, DiscoveryData: { Address: h.hostUplinkAddr, BindAddress: h.hostUplinkAddr, Self: true } },
      { DiscoveryType: 1, DiscoveryData: { Address: other.hostUplinkAddr, BindAddress: h.hostUplinkAddr, Self: false } },
    ], `host ${i}: node discovery as libnetwork sends it`);
  }

  await runSleeper(h1, 'left', ['--network', 'gnet']);
  await runSleeper(h2, 'right', ['--network', 'gnet']);
  const [ipL, ipR] = [await inspect(h1, 'left', '{{.NetworkSettings.Networks.gnet.IPAddress}}'), await inspect(h2, 'right', '{{.NetworkSettings.Networks.gnet.IPAddress}}')];
  assert.notEqual(ipL, ipR, 'addresses from the cluster store: none given twice');
  assert.ok(await pingFrom(h1, 'left', ipR), 'across hosts, through the plugin\'s own VXLAN');
  await eventually('names across hosts', () => pingFrom(h2, 'right', 'left'), 10_000);

  await ok(h1, ['rm', '-f', 'left']);
  await ok(h2, ['rm', '-f', 'right']);
  await ok(h2, ['network', 'rm', 'gnet']);
  await eventually('gone from host 1', async () => (await h1.berth(['network', 'inspect', 'gnet'])).code !== 0, 10_000);
  for (const i of [1, 2]) assert.deepEqual(told(i, 'DeleteNetwork').map((b) => b.NetworkID), [id], `host ${i}: DeleteNetwork`);

  // host 2 leaves the cluster (its berthd stops, its host record goes): host 1's plugin is told
  await h2.stopDaemon();
  await eventually('DiscoverDelete on host 1', async () => told(1, 'DiscoverDelete').length === 1, 20_000);
  assert.deepEqual(told(1, 'DiscoverDelete')[0], { DiscoveryType: 1, DiscoveryData: { Address: h2.hostUplinkAddr, BindAddress: h1.hostUplinkAddr, Self: false } });
});
