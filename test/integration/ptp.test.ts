import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor, type Lab } from '../lab/lab.js';
import { fails, hostOk, inspect, ok, pingFrom, runSleeper } from './helpers.js';

// Seed scenario 24: point-to-point links, the way lab topologies wire routers and hosts:
// the two ends of one veth pair straight between two containers, no bridge, no host end.

/** The lab host's links as name:kind, and the netns under the exec-root. */
async function hostView(lab: Lab): Promise<{ links: string[]; bridges: string[]; veths: string[] }> {
  const all = JSON.parse(await hostOk(lab, ['ip', '-d', '-j', 'link', 'show'])) as { ifname: string; linkinfo?: { info_kind?: string } }[];
  const kind = (k: string) => all.filter((l) => l.linkinfo?.info_kind === k).map((l) => l.ifname).sort();
  return { links: all.map((l) => `${l.ifname}:${l.linkinfo?.info_kind ?? ''}`).sort(), bridges: kind('bridge'), veths: kind('veth') };
}

describe('ptp', { concurrency: false }, () => {
  test('two containers ping over the link; the host has no bridge and no veth end of it', async (t) => {
    const lab = await labFor(t);
    const before = await hostView(lab);
    const id = await ok(lab, ['network', 'create', '-d', 'ptp', '--subnet', '10.99.0.0/29', 'wire']);
    await runSleeper(lab, 'r1', ['--network', 'wire']);
    await runSleeper(lab, 'h1', ['--network', 'wire']);
    const ipR = await inspect(lab, 'r1', '{{.NetworkSettings.Networks.wire.IPAddress}}');
    const ipH = await inspect(lab, 'h1', '{{.NetworkSettings.Networks.wire.IPAddress}}');
    assert.ok(await pingFrom(lab, 'r1', ipH));
    assert.ok(await pingFrom(lab, 'h1', ipR));

    const [eth0] = JSON.parse(await ok(lab, ['exec', 'r1', 'ip', '-d', '-j', 'link', 'show', 'eth0']));
    assert.equal(eth0.linkinfo.info_kind, 'veth');
    assert.equal(eth0.address, await inspect(lab, 'r1', '{{.NetworkSettings.Networks.wire.MacAddress}}'));
    assert.equal(await ok(lab, ['exec', 'r1', 'ip', '-4', 'route', 'show', 'default']), '', 'no default route unless asked');
    const after = await hostView(lab);
    assert.deepEqual(after.bridges, before.bridges, 'no bridge for the link');
    assert.deepEqual(after.veths, before.veths, 'no host-side veth');
    assert.deepEqual(after.links, before.links);
    // the pair's ends are in the containers, not parked
    const parking = `${lab.execRoot}/ptp/${id.slice(0, 12)}`;
    const parked = JSON.parse(await hostOk(lab, ['nsenter', `--net=${parking}`, 'ip', '-j', 'link', 'show'])) as { ifname: string }[];
    assert.deepEqual(parked.map((l) => l.ifname), ['lo']);
  });

  test('a third endpoint is refused cleanly; connect and disconnect work live', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '-d', 'ptp', '--subnet', '10.99.0.0/29', 'wire']);
    await runSleeper(lab, 'ca', ['--network', 'wire']);
    await runSleeper(lab, 'cb');
    await runSleeper(lab, 'cc');
    await ok(lab, ['network', 'connect', 'wire', 'cb']);
    const ipB = await inspect(lab, 'cb', '{{.NetworkSettings.Networks.wire.IPAddress}}');
    assert.ok(await pingFrom(lab, 'ca', ipB), 'a live connect gives b the free end');
    await fails(lab, ['network', 'connect', 'wire', 'cc'], /network wire is full: a ptp network holds at most 2 containers/);
    assert.equal(await inspect(lab, 'cc', '{{len .NetworkSettings.Networks}}'), '1', 'c is still on its one network');
    assert.doesNotMatch(await ok(lab, ['exec', 'cc', 'ip', '-o', 'link']), /eth1/, 'and has no half-made interface');
    assert.equal((await lab.berth(['run', '--rm', '--network', 'wire', '--', 'true'])).code === 0, false, 'a third run is refused too');

    await ok(lab, ['network', 'disconnect', 'wire', 'cb']);
    assert.equal(await pingFrom(lab, 'ca', ipB), false);
    await ok(lab, ['network', 'connect', 'wire', 'cc']);
    const ipC = await inspect(lab, 'cc', '{{.NetworkSettings.Networks.wire.IPAddress}}');
    assert.ok(await pingFrom(lab, 'ca', ipC), 'the end b gave back is c\'s now');
  });

  // a ptp network keeps no gateway address back (its driver's reservesGateway is false)
  test('a /31 holds both ends; --gateway on a /30 routes one end through the other', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '-d', 'ptp', '--subnet', '10.98.0.0/31', 'p31']);
    await runSleeper(lab, 'cx', ['--network', 'p31']);
    await runSleeper(lab, 'cy', ['--network', 'p31']);
    const ipX = await inspect(lab, 'cx', '{{.NetworkSettings.Networks.p31.IPAddress}}');
    const ipY = await inspect(lab, 'cy', '{{.NetworkSettings.Networks.p31.IPAddress}}');
    assert.deepEqual([ipX, ipY].sort(), ['10.98.0.0', '10.98.0.1']);
    assert.ok(await pingFrom(lab, 'cx', ipY));
    assert.doesNotMatch(await ok(lab, ['exec', 'cx', 'ip', 'route']), /default/, 'no default route unless asked');
    // asked: the end that holds the --gateway address is the other end's default route
    await ok(lab, ['network', 'create', '-d', 'ptp', '--subnet', '10.97.0.0/30', '--gateway', '10.97.0.1', 'uplink']);
    await runSleeper(lab, 'router', ['--network', 'uplink', '--ip', '10.97.0.1']);
    await runSleeper(lab, 'leaf', ['--network', 'uplink']);
    assert.equal(await inspect(lab, 'leaf', '{{.NetworkSettings.Networks.uplink.IPAddress}}'), '10.97.0.2');
    assert.match(await ok(lab, ['exec', 'leaf', 'ip', 'route']), /^default via 10\.97\.0\.1 dev eth0/m);
    assert.doesNotMatch(await ok(lab, ['exec', 'router', 'ip', 'route']), /default/);
    assert.ok(await pingFrom(lab, 'leaf', '10.97.0.1'));
  });

  test('dual stack: each end gets both addresses and pings the other over both; --gateway of each family routes one end through the other; IPv6-only works too', async (t) => {
    const lab = await labFor(t);
    const ping6 = async (from: string, to: string) => (await lab.berth(['exec', from, 'ping', '-6', '-c1', '-W2', to])).code === 0;
    await ok(lab, ['network', 'create', '-d', 'ptp', '--ipv6', '--subnet', '10.96.0.0/30', '--gateway', '10.96.0.1', '--subnet', 'fd00:96::/64', '--gateway', 'fd00:96::1', 'dual']);
    await runSleeper(lab, 'router', ['--network', 'dual', '--ip', '10.96.0.1', '--ip6', 'fd00:96::1']);
    await runSleeper(lab, 'leaf', ['--network', 'dual']);
    const leaf6 = await inspect(lab, 'leaf', '{{.NetworkSettings.Networks.dual.GlobalIPv6Address}}');
    assert.match(leaf6, /^fd00:96::[0-9a-f]+$/);
    assert.match(await ok(lab, ['exec', 'leaf', 'ip', '-o', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet 10\\.96\\.0\\.2/30[\\s\\S]*inet6 ${leaf6}/64`));
    assert.match(await ok(lab, ['exec', 'leaf', 'ip', '-6', 'route', 'show', 'default']), /^default via fd00:96::1 dev eth0/m);
    assert.match(await ok(lab, ['exec', 'leaf', 'ip', '-4', 'route', 'show', 'default']), /^default via 10\.96\.0\.1 dev eth0/m);
    assert.equal(await ok(lab, ['exec', 'router', 'ip', '-6', 'route', 'show', 'default']), '', 'the end that is the gateway has no route through itself');
    assert.ok(await ping6('leaf', 'fd00:96::1'), 'over IPv6, by address');
    assert.ok(await ping6('router', 'leaf'), 'over IPv6, by name');
    assert.ok(await pingFrom(lab, 'leaf', '10.96.0.1'), 'and over IPv4');
    assert.equal(await inspect(lab, 'leaf', '{{.NetworkSettings.Networks.dual.IPv6Gateway}}'), 'fd00:96::1');
    // IPv6 only: no IPv4 at all on the link
    await ok(lab, ['network', 'create', '-d', 'ptp', '--ipv6', '--ipv4=false', '--subnet', 'fd00:95::/64', 'wire6']);
    await runSleeper(lab, 'p1', ['--network', 'wire6']);
    await runSleeper(lab, 'p2', ['--network', 'wire6']);
    assert.doesNotMatch(await ok(lab, ['exec', 'p1', 'ip', '-o', 'addr', 'show', 'dev', 'eth0']), /\binet /);
    assert.equal(await inspect(lab, 'p1', '{{.NetworkSettings.Networks.wire6.IPAddress}}'), '');
    assert.ok(await ping6('p1', 'p2'), 'by name, over IPv6');
  });

  test('names resolve over the link', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '-d', 'ptp', '--subnet', '10.99.0.0/29', 'wire']);
    await runSleeper(lab, 'ca', ['--network', 'wire']);
    await runSleeper(lab, 'cb', ['--network', 'wire']);
    const ipB = await inspect(lab, 'cb', '{{.NetworkSettings.Networks.wire.IPAddress}}');
    assert.match(await ok(lab, ['exec', 'ca', 'getent', 'hosts', 'cb']), new RegExp(`^${ipB.replace(/\./g, '\\.')}\\s`));
    assert.ok(await pingFrom(lab, 'ca', 'cb'));
  });

  test('the link survives daemon and container restarts; a removed container\'s end is reused; network rm removes the parking netns', async (t) => {
    const lab = await labFor(t);
    const id = await ok(lab, ['network', 'create', '-d', 'ptp', '--subnet', '10.99.0.0/29', 'wire']);
    const parking = `${lab.execRoot}/ptp/${id.slice(0, 12)}`;
    await runSleeper(lab, 'ca', ['--network', 'wire']);
    await lab.restartDaemon();
    await runSleeper(lab, 'cb', ['--network', 'wire']);
    assert.ok(await pingFrom(lab, 'ca', await inspect(lab, 'cb', '{{.NetworkSettings.Networks.wire.IPAddress}}')));
    // a container restart gives its end back and takes it again
    await ok(lab, ['restart', '-t', '0', 'cb']);
    assert.ok(await pingFrom(lab, 'ca', await inspect(lab, 'cb', '{{.NetworkSettings.Networks.wire.IPAddress}}')), 'after a container restart');
    await ok(lab, ['rm', '-f', 'cb']);
    await runSleeper(lab, 'cd', ['--network', 'wire']);
    assert.ok(await pingFrom(lab, 'ca', await inspect(lab, 'cd', '{{.NetworkSettings.Networks.wire.IPAddress}}')), 'a removed container\'s end is the next one\'s');
    await ok(lab, ['rm', '-f', 'ca', 'cd']);
    await ok(lab, ['network', 'rm', 'wire']);
    assert.equal((await lab.inHost(['test', '-e', parking])).code, 1, 'the parking netns is gone');
  });

  test('after a reboot (an empty exec-root) the network makes its parked pair again', async (t) => {
    const lab = await labFor(t);
    const id = await ok(lab, ['network', 'create', '-d', 'ptp', '--subnet', '10.99.0.0/29', 'wire']);
    const parking = `${lab.execRoot}/ptp/${id.slice(0, 12)}`;
    await lab.stopDaemon();
    await hostOk(lab, ['umount', parking]);
    await hostOk(lab, ['rm', parking]);
    await lab.startDaemon();
    const parked = JSON.parse(await hostOk(lab, ['nsenter', `--net=${parking}`, 'ip', '-j', 'link', 'show'])) as { ifname: string }[];
    assert.deepEqual(parked.map((l) => l.ifname).sort(), ['lo', `ptp${id.slice(0, 10)}a`, `ptp${id.slice(0, 10)}b`]);
    await runSleeper(lab, 'ca', ['--network', 'wire']);
    await runSleeper(lab, 'cb', ['--network', 'wire']);
    assert.ok(await pingFrom(lab, 'ca', await inspect(lab, 'cb', '{{.NetworkSettings.Networks.wire.IPAddress}}')));
  });
});
