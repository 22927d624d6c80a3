import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { labFor } from '../lab/lab.js';
import { hostOk, inspect, ok, pingFrom, runSleeper } from './helpers.js';

// Issue 13, the host's side of IPv6: host routes of both families keep berth's default
// pools clear of what the host already reaches; berthd --ipv6 / --fixed-cidr-v6 make the
// default bridge dual stack.

type TestLab = Awaited<ReturnType<typeof labFor>>;

/** "true 172.17.0.0/16 172.17.0.1,fd00:d0::/64 fd00:d0::1": the default bridge's EnableIPv6 and IPAM configs. */
async function bridgeShape(lab: TestLab): Promise<string> {
  return ok(lab, ['network', 'inspect', '-f', '{{.EnableIPv6}} {{range $i, $c := .IPAM.Config}}{{if $i}},{{end}}{{$c.Subnet}} {{$c.Gateway}}{{end}}', 'bridge']);
}

/** The one line berthd refused to start with. */
async function refusal(lab: TestLab, args: string[]): Promise<string> {
  const err = await lab.startDaemon(args).then(() => undefined, (e: Error) => e.message);
  assert.ok(err, `berthd started with ${args.join(' ')}`);
  // the lab's error: "berthd exited with code N before answering /_ping:" then berthd's output
  const said = err.split('\n').slice(1).filter(Boolean);
  assert.equal(said.length, 1, err);
  return said[0];
}

/** The IPv6 subnet of a network ("" when it has none). */
async function subnet6(lab: Awaited<ReturnType<typeof labFor>>, name: string): Promise<string> {
  const cfgs = (await ok(lab, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}},{{end}}', name])).split(',');
  return cfgs.find((c) => c.includes(':')) ?? '';
}

describe('IPv6 on the host', { concurrency: false }, () => {
  test('the default IPv6 pool skips a /64 a host route already covers, as the IPv4 pool does', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--ipv6', 'first']);
    const first = await subnet6(lab, 'first');
    const m = /^(fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4})::\/64$/.exec(first);
    assert.ok(m, `the first /64 of the engine's /48: ${first}`);
    // the /64 berth would hand out next is routed by the host (through its uplink)
    await hostOk(lab, ['ip', '-6', 'route', 'add', `${m[1]}:1::/64`, 'dev', 'uplink0']);
    await ok(lab, ['network', 'create', '--ipv6', 'second']);
    assert.equal(await subnet6(lab, 'second'), `${m[1]}:2::/64`, 'the routed /64 is passed over');
    // the route gone, that /64 is free again
    await hostOk(lab, ['ip', '-6', 'route', 'del', `${m[1]}:1::/64`, 'dev', 'uplink0']);
    await ok(lab, ['network', 'create', '--ipv6', 'third']);
    assert.equal(await subnet6(lab, 'third'), `${m[1]}:1::/64`);
  });

  test('--ipv6 --fixed-cidr-v6: the default bridge is dual stack, its containers get IPv6 addresses, a v6 default route, and reach the gateway and each other', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--ipv6', '--fixed-cidr-v6', 'fd00:d0::/64'] });
    assert.equal(await bridgeShape(lab), 'true 172.17.0.0/16 172.17.0.1,fd00:d0::/64 fd00:d0::1');
    await runSleeper(lab, 'b1');
    await runSleeper(lab, 'b2');
    const shape = '{{.NetworkSettings.GlobalIPv6Address}}/{{.NetworkSettings.GlobalIPv6PrefixLen}} gw {{.NetworkSettings.IPv6Gateway}}' +
      ' | {{.NetworkSettings.Networks.bridge.GlobalIPv6Address}}/{{.NetworkSettings.Networks.bridge.GlobalIPv6PrefixLen}} gw {{.NetworkSettings.Networks.bridge.IPv6Gateway}}';
    assert.equal(await inspect(lab, 'b1', shape), 'fd00:d0::2/64 gw fd00:d0::1 | fd00:d0::2/64 gw fd00:d0::1');
    assert.equal(await inspect(lab, 'b2', '{{.NetworkSettings.GlobalIPv6Address}}'), 'fd00:d0::3');
    assert.equal(await inspect(lab, 'b1', '{{.NetworkSettings.IPAddress}}'), '172.17.0.2', 'IPv4 as before');
    assert.match(await ok(lab, ['exec', 'b1', 'ip', '-6', 'route', 'show', 'default']), /^default via fd00:d0::1 dev eth0/);
    assert.ok(await pingFrom(lab, 'b1', 'fd00:d0::1'), 'ping6 the gateway');
    assert.ok(await pingFrom(lab, 'b1', 'fd00:d0::3'), 'ping6 the other container');
    assert.ok(await pingFrom(lab, 'b2', '172.17.0.2'), 'and IPv4 still');
    assert.match(await hostOk(lab, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'berth0']), /inet6 fd00:d0::1\/64/);
  });

  test('a restart with other IPv6 flags (or daemon.json keys) reshapes the default bridge; --ipv6 alone takes a /64 of the default IPv6 pool and keeps it', async (t) => {
    const lab = await labFor(t);
    assert.equal(await bridgeShape(lab), 'false 172.17.0.0/16 172.17.0.1');
    await lab.restartDaemon(['--ipv6']);
    const auto = await bridgeShape(lab);
    const m = /^true 172\.17\.0\.0\/16 172\.17\.0\.1,(fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4})::\/64 \1::1$/.exec(auto);
    assert.ok(m, `a ULA /64 of the engine's /48: ${auto}`);
    await lab.restartDaemon(['--ipv6']);
    assert.equal(await bridgeShape(lab), auto, 'kept across a restart with the same flags');
    // a user network sees the default bridge's /64 taken
    await ok(lab, ['network', 'create', '--ipv6', 'user6']);
    assert.notEqual(await subnet6(lab, 'user6'), `${m[1]}::/64`);
    await runSleeper(lab, 'a1');
    assert.equal(await inspect(lab, 'a1', '{{.NetworkSettings.GlobalIPv6Address}} {{.NetworkSettings.IPv6Gateway}}'), `${m[1]}::2 ${m[1]}::1`);
    assert.ok(await pingFrom(lab, 'a1', `${m[1]}::1`));
    await ok(lab, ['rm', '-f', 'a1']);
    await lab.restartDaemon(['--ipv6', '--fixed-cidr-v6', 'fd00:d1::/64']);
    assert.equal(await bridgeShape(lab), 'true 172.17.0.0/16 172.17.0.1,fd00:d1::/64 fd00:d1::1');
    // daemon.json's keys do what the flags do
    writeFileSync(lab.configFile, JSON.stringify({ ipv6: true, 'fixed-cidr-v6': 'fd00:d2::/64' }));
    await lab.restartDaemon([]);
    assert.equal(await bridgeShape(lab), 'true 172.17.0.0/16 172.17.0.1,fd00:d2::/64 fd00:d2::1');
    writeFileSync(lab.configFile, '{}');
    await lab.restartDaemon([]);
    assert.equal(await bridgeShape(lab), 'false 172.17.0.0/16 172.17.0.1', 'IPv4 only again');
    assert.doesNotMatch(await hostOk(lab, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'berth0']), /fd00:d[12]::1/);
  });

  test('bad --fixed-cidr-v6 values: berthd refuses to start, in one line', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:e0::/64', 'taken6']);
    await lab.stopDaemon();
    assert.match(await refusal(lab, ['--ipv6', '--fixed-cidr-v6', '10.0.0.0/8']), /invalid CIDR address: 10\.0\.0\.0\/8/);
    assert.match(await refusal(lab, ['--ipv6', '--fixed-cidr-v6', 'fd00:e1::zz/64']), /invalid CIDR address: fd00:e1::zz\/64/);
    assert.match(await refusal(lab, ['--ipv6', '--fixed-cidr-v6', 'fd00:e0::/56']), /invalid --fixed-cidr-v6 fd00:e0::\/56: it overlaps fd00:e0::\/64, the subnet of another network/);
    // nothing was changed by the refused starts
    await lab.startDaemon([]);
    assert.equal(await bridgeShape(lab), 'false 172.17.0.0/16 172.17.0.1');
    assert.equal(await subnet6(lab, 'taken6'), 'fd00:e0::/64');
  });

  test('--ip-forward covers IPv6: the first IPv6 network turns forwarding on, after moving accept_ra 1 to 2; IPv4-only leaves the host as it was', async (t) => {
    const lab = await labFor(t);
    const sysctls = async () => (await hostOk(lab, ['sh', '-c',
      'cat /proc/sys/net/ipv6/conf/all/forwarding /proc/sys/net/ipv6/conf/default/forwarding /proc/sys/net/ipv6/conf/uplink0/accept_ra /proc/sys/net/ipv6/conf/default/accept_ra'])).split('\n').join(' ');
    assert.equal(await sysctls(), '0 0 1 1', 'before any IPv6 network: forwarding off, uplink0 takes router advertisements');
    await ok(lab, ['network', 'create', 'only4']);
    assert.equal(await sysctls(), '0 0 1 1', 'an IPv4-only network changes nothing');
    await ok(lab, ['network', 'create', '--ipv6', 'dual']);
    assert.equal(await sysctls(), '1 1 2 2', 'forwarding on; uplink0 still takes router advertisements (accept_ra=2)');
    assert.match(lab.daemonLog(), /IPv6 forwarding: accept_ra 1 -> 2 on default, .*uplink0/);
    // a container of the dual-stack network reaches the internet over IPv6, masqueraded to the uplink's address
    await runSleeper(lab, 'd1', ['--network', 'dual']);
    const sandbox = await inspect(lab, 'd1', '{{.NetworkSettings.SandboxKey}}');
    assert.equal(await lab.echoFrom(sandbox, 'tcp', lab.internetAddr6), lab.hostUplinkAddr6);
    // restored at start: a host reset meanwhile is set again
    await lab.stopDaemon();
    await hostOk(lab, ['sh', '-c', 'echo 0 > /proc/sys/net/ipv6/conf/all/forwarding; echo 1 > /proc/sys/net/ipv6/conf/uplink0/accept_ra; echo 1 > /proc/sys/net/ipv6/conf/default/accept_ra']);
    assert.equal(await sysctls(), '0 0 1 1', 'the host reset while berthd was down');
    await lab.startDaemon();
    assert.equal(await sysctls(), '1 1 2 2', 'the restored IPv6 network turns it on again');
    assert.equal(await lab.echoFrom(sandbox, 'tcp', lab.internetAddr6), lab.hostUplinkAddr6);
  });

  test('--ip-forward=false: IPv6 networks leave forwarding and accept_ra alone', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--ip-forward=false'] });
    const sysctls = async () => (await hostOk(lab, ['sh', '-c',
      'cat /proc/sys/net/ipv6/conf/all/forwarding /proc/sys/net/ipv6/conf/uplink0/accept_ra /proc/sys/net/ipv6/conf/default/accept_ra'])).split('\n').join(' ');
    await ok(lab, ['network', 'create', '--ipv6', 'dual']);
    await runSleeper(lab, 'd1', ['--network', 'dual']);
    assert.equal(await sysctls(), '0 1 1');
    assert.doesNotMatch(lab.daemonLog(), /IPv6 forwarding/);
  });
});

