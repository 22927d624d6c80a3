import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor, type Lab } from '../lab/lab.js';
import { DOCKER_28, dockerFails, dockerOk, installedClients } from '../compat/docker-cli.js';
import { fails, hostLinks, hostOk, inspect, ok, pingFrom, runSleeper } from './helpers.js';

// Issue 13, the IPAM and network-record part: dual-stack and IPv6-only networks are
// created, inspected, listed and removed through berth's CLI, the API and the real docker
// CLI; the default IPv6 pool hands out distinct /64s of the engine's ULA /48; bad IPv6
// input is one line, a 4xx, nothing made. Containers on them: ipv6-containers.test.ts and
// ipv6-only.test.ts.

/** What a bad request must leave as it was: networks, containers, host links. */
async function world(lab: Lab): Promise<string> {
  const nets = await ok(lab, ['network', 'ls', '--format', '{{.Name}}']);
  const ctrs = await ok(lab, ['ps', '-a', '--format', '{{.Names}}']);
  const links = (await hostLinks(lab)).map((l) => l.ifname).sort().join(',');
  return `${nets}\n--\n${ctrs}\n--\n${links}`;
}

/** "true 172.24.0.0/16/172.24.0.254/ fd00:ab::/64/fd00:ab::fe/fd00:ab::100/120": EnableIPv6, then subnet/gateway/ip-range of each config. */
async function subnets(lab: Lab, name: string): Promise<string> {
  const n = JSON.parse(await ok(lab, ['network', 'inspect', name]))[0] as { EnableIPv6: boolean; IPAM: { Config: { Subnet: string; Gateway?: string; IPRange?: string }[] } };
  return [String(n.EnableIPv6), ...n.IPAM.Config.map((c) => `${c.Subnet}/${c.Gateway ?? ''}/${c.IPRange ?? ''}`)].join(' ');
}

describe('IPv6 networks', { concurrency: false }, () => {
  test('dual stack: --ipv6 with both subnets in any order, IPv4 listed first; containers work over IPv4; rm gives both pools back', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'FD00:AB::/64', '--gateway', 'fd00:ab::fe', '--ip-range', 'fd00:ab::100/120',
      '--subnet', '172.24.0.0/16', '--gateway', '172.24.0.254', 'dual']);
    assert.equal(await subnets(lab, 'dual'), 'true 172.24.0.0/16/172.24.0.254/ fd00:ab::/64/fd00:ab::fe/fd00:ab::100/120');
    assert.equal(await ok(lab, ['network', 'ls', '--format', '{{.Name}} {{.IPv6}}', '--filter', 'name=dual']), 'dual true');
    assert.equal(await ok(lab, ['network', 'ls', '--format', '{{.Name}} {{.IPv6}}', '--filter', 'name=bridge']), 'bridge false');
    // the second IPv6 network may not overlap the first; an IPv4 subnet of a dual-stack one is taken as any other
    await fails(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:ab::/48', 'clash'], /overlaps with other one/);
    await fails(lab, ['network', 'create', '--subnet', '172.24.5.0/24', 'clash'], /overlaps with other one/);
    await runSleeper(lab, 'd1', ['--network', 'dual']);
    await runSleeper(lab, 'd2', ['--network', 'dual']);
    assert.equal(await inspect(lab, 'd1', '{{.NetworkSettings.Networks.dual.IPAddress}}/{{.NetworkSettings.Networks.dual.IPPrefixLen}} gw {{.NetworkSettings.Networks.dual.Gateway}}'), '172.24.0.1/16 gw 172.24.0.254', 'the gateway at .254 leaves .1 to the first container, as in Docker');
    assert.ok(await pingFrom(lab, 'd2', '172.24.0.1'), 'IPv4 between two containers of a dual-stack network');
    assert.ok(await pingFrom(lab, 'd1', '172.24.0.254'), 'and to the gateway');
    await ok(lab, ['rm', '-f', 'd1', 'd2']);
    await ok(lab, ['network', 'rm', 'dual']);
    // both subnets are free again
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:ab::/64', '--subnet', '172.24.0.0/16', 'again']);
    assert.equal(await subnets(lab, 'again'), 'true 172.24.0.0/16/172.24.0.1/ fd00:ab::/64/fd00:ab::1/');
  });

  test('--ipv6 without an IPv6 subnet: distinct /64s of one ULA /48, clear of the given ones; kept across a daemon restart', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--ipv6', 'auto1']);
    await ok(lab, ['network', 'create', '--ipv6', 'auto2']);
    const v6 = async (n: string) => (await ok(lab, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}},{{end}}', n])).split(',').filter(Boolean);
    const [a4, a6] = await v6('auto1');
    const [b4, b6] = await v6('auto2');
    assert.match(a4, /^172\.\d+\.0\.0\/16 172\.\d+\.0\.1$/);
    assert.notEqual(a4, b4);
    // the first /64 of the /48 is the /48's own address; the second ends in :1
    const m = /^(fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4})::\/64 \1::1$/.exec(a6);
    assert.ok(m, a6);
    assert.equal(b6, `${m[1]}:1::/64 ${m[1]}:1::1`, 'the next /64 of the same /48');
    await lab.restartDaemon();
    assert.deepEqual(await v6('auto2'), [b4, b6], 'the record is replayed as it was');
    await ok(lab, ['network', 'create', '--ipv6', 'auto3']);
    const [, c6] = await v6('auto3');
    assert.ok(![a6, b6].includes(c6), `a third /64 after the restart: ${c6}`);
  });

  test('IPv6-only (--ipv4=false): created, listed, inspected and removed, on ptp and on the bridge (its IPv6 gateway alone)', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '-d', 'ptp', '--ipv6', '--ipv4=false', '--subnet', 'fd00:cc::/64', 'only6']);
    assert.equal(await subnets(lab, 'only6'), 'true fd00:cc::/64//', 'ptp reserves no gateway');
    assert.match(await ok(lab, ['network', 'ls', '--format', '{{.Name}} {{.IPv6}}']), /^only6 true$/m);
    await ok(lab, ['network', 'create', '--ipv6', '--ipv4=false', 'only6br']);
    const [sub6, gw6] = (await ok(lab, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'only6br'])).split(' ');
    assert.match(sub6, /^fd[0-9a-f:]+::\/64$/, 'a /64 of the default IPv6 pool');
    const br = `br-${(await ok(lab, ['network', 'inspect', '-f', '{{.Id}}', 'only6br'])).slice(0, 12)}`;
    const brAddrs = await hostOk(lab, ['ip', '-o', 'addr', 'show', 'dev', br]);
    assert.match(brAddrs, new RegExp(`inet6 ${gw6}/64`));
    assert.doesNotMatch(brAddrs, /\binet /, 'no IPv4 address on its bridge');
    // and the other way round: an IPv4-only network's bridge has IPv6 off (no link-local, no DAD/MLD)
    await ok(lab, ['network', 'create', 'only4']);
    const br4 = `br-${(await ok(lab, ['network', 'inspect', '-f', '{{.Id}}', 'only4'])).slice(0, 12)}`;
    assert.equal(await hostOk(lab, ['cat', `/proc/sys/net/ipv6/conf/${br4}/disable_ipv6`]), '1');
    assert.doesNotMatch(await hostOk(lab, ['ip', '-o', 'addr', 'show', 'dev', br4]), /inet6/, 'no IPv6 address at all, link-local included');
    assert.doesNotMatch(await hostOk(lab, ['ip', '-o', 'addr', 'show', 'dev', 'berth0']), /inet6/, 'nor on the IPv4-only default bridge');
    await ok(lab, ['network', 'rm', 'only4']);
    await ok(lab, ['network', 'rm', 'only6br']);
    const api = await lab.api('POST', '/v1.47/networks/create', { Name: 'apionly6', Driver: 'ptp', EnableIPv6: true, EnableIPv4: false });
    assert.equal(api.status, 201, JSON.stringify(api.body));
    const shown = (await lab.api('GET', '/v1.47/networks/apionly6')).body as { EnableIPv6: boolean; IPAM: { Config: { Subnet: string }[] } };
    assert.equal(shown.EnableIPv6, true);
    assert.equal(shown.IPAM.Config.length, 1);
    assert.match(shown.IPAM.Config[0].Subnet, /^fd[0-9a-f:]+::\/64$/);
    await ok(lab, ['network', 'rm', 'only6', 'apionly6']);
  });

  test('bad IPv6 input: one clear line, a 4xx, nothing made', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:dd::/64', 'taken6']);
    const before = await world(lab);
    const cases: [string[], RegExp][] = [
      [['--ipv6', '--subnet', 'fd00::zz/64'], /invalid CIDR address: fd00::zz\/64/],
      [['--ipv6', '--subnet', 'fd00:dd:0:0:1::/80'], /overlaps with other one/],
      [['--ipv6', '--subnet', 'fd00:de::/64', '--gateway', 'fd00:df::1'], /no matching subnet for gateway fd00:df::1/],
      [['--ipv6', '--subnet', 'fd00:de::1/64'], /invalid subnet fd00:de::1\/64: it should be fd00:de::\/64/],
      [['--ipv6', '--subnet', 'fd00:de::/64', '--ip-range', 'fd00:df::/80'], /not inside the subnet fd00:de::\/64/],
      [['--ipv6', '--subnet', '::1/128'], /a \/128 holds a single address/],
      [['--ipv6', '--subnet', 'ff05::/64'], /overlaps ff00::\/8, multicast addresses/],
      [['--ipv6', '--subnet', 'fe80::/64'], /overlaps fe80::\/10, link-local addresses/],
      [['--ipv6', '--subnet', '::/96'], /overlaps ::\/128, the unspecified address/],
      [['--ipv6', '--subnet', '::ffff:10.0.0.0/120'], /IPv4-mapped addresses/],
      [['--subnet', 'fd00:de::/64'], /an IPv6 subnet needs IPv6 enabled on the network/],
      [['--ipv6', '--subnet', 'fd00:de::/64', '--subnet', 'fd00:df::/64'], /berth supports one IPv6 subnet per network/],
      [['--ipv6', '--subnet', 'fd00:de::/64', '--subnet', '10.50.0.0/24', '--gateway', '10.51.0.1'], /no matching subnet for gateway 10\.51\.0\.1/],
      [['--ipv4=false', '--subnet', '10.50.0.0/24', '--ipv6'], /IPv4 is disabled on this network/],
      [['--ipv4=false'], /IPv4 or IPv6 must be enabled/],
      // a failure on the IPv6 side gives the IPv4 pool back (the next create gets it)
      [['--ipv6', '--subnet', '10.52.0.0/24', '--subnet', 'fe80::/64'], /link-local/],
    ];
    for (const [args, message] of cases) {
      const r = await fails(lab, ['network', 'create', ...args, 'bad6'], message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
    assert.equal(await world(lab), before);
    await ok(lab, ['network', 'create', '--subnet', '10.52.0.0/24', 'reuse4']);
    const api = await lab.api('POST', '/v1.41/networks/create', { Name: 'bad6', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:dd::/64' }] } });
    assert.equal(api.status, 409);
    assert.match(api.body.message, /overlaps/);
    const api2 = await lab.api('POST', '/v1.41/networks/create', { Name: 'bad6', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:ee::/64', Gateway: 'fd00:ef::1' }] } });
    assert.equal(api2.status, 400);
    assert.match(api2.body.message, /no matching subnet for gateway/);
  });

  for (const client of installedClients()) {
    test(`${client.name}: network create --ipv6 (dual stack and default IPv6 pool), inspect, ls, rm`, async (t) => {
      const lab = await labFor(t);
      const d = (args: string[]) => dockerOk(lab, client, args);
      await d(['network', 'create', '--ipv6', '--subnet', '172.25.0.0/16', '--subnet', 'fd00:25::/64', '--gateway', 'fd00:25::1', 'dockerdual']);
      const net = JSON.parse(await d(['network', 'inspect', 'dockerdual']))[0] as { EnableIPv6: boolean; IPAM: { Config: { Subnet: string; Gateway?: string }[] } };
      assert.equal(net.EnableIPv6, true);
      assert.deepEqual(net.IPAM.Config.map((c) => `${c.Subnet} ${c.Gateway}`), ['172.25.0.0/16 172.25.0.1', 'fd00:25::/64 fd00:25::1']);
      await d(['network', 'create', '--ipv6', 'dockerauto']);
      const auto = await d(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', 'dockerauto']);
      assert.match(auto, /^172\.\d+\.0\.0\/16 fd[0-9a-f:]+::\/64$/);
      assert.match(await d(['network', 'ls', '--filter', 'name=docker', '--format', '{{.Name}} {{.IPv6}}']), /dockerauto true\ndockerdual true/);
      await dockerFails(lab, client, ['network', 'create', '--ipv6', '--subnet', 'fd00:25::/80', 'dockerbad'], /overlaps/);
      await dockerFails(lab, client, ['network', 'create', '--subnet', 'fd00:26::/64', 'dockerbad'], /an IPv6 subnet needs IPv6 enabled/);
      if (client.bin === DOCKER_28.bin) {
        // docker 28's --ipv4=false (it sends EnableIPv4 whatever the API version)
        await d(['network', 'create', '--ipv6', '--ipv4=false', '--subnet', 'fd00:27::/64', 'docker6']);
        assert.equal(await d(['network', 'inspect', '-f', '{{.Driver}} {{.EnableIPv6}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'docker6']), 'bridge true fd00:27::/64 fd00:27::1');
        await d(['network', 'rm', 'docker6']);
      }
      await d(['network', 'rm', 'dockerdual', 'dockerauto']);
      assert.doesNotMatch(await d(['network', 'ls', '--format', '{{.Name}}']), /docker(dual|auto)/);
    });
  }
});
