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
    await runSleeper(lab, 'a', ['--network', 'wire']);
    await runSleeper(lab, 'b');
    await runSleeper(lab, 'c');
    await ok(lab, ['network', 'connect', 'wire', 'b']);
    const ipB = await inspect(lab, 'b', '{{.NetworkSettings.Networks.wire.IPAddress}}');
    assert.ok(await pingFrom(lab, 'a', ipB), 'a live connect gives b the free end');
    await fails(lab, ['network', 'connect', 'wire', 'c'], /wire/);
    assert.equal(await inspect(lab, 'c', '{{len .NetworkSettings.Networks}}'), '1', 'c is still on its one network');
    assert.doesNotMatch(await ok(lab, ['exec', 'c', 'ip', '-o', 'link']), /eth1/, 'and has no half-made interface');
    assert.equal((await lab.berth(['run', '--rm', '--network', 'wire', '--', 'true'])).code === 0, false, 'a third run is refused too');

    await ok(lab, ['network', 'disconnect', 'wire', 'b']);
    assert.equal(await pingFrom(lab, 'a', ipB), false);
    await ok(lab, ['network', 'connect', 'wire', 'c']);
    const ipC = await inspect(lab, 'c', '{{.NetworkSettings.Networks.wire.IPAddress}}');
    assert.ok(await pingFrom(lab, 'a', ipC), 'the end b gave back is c\'s now');
  });

  test('--gateway asks for a default route: the container holding it routes for the other', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '-d', 'ptp', '--subnet', '10.99.0.0/29', '--gateway', '10.99.0.1', 'uplink']);
    await runSleeper(lab, 'router', ['--network', 'uplink', '--ip', '10.99.0.1']);
    await runSleeper(lab, 'leaf', ['--network', 'uplink', '--ip', '10.99.0.2']);
    assert.match(await ok(lab, ['exec', 'leaf', 'ip', '-4', 'route', 'show', 'default']), /^default via 10\.99\.0\.1 dev eth0/);
    assert.equal(await ok(lab, ['exec', 'router', 'ip', '-4', 'route', 'show', 'default']), '');
  });

  test('a /31 holds both ends', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '-d', 'ptp', '--subnet', '10.98.0.0/31', 'p31']);
    await runSleeper(lab, 'x', ['--network', 'p31']);
    await runSleeper(lab, 'y', ['--network', 'p31']);
    const ipX = await inspect(lab, 'x', '{{.NetworkSettings.Networks.p31.IPAddress}}');
    const ipY = await inspect(lab, 'y', '{{.NetworkSettings.Networks.p31.IPAddress}}');
    assert.deepEqual([ipX, ipY].sort(), ['10.98.0.0', '10.98.0.1']);
    assert.ok(await pingFrom(lab, 'x', ipY));
  });

  test('network rm removes the parking netns; a daemon restart keeps the link', async (t) => {
    const lab = await labFor(t);
    const id = await ok(lab, ['network', 'create', '-d', 'ptp', '--subnet', '10.99.0.0/29', 'wire']);
    const parking = `${lab.execRoot}/ptp/${id.slice(0, 12)}`;
    await runSleeper(lab, 'a', ['--network', 'wire']);
    await lab.restartDaemon();
    await runSleeper(lab, 'b', ['--network', 'wire']);
    assert.ok(await pingFrom(lab, 'a', await inspect(lab, 'b', '{{.NetworkSettings.Networks.wire.IPAddress}}')));
    await ok(lab, ['rm', '-f', 'a', 'b']);
    await ok(lab, ['network', 'rm', 'wire']);
    assert.equal((await lab.inHost(['test', '-e', parking])).code, 1, 'the parking netns is gone');
  });
});
