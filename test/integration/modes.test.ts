import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor } from '../lab/lab.js';
import { fails, hostLinks, hostOk, inspect, ok, pingFrom, runSleeper, settledCount } from './helpers.js';

// Seed scenarios 1-7: default networks and the four network modes, on the real kernel.

describe('network modes and default networks', { concurrency: false }, () => {
  test('a fresh daemon has bridge, host and none, and they cannot be removed', async (t) => {
    const lab = await labFor(t);
    const ls = await ok(lab, ['network', 'ls']);
    assert.match(ls.split('\n')[0], /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    for (const [name, driver] of [['bridge', 'bridge'], ['host', 'host'], ['none', 'null']]) {
      assert.match(ls, new RegExp(`^[0-9a-f]{12}\\s+${name}\\s+${driver}\\s+local$`, 'm'));
    }
    assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} gw {{.Gateway}}{{end}}', 'bridge']), '172.17.0.0/16 gw 172.17.0.1');
    await fails(lab, ['network', 'rm', 'bridge'], /bridge is a pre-defined network and cannot be removed/);
    await fails(lab, ['network', 'rm', 'none'], /none is a pre-defined network and cannot be removed/);
    await fails(lab, ['network', 'create', '-d', 'host', 'host2'], /only one instance of "host" network is allowed/);
    const links = await hostLinks(lab);
    const br = links.find((l) => l.ifname === 'berth0');
    assert.equal(br?.linkinfo?.info_kind, 'bridge');
    assert.match(await hostOk(lab, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'berth0']), /inet 172\.17\.0\.1\/16/);
  });

  test('bridge mode: own netns, eth0 on 172.17.0.x/16, default route via the gateway, veth on berth0', async (t) => {
    const lab = await labFor(t);
    const id = await runSleeper(lab, 'c1');
    assert.match(id, /^[0-9a-f]{64}$/);
    const addr = await ok(lab, ['exec', 'c1', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(addr, /inet 172\.17\.0\.2\/16/);
    const route = await ok(lab, ['exec', 'c1', 'ip', 'route']);
    assert.match(route, /^default via 172\.17\.0\.1 dev eth0/m);
    const link = await ok(lab, ['exec', 'c1', 'ip', '-o', 'link', 'show', 'eth0']);
    assert.match(link, /link\/ether 02:42:ac:11:00:02 /);
    // the container's own sysfs: its interfaces, not the host's
    assert.equal(await ok(lab, ['exec', 'c1', 'cat', '/sys/class/net/eth0/address']), '02:42:ac:11:00:02');
    assert.ok(!(await ok(lab, ['exec', 'c1', 'ls', '/sys/class/net'])).includes('berth0'));
    assert.equal(await inspect(lab, 'c1', '{{.NetworkSettings.Networks.bridge.IPAddress}} {{.NetworkSettings.IPAddress}}'), '172.17.0.2 172.17.0.2');
    const pid = Number(await inspect(lab, 'c1', '{{.State.Pid}}'));
    assert.ok(pid > 1);
    const ports = await hostOk(lab, ['bridge', '-j', 'link', 'show']);
    const veths = (JSON.parse(ports) as { ifname: string; master: string }[]).filter((p) => p.master === 'berth0');
    assert.equal(veths.length, 1);
    assert.match(veths[0].ifname, /^veth[0-9a-f]{11}$/);
    // the host reaches the container, containers on the bridge reach each other
    await hostOk(lab, ['ping', '-c1', '-W1', '172.17.0.2']);
    await runSleeper(lab, 'c2');
    assert.ok(await pingFrom(lab, 'c2', '172.17.0.2'));
    assert.ok(await pingFrom(lab, 'c1', '172.17.0.3'));
  });

  test('host mode: the host interfaces and addresses, its own hostname', async (t) => {
    const lab = await labFor(t);
    await runSleeper(lab, 'h1', ['--network', 'host', '-h', 'hosty']);
    const links = await ok(lab, ['exec', 'h1', 'ip', '-o', 'link']);
    assert.match(links, /uplink0/);
    assert.match(links, /berth0/);
    assert.equal(await ok(lab, ['exec', 'h1', 'hostname']), 'hosty');
    assert.notEqual((await hostOk(lab, ['hostname'])), 'hosty');
    assert.equal(await inspect(lab, 'h1', '{{.HostConfig.NetworkMode}}/{{.NetworkSettings.SandboxKey}}/'), 'host//');
    // -p in host mode: dockerd's create warning, and the ports are dropped
    const r = await lab.berth(['run', '-d', '--name', 'h2', '--network', 'host', '-p', '8081:80', 'busybox', 'sleep', '60']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^WARNING: Published ports are discarded when using host network mode$/m);
    assert.equal(await inspect(lab, 'h2', '{{json .HostConfig.PortBindings}}'), '{}');
  });

  test('none mode: only lo, up, and no route', async (t) => {
    const lab = await labFor(t);
    await runSleeper(lab, 'n1', ['--net=none']);
    const links = await ok(lab, ['exec', 'n1', 'ip', '-o', 'link']);
    assert.deepEqual(links.split('\n').map((l) => l.split(':')[1].trim()), ['lo']);
    assert.match(links, /<LOOPBACK,UP,LOWER_UP>/);
    assert.equal(await ok(lab, ['exec', 'n1', 'ip', 'route']), '');
  });

  test('container mode: shares the netns (same IP) and the two talk over lo', async (t) => {
    const lab = await labFor(t);
    await runSleeper(lab, 'web');
    await ok(lab, ['run', '-d', '--name', 'srv', '--network', 'container:web', '--', 'node', '-e', "require('net').createServer(s=>s.end('hi from lo')).listen(8080,'127.0.0.1')"]);
    await runSleeper(lab, 'side', ['--network', 'container:web']);
    const ipWeb = await ok(lab, ['exec', 'web', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    const ipSide = await ok(lab, ['exec', 'side', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.equal(ipSide.split(/\s+/)[3], ipWeb.split(/\s+/)[3]);
    let reply = '';
    for (let i = 0; i < 20 && !reply; i++) {
      const r = await lab.berth(['exec', 'side', 'node', '-e', "require('net').connect(8080,'127.0.0.1').on('data',d=>process.stdout.write(d)).on('error',()=>process.exit(1))"]);
      reply = r.code === 0 ? r.stdout : '';
    }
    assert.equal(reply, 'hi from lo');
  });

  test('removing containers leaves no veth, no netns mount and frees the address', async (t) => {
    const lab = await labFor(t);
    await runSleeper(lab, 'gone');
    const key = await inspect(lab, 'gone', '{{.NetworkSettings.SandboxKey}}');
    assert.ok(key.startsWith(lab.dir));
    await ok(lab, ['rm', '-f', 'gone']);
    const bridgePorts = async () => (JSON.parse(await hostOk(lab, ['bridge', '-j', 'link', 'show'])) as { master: string }[]).filter((p) => p.master === 'berth0').length;
    assert.equal(await settledCount(bridgePorts), 0);
    const mounts = await hostOk(lab, ['cat', '/proc/self/mountinfo']);
    assert.ok(!mounts.includes(key), 'netns bind mount is gone');
    // a /30 holds exactly one container address: a second run works only if rm freed it
    await ok(lab, ['network', 'create', '--subnet', '192.0.2.0/30', 'tiny']);
    await runSleeper(lab, 'first', ['--network', 'tiny']);
    await fails(lab, ['run', '-d', '--network', 'tiny', '--', 'sleep', '1'], /no available addresses/);
    await ok(lab, ['rm', '-f', 'first']);
    await runSleeper(lab, 'second', ['--network', 'tiny']);
    assert.equal(await inspect(lab, 'second', '{{.NetworkSettings.Networks.tiny.IPAddress}}'), '192.0.2.2');
    await fails(lab, ['rm', 'nosuch'], /No such container: nosuch/);
  });

  test('berth create makes a container that is not started (as docker create): its id printed, start runs it', async (t) => {
    const lab = await labFor(t);
    const id = await ok(lab, ['create', '--name', 'made', '-p', '8081:80', '--', 'sleep', '3600']);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(await inspect(lab, 'made', '{{.State.Status}}'), 'created');
    assert.equal(await inspect(lab, 'made', '{{.NetworkSettings.SandboxKey}}'), '', 'no sandbox before the start');
    assert.equal(await inspect(lab, 'made', '{{(index (index .HostConfig.PortBindings "80/tcp") 0).HostPort}}'), '8081');
    await ok(lab, ['start', 'made']);
    assert.equal(await inspect(lab, 'made', '{{.State.Status}}'), 'running');
    await fails(lab, ['create', '--name', 'made', '--', 'true'], /is already in use/);
    await ok(lab, ['rm', '-f', 'made']);
  });
});
