import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labFor } from '../lab/lab.js';
import { inspect, ok, pingFrom, runSleeper } from './helpers.js';

// One container on a bridge, a macvlan and a ptp network at once: an interface of each
// kind, made in one sandbox, and one default route by the engine's rule (the first
// non-internal network offering a gateway, in the lexical order of the names).

test('a container on a bridge, a macvlan and a ptp network has one interface each, one default route, and names scoped per network', async (t) => {
  const lab = await labFor(t);
  const lan = await lab.addLan();
  const peer = await lab.addHostOnLan('peer');
  await ok(lab, ['network', 'create', '--subnet', '172.30.0.0/24', 'bnet']);
  await ok(lab, ['network', 'create', '-d', 'macvlan', '--subnet', '198.18.1.0/24', '--gateway', '198.18.1.1', '--ip-range', '198.18.1.128/25', '-o', `parent=${lan.parent}`, 'alan']);
  await ok(lab, ['network', 'create', '-d', 'ptp', '--subnet', '10.99.0.0/29', 'cwire']);
  await runSleeper(lab, 'multi', ['--network', 'bnet']);
  await ok(lab, ['network', 'connect', 'alan', 'multi']);
  await ok(lab, ['network', 'connect', 'cwire', 'multi']);
  await runSleeper(lab, 'other', ['--network', 'cwire']);

  const links = JSON.parse(await ok(lab, ['exec', 'multi', 'ip', '-d', '-j', 'link', 'show'])) as { ifname: string; linkinfo?: { info_kind?: string } }[];
  assert.deepEqual(links.map((l) => `${l.ifname}:${l.linkinfo?.info_kind ?? ''}`), ['lo:', 'eth0:veth', 'eth1:macvlan', 'eth2:veth']);
  const defaults = (await ok(lab, ['exec', 'multi', 'ip', '-4', 'route', 'show', 'default'])).split('\n');
  assert.equal(defaults.length, 1, 'one default route');
  assert.match(defaults[0], /^default via 198\.18\.1\.1 dev eth1/, 'alan comes first by name and offers the LAN router');

  assert.ok(await pingFrom(lab, 'multi', peer.addr), 'over the macvlan');
  assert.ok(await pingFrom(lab, 'multi', await inspect(lab, 'other', '{{.NetworkSettings.Networks.cwire.IPAddress}}')), 'over the ptp link');
  assert.ok(await pingFrom(lab, 'multi', '172.30.0.1'), 'over the bridge');

  // names are scoped to each network: other (on the ptp link only) resolves for multi, not for bonly
  await runSleeper(lab, 'bonly', ['--network', 'bnet']);
  const otherIp = await inspect(lab, 'other', '{{.NetworkSettings.Networks.cwire.IPAddress}}');
  assert.match(await ok(lab, ['exec', 'multi', 'getent', 'hosts', 'other']), new RegExp(`^${otherIp.replace(/\./g, '\\.')}\\s`));
  assert.notEqual((await lab.berth(['exec', 'bonly', 'getent', 'hosts', 'other'])).code, 0);
  assert.match(await ok(lab, ['exec', 'bonly', 'getent', 'hosts', 'multi']), /^172\.30\.0\.\d+\s/, 'bonly sees multi by its bridge address');

  // leaving the network that carries the default route hands it to the next by the rule
  await ok(lab, ['network', 'disconnect', 'alan', 'multi']);
  assert.match(await ok(lab, ['exec', 'multi', 'ip', '-4', 'route', 'show', 'default']), /^default via 172\.30\.0\.1 dev eth0/);
});
