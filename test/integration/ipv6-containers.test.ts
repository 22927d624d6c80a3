import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor, type Lab } from '../lab/lab.js';
import { fails, inspect, ok, runSleeper } from './helpers.js';

// Containers on dual-stack networks (issue 13): each endpoint gets its IPv6 address next to
// its IPv4 one (static with --ip6, else the next free), usable at once, a default route of
// each family, both in /etc/hosts, names answered with AAAA; the addresses come back after
// a restart and are freed by rm; --ip6 refused where dockerd refuses it.

const v6 = (lab: Lab, name: string, net: string) => inspect(lab, name, `{{(index .NetworkSettings.Networks "${net}").GlobalIPv6Address}}`);
const ping6 = async (lab: Lab, from: string, to: string) => (await lab.berth(['exec', from, 'ping', '-6', '-c1', '-W2', to])).code === 0;

describe('IPv6 containers', { concurrency: false }, () => {
  test('dual-stack endpoints: addresses, routes, names, hosts, inspect; other networks isolated', async (t) => {
    const lab = await labFor(t);
    await lab.inHost(['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']); // so the firewall alone isolates
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', '10.81.0.0/24', '--subnet', 'fd00:81::/64', 'd81']);
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', '10.82.0.0/24', '--subnet', 'fd00:82::/64', 'd82']);
    await runSleeper(lab, 'sixa', ['--network', 'd81', '--ip6', 'fd00:81::a']);
    await runSleeper(lab, 'sixb', ['--network', 'd81']);
    await runSleeper(lab, 'sixc', ['--network', 'd82']);
    assert.equal(await v6(lab, 'sixa', 'd81'), 'fd00:81::a');
    const b = await v6(lab, 'sixb', 'd81');
    assert.match(b, /^fd00:81::[0-9a-f]+$/);
    assert.equal(await inspect(lab, 'sixa', '{{(index .NetworkSettings.Networks "d81").GlobalIPv6PrefixLen}} {{(index .NetworkSettings.Networks "d81").IPv6Gateway}} {{(index .NetworkSettings.Networks "d81").IPAMConfig.IPv6Address}}'), '64 fd00:81::1 fd00:81::a');
    assert.match(await ok(lab, ['network', 'inspect', '-f', '{{range .Containers}}{{.IPv6Address}} {{end}}', 'd81']), /fd00:81::a\/64/);
    // inside: the address usable at once, the IPv6 default route, both families in /etc/hosts
    assert.match(await ok(lab, ['exec', 'sixa', 'ip', '-6', 'route', 'show', 'default']), /default via fd00:81::1 dev eth0/);
    assert.doesNotMatch(await ok(lab, ['exec', 'sixa', 'ip', '-6', 'addr', 'show', 'dev', 'eth0']), /tentative/);
    assert.match(await ok(lab, ['exec', 'sixa', 'cat', '/etc/hosts']), /^fd00:81::a\s/m);
    assert.ok(await ping6(lab, 'sixa', b), 'same network, by address');
    assert.ok(await ping6(lab, 'sixa', 'sixb'), 'same network, by name (AAAA from the embedded resolver)');
    assert.ok(await ping6(lab, 'sixa', 'fd00:81::1'), 'its gateway');
    assert.equal(await ping6(lab, 'sixa', await v6(lab, 'sixc', 'd82')), false, 'another network: isolated');
    // connect and disconnect take IPv6 along
    await ok(lab, ['network', 'connect', '--ip6', 'fd00:82::77', 'd82', 'sixb']);
    assert.match(await ok(lab, ['exec', 'sixb', 'ip', '-6', '-o', 'addr', 'show', 'dev', 'eth1']), /fd00:82::77\/64/);
    await ok(lab, ['network', 'disconnect', 'd82', 'sixb']);
    // a restart keeps the addresses taken; rm gives them back
    await lab.restartDaemon();
    await runSleeper(lab, 'sixd', ['--network', 'd81']);
    assert.ok(![b, 'fd00:81::a'].includes(await v6(lab, 'sixd', 'd81')), 'a running container\'s address is not handed out again');
    assert.ok(await ping6(lab, 'sixa', b), 'still reachable after the restart');
    await ok(lab, ['rm', '-f', 'sixa']);
    await runSleeper(lab, 'sixe', ['--network', 'd81', '--ip6', 'fd00:81::a']);
    await ok(lab, ['rm', '-f', 'sixb', 'sixc', 'sixd', 'sixe']);
  });

  test('--ip6 refused where dockerd refuses it, nothing made', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--subnet', '10.83.0.0/24', 'v4only']);
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:84::/64', 'd84']);
    await runSleeper(lab, 'holder', ['--network', 'd84', '--ip6', 'fd00:84::5']);
    await fails(lab, ['run', '-d', '--network', 'v4only', '--ip6', 'fd00:83::5', '--', 'true'], /user specified IP address is supported only when connecting to networks with user configured subnets/);
    await fails(lab, ['run', '-d', '--network', 'd84', '--ip6', 'fd00:99::5', '--', 'true'], /does not belong to any of this network's subnets/);
    await fails(lab, ['run', '-d', '--network', 'd84', '--ip6', 'fd00:84::5', '--', 'true'], /Address already in use/);
    await fails(lab, ['run', '-d', '--network', 'd84', '--ip6', 'not-an-ip', '--', 'true'], /invalid IPv6 address/);
    assert.equal((await ok(lab, ['ps', '-aq'])).split('\n').filter(Boolean).length, 1, 'only the holder exists');
  });
});
