import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { labFor, type Lab } from '../lab/lab.js';
import { fails, inspect, ok, runSleeper } from './helpers.js';

// IPv6-only bridge networks (`--ipv6 --ipv4=false`, Docker 28's flag; issue 13): a container
// gets an IPv6 address and an IPv6 default route and nothing of IPv4 but its loopback; the
// bridge holds only its IPv6 gateway. Names resolve (AAAA, and NODATA for A) through the
// embedded resolver at 127.0.0.11 on the container's lo; egress leaves masqueraded to the
// host's uplink address; inspect shows what dockerd shows for it; the addresses survive a
// daemon restart and rm gives them back; another IPv6 network stays out of reach.

const DNS_SERVER = fileURLToPath(new URL('../lab/dns-server.js', import.meta.url));

async function dig(lab: Lab, container: string, name: string, type: string, server: string[] = []): Promise<{ status: string; answers: string[] }> {
  const r = await lab.berth(['exec', container, 'dig', '+tries=1', '+time=3', ...server, name, type]);
  const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? `no answer (${r.code})`;
  const section = r.stdout.split(';; ANSWER SECTION:')[1]?.split('\n\n')[0] ?? '';
  return { status, answers: section.split('\n').filter((l) => l.trim()).map((l) => l.split(/\s+/).at(-1) ?? '') };
}

/** fd00:61::a -> a.0.0.0….1.6.0.0.0.0.d.f.ip6.arpa (its 32 nibbles, reversed). */
function reverse6(ip: string): string {
  const [head, tail = ''] = ip.split('::');
  const groups = (g: string) => (g ? g.split(':') : []);
  const all = [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)];
  return `${all.map((g) => g.padStart(4, '0')).join('').split('').reverse().join('.')}.ip6.arpa`;
}

const ping6 = async (lab: Lab, from: string, to: string) => (await lab.berth(['exec', from, 'ping', '-6', '-c1', '-W2', to])).code === 0;
const endpoint = (lab: Lab, name: string, net: string, field: string) => inspect(lab, name, `{{(index .NetworkSettings.Networks "${net}").${field}}}`);

describe('IPv6-only networks', { concurrency: false }, () => {
  test('containers on an IPv6-only bridge: IPv6 only, names by AAAA, egress masqueraded, inspect as dockerd, kept over a restart, freed by rm, other networks isolated', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--dns', '203.0.113.10'] });
    await lab.inHost(['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']); // so the firewall alone isolates
    // an upstream of the other family too: the lab internet's DNS server on its IPv6 address
    const upstream6 = lab.spawnIn(lab.internetNs, ['node', DNS_SERVER, lab.internetAddr6, '53']);
    await upstream6.waitForOutput('ready\n');
    await ok(lab, ['network', 'create', '--ipv6', '--ipv4=false', '--subnet', 'fd00:61::/64', 'only6']);
    await ok(lab, ['network', 'create', '--ipv6', '--ipv4=false', '--subnet', 'fd00:62::/64', 'other6']);
    await runSleeper(lab, 'sa', ['--network', 'only6', '--ip6', 'fd00:61::a']);
    await runSleeper(lab, 'sb', ['--network', 'only6', '--dns', lab.internetAddr6]);
    await runSleeper(lab, 'sc', ['--network', 'other6']);
    const b = await endpoint(lab, 'sb', 'only6', 'GlobalIPv6Address');
    assert.match(b, /^fd00:61::[0-9a-f]+$/);

    // the bridge: its IPv6 gateway and no IPv4 address
    const br = `br-${(await ok(lab, ['network', 'inspect', '-f', '{{.Id}}', 'only6'])).slice(0, 12)}`;
    const brAddrs = (await lab.inHost(['ip', '-o', 'addr', 'show', 'dev', br])).stdout;
    assert.match(brAddrs, /inet6 fd00:61::1\/64/);
    assert.doesNotMatch(brAddrs, /\binet /, 'no IPv4 on the bridge');

    // inside: an IPv6 address and route, no IPv4 but lo's, the resolver on lo
    const eth0 = await ok(lab, ['exec', 'sa', 'ip', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(eth0, /inet6 fd00:61::a\/64/);
    assert.doesNotMatch(eth0, /\binet /, 'no IPv4 address on eth0');
    assert.doesNotMatch(eth0, /tentative/, 'usable at once');
    assert.match(await ok(lab, ['exec', 'sa', 'ip', '-6', 'route', 'show', 'default']), /default via fd00:61::1 dev eth0/);
    assert.equal(await ok(lab, ['exec', 'sa', 'ip', '-4', 'route', 'show']), '', 'no IPv4 route');
    assert.match(await ok(lab, ['exec', 'sa', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'lo']), /inet 127\.0\.0\.1\/8/);
    assert.equal(await ok(lab, ['exec', 'sa', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0');
    const hosts = await ok(lab, ['exec', 'sa', 'cat', '/etc/hosts']);
    assert.match(hosts, /^fd00:61::a\s/m);
    assert.doesNotMatch(hosts, /^(?!127\.)\d+\.\d+\.\d+\.\d+\s/m, 'no IPv4 address of its own in /etc/hosts');

    // names: AAAA for a container, NODATA (no error, no answer) for its A, external names
    // forwarded upstream over either family
    assert.deepEqual(await dig(lab, 'sa', 'sb', 'AAAA'), { status: 'NOERROR', answers: [b] });
    assert.deepEqual(await dig(lab, 'sa', 'sb', 'A'), { status: 'NOERROR', answers: [] });
    assert.deepEqual(await dig(lab, 'sb', 'sa', 'AAAA'), { status: 'NOERROR', answers: ['fd00:61::a'] });
    assert.deepEqual(await dig(lab, 'sa', 'echo.internet.test', 'A'), { status: 'NOERROR', answers: ['203.0.113.10'] }, 'forwarded to an IPv4 upstream');
    assert.deepEqual(await dig(lab, 'sb', 'echo.internet.test', 'AAAA'), { status: 'NOERROR', answers: ['2001:db8:113::10'] }, 'forwarded to an IPv6 upstream');
    assert.match(lab.internetDnsLog(), /query echo\.internet\.test 1 from 198\.51\.100\.2/);
    assert.match(upstream6.output(), /query echo\.internet\.test 28 from 2001:db8:100::2/, 'asked over IPv6');
    const ptr = await dig(lab, 'sb', reverse6('fd00:61::a'), 'PTR');
    assert.equal(ptr.status, 'NOERROR');
    assert.match(ptr.answers.join(' '), /^sa\./, 'ip6.arpa PTR: the container\'s name (as for IPv4)');
    assert.ok(await ping6(lab, 'sa', 'sb'), 'by name');
    assert.ok(await ping6(lab, 'sa', 'fd00:61::1'), 'its gateway');

    // egress: masqueraded (ULA) to the host's uplink address
    assert.ok(await ping6(lab, 'sa', lab.internetAddr6), 'the internet');
    const sandbox = await inspect(lab, 'sa', '{{.NetworkSettings.SandboxKey}}');
    assert.equal(await lab.echoFrom(sandbox, 'tcp', lab.internetAddr6), lab.hostUplinkAddr6);

    // isolation: another IPv6-only network is out of reach, both ways
    const c = await endpoint(lab, 'sc', 'other6', 'GlobalIPv6Address');
    assert.equal((await lab.inHost(['ping', '-6', '-c1', '-W2', c])).code, 0, 'the host reaches it (forwarding is on)');
    assert.equal(await ping6(lab, 'sa', c), false, 'ISOLATION: another network');
    assert.equal(await ping6(lab, 'sc', 'fd00:61::a'), false, 'ISOLATION: the other way');

    // an IPv6-only network joined live by a container of an IPv4-only one: its IPv6 side, the IPv4 route kept
    await ok(lab, ['network', 'create', '--subnet', '10.66.0.0/24', 'four']);
    await runSleeper(lab, 'sf', ['--network', 'four']);
    await ok(lab, ['network', 'connect', 'only6', 'sf']);
    assert.match(await ok(lab, ['exec', 'sf', 'ip', '-6', 'route', 'show', 'default']), /default via fd00:61::1 dev eth1/);
    assert.match(await ok(lab, ['exec', 'sf', 'ip', '-4', 'route', 'show', 'default']), /default via 10\.66\.0\.1 dev eth0/);
    assert.ok(await ping6(lab, 'sf', 'sa'), 'by name on the network it joined');
    await ok(lab, ['network', 'disconnect', 'only6', 'sf']);
    assert.equal(await ok(lab, ['exec', 'sf', 'ip', '-6', 'route', 'show', 'default']), '', 'its IPv6 route went with it');
    // --internal: no way out, its neighbours still reachable
    await ok(lab, ['network', 'create', '--internal', '--ipv6', '--ipv4=false', '--subnet', 'fd00:67::/64', 'in6']);
    await runSleeper(lab, 'si', ['--network', 'in6']);
    await ok(lab, ['network', 'connect', 'in6', 'sb']);
    assert.equal(await ok(lab, ['exec', 'si', 'ip', '-6', 'route', 'show', 'default']), '', 'no default route on an internal network');
    assert.equal(await ping6(lab, 'si', lab.internetAddr6), false, 'INTERNAL: no way out');
    assert.ok(await ping6(lab, 'si', 'sb'), 'its neighbour, by name');

    // inspect: the IPv4 fields empty, as dockerd shows an IPv6-only endpoint
    assert.equal(await endpoint(lab, 'sa', 'only6', 'IPAddress'), '');
    assert.equal(await endpoint(lab, 'sa', 'only6', 'Gateway'), '');
    assert.equal(await endpoint(lab, 'sa', 'only6', 'IPPrefixLen'), '0');
    assert.equal(await endpoint(lab, 'sa', 'only6', 'IPv6Gateway'), 'fd00:61::1');
    assert.equal(await endpoint(lab, 'sa', 'only6', 'GlobalIPv6PrefixLen'), '64');
    assert.match(await endpoint(lab, 'sa', 'only6', 'MacAddress'), /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{range .Containers}}{{if eq .Name "sa"}}[{{.IPv4Address}}] {{.IPv6Address}}{{end}}{{end}}', 'only6']), '[] fd00:61::a/64');
    assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{.EnableIPv6}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'only6']), 'true fd00:61::/64 fd00:61::1');

    // a restart keeps the addresses taken; rm gives them back
    const ifindex = async () => (await ok(lab, ['exec', 'sa', 'cat', '/sys/class/net/eth0/ifindex']));
    const before = await ifindex();
    await lab.restartDaemon();
    assert.equal(await ifindex(), before, 'the restart finds the interface whole and leaves it (not made again)');
    await runSleeper(lab, 'sd', ['--network', 'only6']);
    assert.ok(![b, 'fd00:61::a'].includes(await endpoint(lab, 'sd', 'only6', 'GlobalIPv6Address')), 'a running container\'s address is not handed out again');
    assert.ok(await ping6(lab, 'sa', 'sb'), 'still reachable by name after the restart');
    await ok(lab, ['rm', '-f', 'sa']);
    await runSleeper(lab, 'se', ['--network', 'only6', '--ip6', 'fd00:61::a']);
    assert.equal(await endpoint(lab, 'se', 'only6', 'GlobalIPv6Address'), 'fd00:61::a', 'the removed container\'s address is free again');
    await ok(lab, ['rm', '-f', 'sb', 'sc', 'sd', 'se', 'sf', 'si']);
    await ok(lab, ['network', 'rm', 'only6', 'other6', 'four', 'in6']);
    assert.equal((await lab.inHost(['ip', 'link', 'show', br])).code, 1, 'the bridge is gone');
  });

  test('bad input on an IPv6-only network: --ip refused in one line, nothing made', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--ipv6', '--ipv4=false', '--subnet', 'fd00:63::/64', 'only6']);
    await fails(lab, ['run', '-d', '--name', 'bad1', '--network', 'only6', '--ip', '10.63.0.5', '--', 'true'], /user specified IP address is supported only when connecting to networks with user configured subnets/);
    await fails(lab, ['run', '-d', '--name', 'bad1', '--network', 'only6', '--ip6', 'fd00:64::5', '--', 'true'], /does not belong to any of this network's subnets/);
    await fails(lab, ['network', 'create', '--ipv4=false', '--ipv6', '--subnet', '10.64.0.0/24', 'mixed'], /IPv4 is disabled on this network/);
    assert.equal(await ok(lab, ['ps', '-aq']), '', 'no container made');
    await ok(lab, ['network', 'create', '--ipv6', '--ipv4=false', '--subnet', 'fd00:65::/64', 'second6']);
    await runSleeper(lab, 'holder', ['--network', 'only6']);
    await fails(lab, ['network', 'connect', '--ip', '10.65.0.6', 'second6', 'holder'], /user specified IP address is supported only when connecting to networks with user configured subnets/);
    assert.equal(await ok(lab, ['exec', 'holder', 'ls', '/sys/class/net']), 'eth0\nlo', 'no interface made by the refused connect');
    await ok(lab, ['rm', '-f', 'holder']);
  });

  test('ports publish from an IPv6-only container: on [::] only, reached from the LAN, the host\'s own address and [::1]', async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLanHost('lan6');
    await ok(lab, ['network', 'create', '--ipv6', '--ipv4=false', '--subnet', 'fd00:68::/64', 'only6']);
    const server = "require('net').createServer(c=>c.end('hello over '+c.localAddress)).listen(80,'::')";
    await ok(lab, ['run', '-d', '--name', 'web', '--network', 'only6', '-p', '8080:80', '-p', '[::1]:8081:80', '--', 'node', '-e', server]);
    assert.equal(await ok(lab, ['port', 'web']), '80/tcp -> [::]:8080\n80/tcp -> [::1]:8081', 'no IPv4 binding: it has no IPv4 address');
    const fetch6 = async (ns: string, host: string, port: number) => {
      const r = await lab.inNetns(ns, ['node', '-e', `const s=require('net').connect(${port},'${host}');let d='';s.on('data',x=>d+=x).on('end',()=>{console.log(d);process.exit(0)}).on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),2000)`]);
      return r.code === 0 ? r.stdout.trim() : '';
    };
    let reply = '';
    for (let i = 0; i < 20 && !reply; i++) reply = await fetch6(lan.ns, '2001:db8:18::1', 8080);
    assert.equal(reply, 'hello over fd00:68::2', 'from the LAN, DNATed to the container');
    assert.equal(await fetch6(lab.hostNs, lab.hostUplinkAddr6, 8080), 'hello over fd00:68::2');
    assert.equal(await fetch6(lab.hostNs, '::1', 8081), 'hello over fd00:68::2', '[::1] relayed');
    assert.equal(await fetch6(lan.ns, '198.18.0.1', 8080), '', 'nothing on IPv4');
    await fails(lab, ['run', '-d', '--network', 'only6', '-p', '127.0.0.1:8082:80', '--', 'true'], /cannot publish on 127\.0\.0\.1:8082: the container has no IPv4 address on "only6"/);
  });
});
