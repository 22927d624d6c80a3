import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor } from '../lab/lab.js';
import { fails, hostOk, inspect, ok, pingFrom, runSleeper } from './helpers.js';

// Seed scenarios 10 and 12-16: user-defined bridge networks, static IPs, isolation,
// connect/disconnect, rm/prune, internal networks.

describe('user-defined networks', { concurrency: false }, () => {
  test('network create picks the next free pool; containers get increasing addresses', async (t) => {
    const lab = await labFor(t);
    const id = await ok(lab, ['network', 'create', 'my_net1']);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} gw {{.Gateway}}{{end}}', 'my_net1']), '172.18.0.0/16 gw 172.18.0.1');
    const bridge = `br-${id.slice(0, 12)}`;
    assert.match(await hostOk(lab, ['ip', '-4', '-o', 'addr', 'show', 'dev', bridge]), /inet 172\.18\.0\.1\/16/);
    await runSleeper(lab, 'vm1', ['--network', 'my_net1']);
    await runSleeper(lab, 'vm2', ['--network', 'my_net1']);
    const inspected = JSON.parse(await ok(lab, ['network', 'inspect', 'my_net1']))[0];
    assert.equal(inspected.Name, 'my_net1');
    assert.equal(inspected.Driver, 'bridge');
    assert.equal(inspected.Scope, 'local');
    const byName = Object.fromEntries(Object.values(inspected.Containers as Record<string, { Name: string; IPv4Address: string; MacAddress: string }>).map((c) => [c.Name, c]));
    assert.equal(byName.vm1.IPv4Address, '172.18.0.2/16');
    assert.equal(byName.vm2.IPv4Address, '172.18.0.3/16');
    assert.equal(byName.vm2.MacAddress, '02:42:ac:12:00:03');
    assert.ok(await pingFrom(lab, 'vm1', '172.18.0.3'));
    // a second network gets the next pool, a chosen subnet is honoured
    await ok(lab, ['network', 'create', 'my_net2']);
    assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'my_net2']), '172.19.0.0/16');
    await ok(lab, ['network', 'create', '--subnet', '172.22.0.0/24', '--gateway', '172.22.0.1', 'my_net3']);
    assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'my_net3']), '172.22.0.0/24 172.22.0.1');
    // ls filters and formats
    assert.equal(await ok(lab, ['network', 'ls', '-q', '--filter', 'name=my_net']), (await ok(lab, ['network', 'ls', '--filter', 'type=custom', '--format', '{{.ID}}'])));
    assert.deepEqual((await ok(lab, ['network', 'ls', '--filter', 'driver=bridge', '--format', '{{.Name}}'])).split('\n'), ['bridge', 'my_net1', 'my_net2', 'my_net3']);
  });

  test('--ip works on user-defined networks only, and a taken address is refused', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--subnet', '172.22.0.0/24', 'fixed']);
    await runSleeper(lab, 'a1', ['--network', 'fixed', '--ip', '172.22.0.10']);
    assert.equal(await inspect(lab, 'a1', '{{.NetworkSettings.Networks.fixed.IPAddress}}'), '172.22.0.10');
    assert.match(await ok(lab, ['exec', 'a1', 'ip', '-4', '-o', 'addr', 'show', 'eth0']), /172\.22\.0\.10\/24/);
    await fails(lab, ['run', '-d', '--network', 'fixed', '--ip', '172.22.0.10', '--', 'sleep', '1'], /already in use/i);
    await fails(lab, ['run', '-d', '--ip', '172.17.0.10', '--', 'sleep', '1'], /user specified IP address is supported on user defined networks only/);
    await fails(lab, ['run', '-d', '--network', 'fixed', '--ip', '10.9.9.9', '--', 'sleep', '1'], /does not belong/);
    assert.equal(await ok(lab, ['ps', '-aq']), (await ok(lab, ['ps', '-q'])), 'failed runs leave no container behind');
  });

  test('containers on different bridge networks cannot reach each other', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', 'left']);
    await ok(lab, ['network', 'create', 'right']);
    await runSleeper(lab, 'l1', ['--network', 'left']);
    await runSleeper(lab, 'r1', ['--network', 'right']);
    const rIp = await inspect(lab, 'r1', '{{.NetworkSettings.Networks.right.IPAddress}}');
    const lIp = await inspect(lab, 'l1', '{{.NetworkSettings.Networks.left.IPAddress}}');
    assert.equal(await pingFrom(lab, 'l1', rIp), false);
    assert.equal(await pingFrom(lab, 'r1', lIp), false);
    // but each reaches the host and its own gateway
    assert.ok(await pingFrom(lab, 'l1', '172.18.0.1'));
  });

  test('network connect adds eth1 to a running container; disconnect removes it', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', 'my_net2']);
    await runSleeper(lab, 'peer', ['--network', 'my_net2']);
    await runSleeper(lab, 'vm1');
    const peerIp = await inspect(lab, 'peer', '{{.NetworkSettings.Networks.my_net2.IPAddress}}');
    const pidBefore = await inspect(lab, 'vm1', '{{.State.Pid}}');
    assert.equal(await pingFrom(lab, 'vm1', peerIp), false);
    await ok(lab, ['network', 'connect', '--ip', '172.18.0.50', 'my_net2', 'vm1']);
    assert.match(await ok(lab, ['exec', 'vm1', 'ip', '-4', '-o', 'addr', 'show', 'eth1']), /172\.18\.0\.50\/16/);
    assert.equal(await inspect(lab, 'vm1', '{{.State.Pid}}'), pidBefore, 'not restarted');
    assert.ok(await pingFrom(lab, 'vm1', peerIp));
    assert.match(await ok(lab, ['exec', 'vm1', 'ip', 'route']), /^default via 172\.17\.0\.1 dev eth0/m);
    assert.equal(await inspect(lab, 'vm1', '{{len .NetworkSettings.Networks}}'), '2');
    await ok(lab, ['network', 'disconnect', 'my_net2', 'vm1']);
    const links = await ok(lab, ['exec', 'vm1', 'ip', '-o', 'link']);
    assert.ok(!links.includes('eth1'));
    assert.equal(await pingFrom(lab, 'vm1', peerIp), false);
    await fails(lab, ['network', 'connect', 'nosuchnet', 'vm1'], /network nosuchnet not found/);
    // the default route moves to the remaining network when its network is disconnected
    await ok(lab, ['network', 'connect', 'my_net2', 'vm1']);
    await ok(lab, ['network', 'disconnect', 'bridge', 'vm1']);
    assert.match(await ok(lab, ['exec', 'vm1', 'ip', 'route']), /^default via 172\.18\.0\.1 dev eth/m);
  });

  test('one default-route rule on start, connect and disconnect: the first non-internal network offering a gateway, by name', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--subnet', '10.61.0.0/24', 'zeta']);
    await ok(lab, ['network', 'create', '--subnet', '10.62.0.0/24', 'alpha']);
    await ok(lab, ['network', 'create', '--subnet', '10.63.0.0/24', '--internal', 'aaa_inside']);
    const defaults = async () => (await ok(lab, ['exec', 'g1', 'ip', '-4', 'route', 'show', 'default'])).split('\n').map((l) => l.trim()).filter(Boolean);
    await runSleeper(lab, 'g1', ['--network', 'zeta']);
    assert.deepEqual(await defaults(), ['default via 10.61.0.1 dev eth0']);
    // alpha sorts first: the route moves to it, live
    await ok(lab, ['network', 'connect', 'alpha', 'g1']);
    assert.deepEqual(await defaults(), ['default via 10.62.0.1 dev eth1']);
    // an internal network offers no gateway, however it sorts
    await ok(lab, ['network', 'connect', 'aaa_inside', 'g1']);
    assert.deepEqual(await defaults(), ['default via 10.62.0.1 dev eth1']);
    // a restart applies the same rule to every endpoint at once
    await ok(lab, ['restart', '-t', '0', 'g1']);
    const eth = await inspect(lab, 'g1', '{{range $n, $e := .NetworkSettings.Networks}}{{if eq $n "alpha"}}{{$e.IPAddress}}{{end}}{{end}}');
    assert.match(eth, /^10\.62\.0\.\d+$/);
    assert.match((await defaults())[0] ?? '', /^default via 10\.62\.0\.1 dev eth\d$/);
    // the carrier leaves: the next by the rule takes over; the last one leaves none
    await ok(lab, ['network', 'disconnect', 'alpha', 'g1']);
    assert.match((await defaults())[0] ?? '', /^default via 10\.61\.0\.1 dev eth\d$/);
    await ok(lab, ['network', 'disconnect', 'zeta', 'g1']);
    assert.deepEqual(await defaults(), []);
  });

  test('network rm refuses while containers are attached; prune removes unused networks', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', 'busy']);
    await ok(lab, ['network', 'create', 'idle1']);
    await ok(lab, ['network', 'create', 'idle2']);
    await runSleeper(lab, 'x1', ['--network', 'busy']);
    await fails(lab, ['network', 'rm', 'busy'], /network busy id [0-9a-f]{64} has active endpoints/);
    const pruned = await ok(lab, ['network', 'prune', '-f']);
    assert.match(pruned, /Deleted Networks:\nidle1\nidle2/);
    const names = (await ok(lab, ['network', 'ls', '--format', '{{.Name}}'])).split('\n');
    assert.deepEqual(names, ['bridge', 'busy', 'host', 'none']);
    await ok(lab, ['rm', '-f', 'x1']);
    assert.equal(await ok(lab, ['network', 'rm', 'busy']), 'busy');
    const bridges = await hostOk(lab, ['ip', '-o', 'link', 'show', 'type', 'bridge']);
    assert.deepEqual(bridges.split('\n').map((l) => l.split(':')[1].trim()), ['berth0']);
  });

  test('--internal networks: members talk to each other but not outside', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--internal', 'secret']);
    await runSleeper(lab, 's1', ['--network', 'secret']);
    await runSleeper(lab, 's2', ['--network', 'secret']);
    const s2 = await inspect(lab, 's2', '{{.NetworkSettings.Networks.secret.IPAddress}}');
    assert.ok(await pingFrom(lab, 's1', s2));
    assert.equal(await pingFrom(lab, 's1', lab.internetAddr), false);
    assert.doesNotMatch(await ok(lab, ['exec', 's1', 'ip', 'route']), /default/);
    assert.equal(await inspect(lab, 's1', '{{.NetworkSettings.Networks.secret.Gateway}}'), '172.18.0.1');
  });

  test('bad input: one clear line, non-zero exit, nothing made', async (t) => {
    const lab = await labFor(t);
    const before = await hostOk(lab, ['ip', '-o', 'link']);
    await fails(lab, ['network', 'create', ' '], /invalid name: /);
    await fails(lab, ['network', 'create', '--subnet', '172.22.0.0/33', 'n1'], /invalid CIDR/);
    await fails(lab, ['network', 'create', '--subnet', '172.22.0.0/24', '--gateway', '172.23.0.1', 'n1'], /no matching subnet for gateway/);
    await ok(lab, ['network', 'create', '--subnet', '172.22.0.0/24', 'n1']);
    await fails(lab, ['network', 'create', '--subnet', '172.22.0.0/16', 'n2'], /overlap/i);
    await fails(lab, ['network', 'create', 'n1'], /network with name n1 already exists/);
    await fails(lab, ['network', 'inspect', 'nosuch'], /network nosuch not found/);
    await fails(lab, ['run', '-d', '--network', 'nosuch', '--', 'sleep', '1'], /network nosuch not found/);
    await fails(lab, ['run', '-d', '--name', 'bad/name', '--', 'sleep', '1'], /Invalid container name/);
    await fails(lab, ['exec', 'nosuch', 'true'], /No such container: nosuch/);
    await ok(lab, ['network', 'rm', 'n1']);
    assert.equal(await hostOk(lab, ['ip', '-o', 'link']), before);
    const api = await lab.api('POST', '/networks/create', { Name: 'x', IPAM: { Config: [{ Subnet: 'nonsense' }] } });
    assert.equal(api.status, 400);
    assert.match(api.body.message, /invalid CIDR/);
    const missing = await lab.api('GET', '/v1.41/networks/nosuch');
    assert.equal(missing.status, 404);
    assert.deepEqual(Object.keys(missing.body), ['message']);
  });
});
