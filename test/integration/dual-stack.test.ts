import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { fails, hostLinks, hostOk, inspect, ok, runSleeper } from './helpers.js';

// Issue 13 as a demanding user tries it: the seed walkthrough (SEED-SCENARIOS.md 1-22) re-run
// on dual-stack user networks, each scenario's IPv6 side checked and its IPv4 side still
// true on the same network, then the issue's own list (egress from ULA, isolation and
// --internal with forwarding on, no way in from the LAN, --ip6 rules, AAAA/PTR). One lab for
// the walkthrough: each test is one scenario group and may use what `before` made; rogue
// router advertisements get a lab of their own (IPv6 forwarding off).
// The full reachability matrix of published ports, and links/icc=false, over IPv6 are cells
// of ports.test.ts (and links.test.ts): here -p on a dual-stack network through the CLI.

const DNS_SERVER = fileURLToPath(new URL('../lab/dns-server.js', import.meta.url));
const ROGUE_RA = fileURLToPath(new URL('../../../test/lab/rogue-ra.py', import.meta.url));
/** the lab host's addresses on the lan bridge (test/lab/topology.ts: wireLanBridge) */
const LAB_LAN_ADDR = '198.18.0.1';
const SERVER = "const s=require('net').createServer(c=>c.end('hello from '+process.env.WHO));s.listen(80);";

let lab: Lab;
const sandbox = new Map<string, string>();

/** The container's netns path: probes run there directly (what `exec` would see, without its cost). */
async function ns(name: string): Promise<string> {
  if (!sandbox.has(name)) sandbox.set(name, await inspect(lab, name, '{{.NetworkSettings.SandboxKey}}'));
  return sandbox.get(name)!;
}

/** One echo request from a netns; true when answered. */
async function pings(from: string, to: string): Promise<boolean> {
  return (await lab.inNetns(from, ['ping', to.includes(':') ? '-6' : '-4', '-c1', '-W2', to])).code === 0;
}

/** The embedded resolver's answers (last field of each answer line) and status, asked from a container's netns. */
async function dig(name: string, query: string[]): Promise<{ status: string; answers: string[] }> {
  const r = await lab.inNetns(await ns(name), ['dig', '@127.0.0.11', '+tries=1', '+time=3', ...query]);
  const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? `no answer (${r.code})`;
  const section = r.stdout.split(';; ANSWER SECTION:')[1]?.split('\n\n')[0] ?? '';
  return { status, answers: section.split('\n').filter((l) => l.trim()).map((l) => l.split(/\s+/).at(-1) ?? '') };
}

/** What a TCP client in netns `from` gets from [host]:port within 2 s ('' when nothing answers). */
async function fetchTcp(from: string, host: string, port: number): Promise<string> {
  const r = await lab.inNetns(from, ['node', '-e', `const s=require('net').connect(${port},'${host}');let d='';s.on('data',x=>d+=x).on('end',()=>{console.log(d);process.exit(0)}).on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),2000)`]);
  return r.code === 0 ? r.stdout.trim() : '';
}

/** echoFrom, or 'none' when the internet's echo server is not reached. */
const egress = (from: string, proto: 'tcp' | 'udp', to: string) => lab.echoFrom(from, proto, to).catch(() => 'none');

/** "addr/len" of each global address of `dev`, both families, read in netns `at`. */
async function addrs(at: string, dev: string): Promise<string[]> {
  const r = await lab.inNetns(at, ['ip', '-j', 'addr', 'show', 'dev', dev, 'scope', 'global']);
  assert.equal(r.code, 0, r.stderr);
  // (ip -j leaves an empty object where it filtered an address out)
  return (JSON.parse(r.stdout) as { addr_info: { local?: string; prefixlen: number }[] }[])[0].addr_info.filter((a) => a.local).map((a) => `${a.local}/${a.prefixlen}`);
}

const defaults = async (at: string, family: '-4' | '-6') => (await lab.inNetns(at, ['ip', family, 'route', 'show', 'default'])).stdout.trim().split('\n').filter(Boolean).map((l) => l.replace(/\s+(proto|metric|pref)\s+\S+/g, '').trim());
const v6of = (name: string, net: string) => inspect(lab, name, `{{(index .NetworkSettings.Networks "${net}").GlobalIPv6Address}}`);
const v4of = (name: string, net: string) => inspect(lab, name, `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`);
const bridgeOf = async (net: string) => `br-${(await ok(lab, ['network', 'inspect', '-f', '{{.Id}}', net])).slice(0, 12)}`;

/** Host links, containers and networks: what a refused command must leave as it was. */
async function world(): Promise<string> {
  const links = (await hostLinks(lab)).map((l) => l.ifname).sort().join(',');
  return [links, await ok(lab, ['ps', '-a', '--format', '{{.Names}}']), await ok(lab, ['network', 'ls', '--format', '{{.Name}}']),
    await ok(lab, ['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{.IPv4Address}} {{.IPv6Address}},{{end}}', 'ds1'])].join('\n--\n');
}

describe('the seed walkthrough on a dual-stack network, and the issue\'s IPv6 list', { concurrency: false }, () => {
  before(async () => {
    lab = await Lab.create({ daemonArgs: ['--dns', '203.0.113.10'] }); // names no network has: NXDOMAIN from the lab internet's DNS
    // forwarding on for both families: what stops a packet between networks is the firewall alone
    await hostOk(lab, ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:d5:1::/64', '--subnet', '172.30.0.0/16', 'ds1']);
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', '172.31.0.0/16', '--subnet', 'fd00:d5:2::/64', 'ds2']);
    await runSleeper(lab, 'vm1', ['--net=ds1']); // scenario 6: --net= is --network
    await runSleeper(lab, 'vm2', ['--network', 'ds1']);
    await runSleeper(lab, 'vm3', ['--network', 'ds2']);
    await runSleeper(lab, 'plain'); // the default bridge
  });
  after(async () => {
    await lab?.destroy();
  });

  test('1, 2, 6: the default networks stay IPv4-only; a dual-stack endpoint has both families at once, routes of each, its veth on the bridge', async () => {
    assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{.EnableIPv6}} {{range .IPAM.Config}}{{.Subnet}} {{end}}', 'bridge']), 'false 172.17.0.0/16');
    assert.deepEqual(await addrs(lab.hostNs, 'berth0'), ['172.17.0.1/16'], 'the default bridge has no IPv6 address');
    // a default-bridge container: IPv6 off on its eth0 (no DAD/MLD from it), no IPv6 route
    const plain = await ns('plain');
    assert.deepEqual(await addrs(plain, 'eth0'), ['172.17.0.2/16']);
    assert.equal((await lab.inNetns(plain, ['cat', '/proc/sys/net/ipv6/conf/eth0/disable_ipv6'])).stdout.trim(), '1');
    assert.deepEqual(await defaults(plain, '-6'), []);
    // --net=ds1: both addresses, usable at once (nothing tentative), a default route per family
    const vm1 = await ns('vm1');
    assert.deepEqual(await addrs(vm1, 'eth0'), ['172.30.0.2/16', 'fd00:d5:1::2/64']);
    assert.doesNotMatch(await ok(lab, ['exec', 'vm1', 'ip', '-6', 'addr', 'show', 'dev', 'eth0']), /tentative|dadfailed/);
    assert.deepEqual(await defaults(vm1, '-4'), ['default via 172.30.0.1 dev eth0']);
    assert.deepEqual(await defaults(vm1, '-6'), ['default via fd00:d5:1::1 dev eth0']);
    // its host end is a port of the network's bridge, which holds both gateways; the port
    // itself carries no IPv6 (it only bridges frames)
    const br = await bridgeOf('ds1');
    assert.deepEqual(await addrs(lab.hostNs, br), ['172.30.0.1/16', 'fd00:d5:1::1/64']);
    const [eth0] = JSON.parse((await lab.inNetns(vm1, ['ip', '-j', 'link', 'show', 'eth0'])).stdout) as { link_index: number }[];
    const port = (JSON.parse(await hostOk(lab, ['bridge', '-j', 'link', 'show'])) as { ifindex: number; ifname: string; master: string }[]).find((p) => p.ifindex === eth0.link_index);
    assert.equal(port?.master, br);
    assert.match(port?.ifname ?? '', /^veth[0-9a-f]{11}$/);
    assert.equal(await hostOk(lab, ['cat', `/proc/sys/net/ipv6/conf/${port?.ifname}/disable_ipv6`]), '1');
  });

  test('3, 4, 5: host mode sees the host\'s IPv6; none has lo only; container mode shares both addresses and talks over ::1', async () => {
    await runSleeper(lab, 'hm', ['--network', 'host']);
    assert.match(await ok(lab, ['exec', 'hm', 'ip', '-6', '-o', 'addr', 'show', 'dev', 'uplink0']), new RegExp(`inet6 ${lab.hostUplinkAddr6}/64`));
    assert.equal((await lab.berth(['exec', 'hm', 'ping', '-6', '-c1', '-W2', lab.internetAddr6])).code, 0, 'the host\'s own IPv6 route');
    await runSleeper(lab, 'nn', ['--network', 'none']);
    const none = await ns('nn');
    assert.deepEqual((await lab.inNetns(none, ['ip', '-o', 'link'])).stdout.trim().split('\n').map((l) => l.split(':')[1].trim()), ['lo']);
    assert.deepEqual([await defaults(none, '-4'), await defaults(none, '-6')], [[], []]);
    // container:vm1 — the same netns: the same two addresses, and a server on [::1] reached over lo
    await ok(lab, ['run', '-d', '--name', 'lo6', '--network', 'container:vm1', '--', 'node', '-e', "require('net').createServer(s=>s.end('hi over ::1')).listen(8080,'::1')"]);
    await runSleeper(lab, 'side', ['--network', 'container:vm1']);
    assert.deepEqual(await ok(lab, ['exec', 'side', 'ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']).then((o) => o.split(/\s+/)[3]), 'fd00:d5:1::2/64');
    let reply = '';
    for (let i = 0; i < 20 && !reply; i++) {
      const r = await lab.berth(['exec', 'side', 'node', '-e', "require('net').connect(8080,'::1').on('data',d=>process.stdout.write(d)).on('error',()=>process.exit(1))"]);
      reply = r.code === 0 ? r.stdout : '';
    }
    assert.equal(reply, 'hi over ::1');
    await ok(lab, ['rm', '-f', 'hm', 'nn', 'lo6', 'side']);
  });

  test('7: containers reach each other, the host reaches them and they the host, over both families', async () => {
    const [vm1, vm2] = [await ns('vm1'), await ns('vm2')];
    const cells = {
      'vm1 -> vm2 (v6)': pings(vm1, 'fd00:d5:1::3'),
      'vm2 -> vm1 (v6)': pings(vm2, 'fd00:d5:1::2'),
      'vm1 -> vm2 (v4)': pings(vm1, '172.30.0.3'),
      'host -> vm1 (v6)': pings(lab.hostNs, 'fd00:d5:1::2'),
      'host -> vm2 (v4)': pings(lab.hostNs, '172.30.0.3'),
      'vm1 -> its v6 gateway': pings(vm1, 'fd00:d5:1::1'),
      'vm1 -> the host\'s uplink v6 address': pings(vm1, lab.hostUplinkAddr6),
    };
    const got = Object.fromEntries(await Promise.all(Object.entries(cells).map(async ([k, p]) => [k, await p])));
    assert.deepEqual(got, Object.fromEntries(Object.keys(cells).map((k) => [k, true])));
  });

  test('8 (issue: egress from ULA): traffic out leaves with the host uplink\'s address of its family, TCP and UDP', async () => {
    const vm1 = await ns('vm1');
    const seen = await Promise.all([
      egress(vm1, 'tcp', lab.internetAddr6), egress(vm1, 'udp', lab.internetAddr6),
      egress(vm1, 'tcp', lab.internetAddr), egress(vm1, 'udp', lab.internetAddr),
    ]);
    assert.deepEqual(seen, [lab.hostUplinkAddr6, lab.hostUplinkAddr6, lab.hostUplinkAddr, lab.hostUplinkAddr]);
    assert.match(await hostOk(lab, ['nft', 'list', 'set', 'ip6', 'berth', 'masquerade_subnets']), /fd00:d5:1::\/64/);
  });

  // 9: the daemon's options. Their IPv6 twins (--ipv6, --fixed-cidr-v6, --ip6tables, IPv6
  // forwarding under --ip-forward) are berthd flags with tests of their own; --icc=false over
  // IPv6 is a cell of ports.test.ts. What a dual-stack network adds is its MTU on both families:
  test('9 (MTU): a dual-stack network\'s MTU holds for IPv6: a full-size packet passes, one byte more does not leave', async () => {
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:d5:4::/64', '--subnet', '10.54.0.0/24', '-o', 'com.docker.network.driver.mtu=1400', 'ds_mtu']);
    await runSleeper(lab, 'm1', ['--network', 'ds_mtu']);
    await runSleeper(lab, 'm2', ['--network', 'ds_mtu']);
    const m1 = await ns('m1');
    assert.match((await lab.inNetns(m1, ['ip', '-o', 'link', 'show', 'eth0'])).stdout, /mtu 1400 /);
    const ping = (size: number) => lab.inNetns(m1, ['ping', '-6', '-c1', '-W2', '-M', 'do', '-s', String(size), 'fd00:d5:4::3']);
    assert.equal((await ping(1400 - 48)).code, 0, '1400 bytes: 40 of IPv6 header, 8 of ICMPv6, 1352 of data');
    assert.notEqual((await ping(1400 - 47)).code, 0);
    await ok(lab, ['rm', '-f', 'm1', 'm2']);
    await ok(lab, ['network', 'rm', 'ds_mtu']);
  });

  test('10: network create with chosen subnets and with a picked pool; inspect and ls show both families', async () => {
    const n = JSON.parse(await ok(lab, ['network', 'inspect', 'ds1']))[0] as {
      EnableIPv6: boolean; IPAM: { Config: { Subnet: string; Gateway: string }[] }; Containers: Record<string, { Name: string; IPv4Address: string; IPv6Address: string }>;
    };
    assert.equal(n.EnableIPv6, true);
    assert.deepEqual(n.IPAM.Config, [{ Subnet: '172.30.0.0/16', Gateway: '172.30.0.1' }, { Subnet: 'fd00:d5:1::/64', Gateway: 'fd00:d5:1::1' }]);
    const members = Object.values(n.Containers).map((c) => `${c.Name} ${c.IPv4Address} ${c.IPv6Address}`).sort();
    assert.deepEqual(members, ['vm1 172.30.0.2/16 fd00:d5:1::2/64', 'vm2 172.30.0.3/16 fd00:d5:1::3/64']);
    assert.match(await ok(lab, ['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.IPv6}}']), /^bridge bridge false\nds1 bridge true\nds2 bridge true\nhost host false\nnone null false$/);
    // --ipv6 alone: the next free IPv4 pool and a ULA /64, both on a bridge of its own
    await ok(lab, ['network', 'create', '--ipv6', 'picked']);
    const [v4, v6] = (await ok(lab, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}},{{end}}', 'picked'])).split(',');
    assert.equal(v4, '172.18.0.0/16 172.18.0.1');
    const m = /^(fd[0-9a-f]{2}:[0-9a-f:]+)::\/64 (\1::1)$/.exec(v6 ?? '');
    assert.ok(m, v6);
    assert.deepEqual(await addrs(lab.hostNs, await bridgeOf('picked')), ['172.18.0.1/16', `${m[2]}/64`]);
    await ok(lab, ['network', 'rm', 'picked']);
  });

  test('11 (issue: AAAA/PTR): increasing addresses of both families; names answer AAAA and A, ip6.arpa PTR; the default bridge resolves no names', async () => {
    assert.deepEqual([await v4of('vm2', 'ds1'), await v6of('vm2', 'ds1')], ['172.30.0.3', 'fd00:d5:1::3']);
    const [aaaa, a, ptr, ptr4, id, plain] = await Promise.all([
      dig('vm1', ['vm2', 'AAAA']), dig('vm1', ['vm2', 'A']), dig('vm1', ['-x', 'fd00:d5:1::3']), dig('vm1', ['-x', '172.30.0.3']),
      ok(lab, ['inspect', '-f', '{{.Id}}', 'vm2']).then((i) => dig('vm1', [i.slice(0, 12), 'AAAA'])), dig('plain', ['vm1', 'AAAA']),
    ]);
    assert.deepEqual(aaaa, { status: 'NOERROR', answers: ['fd00:d5:1::3'] });
    assert.deepEqual(a, { status: 'NOERROR', answers: ['172.30.0.3'] });
    assert.deepEqual(ptr, { status: 'NOERROR', answers: ['vm2.'] }, '3.0.0.0…1.0.0.d.5.0.0.0.0.d.f.ip6.arpa');
    assert.deepEqual(ptr4.answers, ['vm2.']);
    assert.deepEqual(id.answers, ['fd00:d5:1::3'], 'the short id answers AAAA too');
    assert.notEqual(plain.status, 'NOERROR', 'no embedded resolver on the default bridge');
    // what a program inside does: ping -6 by name through its resolv.conf
    assert.equal((await lab.berth(['exec', 'vm1', 'ping', '-6', '-c1', '-W2', 'vm2'])).code, 0);
    assert.equal((await lab.berth(['exec', 'vm1', 'ping', '-4', '-c1', '-W2', 'vm2'])).code, 0);
    assert.notEqual((await lab.berth(['exec', 'plain', 'ping', '-c1', '-W1', 'vm1'])).code, 0);
  });

  test('12 (issue: --ip6 rules): --ip/--ip6 only on user networks, inside the subnet, not taken; one line, non-zero exit, nothing made', async () => {
    await runSleeper(lab, 'fixed', ['--network', 'ds1', '--ip', '172.30.0.10', '--ip6', 'fd00:d5:1::10']);
    assert.deepEqual(await addrs(await ns('fixed'), 'eth0'), ['172.30.0.10/16', 'fd00:d5:1::10/64']);
    assert.equal(await inspect(lab, 'fixed', '{{.NetworkSettings.Networks.ds1.IPAMConfig.IPv4Address}} {{.NetworkSettings.Networks.ds1.IPAMConfig.IPv6Address}}'), '172.30.0.10 fd00:d5:1::10');
    await ok(lab, ['network', 'create', '--subnet', '10.55.0.0/24', 'only4']);
    const before = await world();
    const userOnly = /user specified IP address is supported (on user defined networks only|only when connecting to networks with user configured subnets)/;
    await fails(lab, ['run', '-d', '--ip6', 'fd00:d5:1::20', '--', 'sleep', '60'], userOnly);
    await fails(lab, ['run', '-d', '--network', 'host', '--ip6', 'fd00:d5:1::20', '--', 'sleep', '60'], userOnly);
    await fails(lab, ['run', '-d', '--network', 'only4', '--ip6', 'fd00:d5:1::20', '--', 'sleep', '60'], userOnly);
    await fails(lab, ['run', '-d', '--network', 'ds1', '--ip6', 'fd00:d5:2::20', '--', 'sleep', '60'], /does not belong to any of this network's subnets/);
    await fails(lab, ['run', '-d', '--network', 'ds1', '--ip6', 'fd00:d5:1::2', '--', 'sleep', '60'], /Address already in use/);
    await fails(lab, ['run', '-d', '--network', 'ds1', '--ip6', 'fd00:d5:1::1', '--', 'sleep', '60'], /Address already in use|gateway/);
    await fails(lab, ['run', '-d', '--network', 'ds1', '--ip6', '172.30.0.20', '--', 'sleep', '60'], /invalid IPv6 address/);
    await fails(lab, ['run', '-d', '--network', 'ds1', '--ip', '172.30.0.20', '--ip6', 'fd00:d5:1::10', '--', 'sleep', '60'], /Address already in use/);
    // the same rules on connect, to a running container
    await fails(lab, ['network', 'connect', '--ip6', 'fd00:d5:1::30', 'bridge', 'vm3'], userOnly);
    await fails(lab, ['network', 'connect', '--ip6', 'fd00:d5:9::30', 'ds1', 'vm3'], /does not belong to any of this network's subnets/);
    await fails(lab, ['network', 'connect', '--ip6', 'fd00:d5:1::10', 'ds1', 'vm3'], /Address already in use/);
    assert.equal(await world(), before, 'the refused commands left nothing');
    assert.deepEqual(await addrs(await ns('vm3'), 'eth0'), ['172.31.0.2/16', 'fd00:d5:2::2/64']);
    assert.equal((await lab.inNetns(await ns('vm3'), ['ip', '-o', 'link', 'show', 'eth1'])).code, 1, 'no eth1 left in vm3');
    await ok(lab, ['rm', '-f', 'fixed']);
    await ok(lab, ['network', 'rm', 'only4']);
  });

  test('13 (issue: other network isolated): no packet between two dual-stack networks, either family, either way, forwarding on', async () => {
    const [vm1, vm3] = [await ns('vm1'), await ns('vm3')];
    // the host reaches both ends first: a refusal below is the firewall's, not a neighbour not resolved yet
    assert.deepEqual(await Promise.all([pings(lab.hostNs, 'fd00:d5:2::2'), pings(lab.hostNs, '172.31.0.2'), pings(lab.hostNs, 'fd00:d5:1::2')]), [true, true, true]);
    assert.equal(await hostOk(lab, ['sysctl', '-n', 'net.ipv6.conf.all.forwarding']), '1');
    const cells = await Promise.all([
      pings(vm1, 'fd00:d5:2::2'), pings(vm3, 'fd00:d5:1::2'), pings(vm1, '172.31.0.2'), pings(vm3, '172.30.0.2'),
    ]);
    assert.deepEqual(cells, [false, false, false, false]);
    assert.equal((await dig('vm3', ['vm1', 'AAAA'])).status, 'NXDOMAIN', 'nor its names');
  });

  test('14: connect --ip6 adds both families live; each family\'s default route follows the gateway rule; disconnect takes both away', async () => {
    await ok(lab, ['network', 'create', '--subnet', '10.56.0.0/24', 'aaa4']); // IPv4-only, sorts first
    await runSleeper(lab, 'g1', ['--network', 'ds2']);
    const g1 = await ns('g1');
    const pid = await inspect(lab, 'g1', '{{.State.Pid}}');
    assert.equal(await pings(g1, 'fd00:d5:1::2'), false);
    await ok(lab, ['network', 'connect', '--ip6', 'fd00:d5:1::50', 'ds1', 'g1']);
    assert.deepEqual(await addrs(g1, 'eth1'), ['172.30.0.4/16', 'fd00:d5:1::50/64']);
    assert.equal(await inspect(lab, 'g1', '{{.State.Pid}}'), pid, 'not restarted');
    assert.equal(await v6of('g1', 'ds1'), 'fd00:d5:1::50');
    assert.deepEqual(await Promise.all([pings(g1, 'fd00:d5:1::2'), pings(g1, '172.30.0.2')]), [true, true]);
    // ds1 sorts before ds2: it carries both default routes
    assert.deepEqual([await defaults(g1, '-4'), await defaults(g1, '-6')], [['default via 172.30.0.1 dev eth1'], ['default via fd00:d5:1::1 dev eth1']]);
    assert.deepEqual((await dig('vm1', ['g1', 'AAAA'])).answers, ['fd00:d5:1::50'], 'its name on ds1, both families');
    const hostsLines = async () => (await ok(lab, ['exec', 'g1', 'cat', '/etc/hosts'])).split('\n').filter((l) => /^(172\.3|fd00:d5)/.test(l)).map((l) => l.split('\t')[0]);
    assert.deepEqual(await hostsLines(), ['172.31.0.3', '172.30.0.4', 'fd00:d5:2::3', 'fd00:d5:1::50'], 'its hosts file gains both addresses');
    // an IPv4-only network sorting first takes the IPv4 default only: it offers no IPv6 gateway
    await ok(lab, ['network', 'connect', 'aaa4', 'g1']);
    assert.deepEqual([await defaults(g1, '-4'), await defaults(g1, '-6')], [['default via 10.56.0.1 dev eth2'], ['default via fd00:d5:1::1 dev eth1']]);
    assert.equal(await egress(g1, 'tcp', lab.internetAddr6), lab.hostUplinkAddr6);
    await ok(lab, ['network', 'disconnect', 'ds1', 'g1']);
    assert.equal((await lab.inNetns(g1, ['ip', '-o', 'link', 'show', 'eth1'])).code, 1, 'eth1 gone');
    assert.deepEqual([await defaults(g1, '-4'), await defaults(g1, '-6')], [['default via 10.56.0.1 dev eth2'], ['default via fd00:d5:2::1 dev eth0']]);
    assert.deepEqual(await Promise.all([pings(g1, 'fd00:d5:1::2'), pings(g1, '172.30.0.2')]), [false, false]);
    assert.equal((await dig('vm1', ['g1', 'AAAA'])).status, 'NXDOMAIN');
    assert.deepEqual(await hostsLines(), ['172.31.0.3', 'fd00:d5:2::3'], 'and loses them');
    await ok(lab, ['rm', '-f', 'g1']);
    await ok(lab, ['network', 'rm', 'aaa4']);
  });

  test('15: network rm refuses while a dual-stack network has members; prune removes it and both its subnets are free again', async () => {
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:d5:9::/64', '--subnet', '10.59.0.0/24', 'gone6']);
    const br = await bridgeOf('gone6');
    await runSleeper(lab, 'x1', ['--network', 'gone6']);
    await fails(lab, ['network', 'rm', 'gone6'], /network gone6 id [0-9a-f]{64} has active endpoints/);
    await ok(lab, ['rm', '-f', 'x1']);
    const pruned = await ok(lab, ['network', 'prune', '-f']);
    assert.match(pruned, /^gone6$/m);
    assert.doesNotMatch(pruned, /^ds[12]$/m, 'networks with members stay');
    assert.ok(!(await hostLinks(lab)).some((l) => l.ifname === br), 'its bridge is gone');
    assert.doesNotMatch(await hostOk(lab, ['nft', 'list', 'set', 'ip6', 'berth', 'masquerade_subnets']), /fd00:d5:9::/);
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:d5:9::/64', '--subnet', '10.59.0.0/24', 'again6']);
    await ok(lab, ['network', 'rm', 'again6']);
  });

  test('16 (issue: --internal): members talk over both families; no way out over either, even for a container that routes by itself', async () => {
    await ok(lab, ['network', 'create', '--internal', '--ipv6', '--subnet', 'fd00:d5:3::/64', '--subnet', '10.53.0.0/24', 'dsin']);
    await runSleeper(lab, 'in1', ['--network', 'dsin']);
    await runSleeper(lab, 'in2', ['--network', 'dsin']);
    const in1 = await ns('in1');
    assert.deepEqual([await defaults(in1, '-4'), await defaults(in1, '-6')], [[], []], 'no default route of either family');
    assert.deepEqual(await Promise.all([pings(in1, 'fd00:d5:3::3'), pings(in1, '10.53.0.3')]), [true, true]);
    assert.deepEqual((await dig('in2', ['in1', 'AAAA'])).answers, ['fd00:d5:3::2']);
    // routes a container could add itself (or that an image brings), and an internet that
    // routes the subnets back to the host: the firewall alone must stop it
    for (const argv of [['ip', '-6', 'route', 'add', 'default', 'via', 'fd00:d5:3::1'], ['ip', '-4', 'route', 'add', 'default', 'via', '10.53.0.1']]) {
      assert.equal((await lab.inNetns(in1, argv)).code, 0, argv.join(' '));
    }
    for (const argv of [['ip', '-6', 'route', 'add', 'fd00:d5:3::/64', 'via', lab.hostUplinkAddr6], ['ip', '-4', 'route', 'add', '10.53.0.0/24', 'via', lab.hostUplinkAddr]]) {
      assert.equal((await lab.inInternet(argv)).code, 0, argv.join(' '));
    }
    const out = await Promise.all([
      pings(in1, lab.internetAddr6), egress(in1, 'tcp', lab.internetAddr6), egress(in1, 'udp', lab.internetAddr6),
      pings(in1, lab.internetAddr), egress(in1, 'tcp', lab.internetAddr),
      pings(in1, 'fd00:d5:1::2'), // nor into another network
    ]);
    assert.deepEqual(out, [false, 'none', 'none', false, 'none', false]);
    await ok(lab, ['rm', '-f', 'in1', 'in2']);
    await ok(lab, ['network', 'rm', 'dsin']);
  });

  // 17: legacy links. On a user network a link is a name (the resolver's); the icc=false
  // opening a link makes over IPv6 is a cell of ports.test.ts.
  test('17: --link on a dual-stack network: the alias answers AAAA and A for the linking container only; reached over IPv4', async () => {
    await runSleeper(lab, 'app1', ['--network', 'ds1', '--link', 'vm1:db']);
    const [aaaa, a, other] = await Promise.all([dig('app1', ['db', 'AAAA']), dig('app1', ['db', 'A']), dig('vm2', ['db', 'AAAA'])]);
    assert.deepEqual([aaaa.answers, a.answers], [['fd00:d5:1::2'], ['172.30.0.2']]);
    assert.equal(other.status, 'NXDOMAIN', 'the alias is the linking container\'s');
    assert.equal((await lab.berth(['exec', 'app1', 'ping', '-4', '-c1', '-W2', 'db'])).code, 0);
    await ok(lab, ['rm', '-f', 'app1']);
  });

  test('18: a shared --network-alias answers every member\'s AAAA and A, rotated', async () => {
    await runSleeper(lab, 'w1', ['--network', 'ds1', '--network-alias', 'app']);
    await runSleeper(lab, 'w2', ['--network', 'ds1', '--network-alias', 'app']);
    const want6 = [await v6of('w1', 'ds1'), await v6of('w2', 'ds1')].sort();
    const want4 = [await v4of('w1', 'ds1'), await v4of('w2', 'ds1')].sort();
    const rounds = await Promise.all([0, 1, 2, 3, 4, 5].map(() => dig('vm1', ['app', 'AAAA'])));
    for (const r of rounds) assert.deepEqual([...r.answers].sort(), want6);
    assert.ok(new Set(rounds.map((r) => r.answers.join(','))).size > 1, `AAAA answers rotate (saw ${rounds.map((r) => r.answers.join(',')).join(' | ')})`);
    assert.deepEqual([...(await dig('vm1', ['app', 'A'])).answers].sort(), want4);
    await ok(lab, ['rm', '-f', 'w1']);
    assert.deepEqual((await dig('vm1', ['app', 'AAAA'])).answers, [await v6of('w2', 'ds1')], 'the records follow the containers');
    await ok(lab, ['rm', '-f', 'w2']);
  });

  test('19, 20: /etc/hosts holds both addresses; -h, --add-host of either family, --dns with an IPv6 upstream on a dual-stack network', async () => {
    const id = (await inspect(lab, 'vm1', '{{.Id}}')).slice(0, 12);
    const hosts = await ok(lab, ['exec', 'vm1', 'cat', '/etc/hosts']);
    assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m);
    assert.match(hosts, /^::1\tlocalhost ip6-localhost ip6-loopback$/m);
    assert.match(hosts, new RegExp(`^172\\.30\\.0\\.2\\t${id} vm1$`, 'm'));
    assert.match(hosts, new RegExp(`^fd00:d5:1::2\\t${id} vm1$`, 'm'));
    assert.equal(await ok(lab, ['exec', 'vm1', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0');
    const mounts = await ok(lab, ['exec', 'vm1', 'cat', '/proc/self/mountinfo']);
    for (const f of ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']) assert.ok(mounts.includes(` ${f} `), `${f} is a mount`);
    // the resolver forwards to an upstream over IPv6: a DNS server on the internet's IPv6 address
    const dns6 = lab.spawnIn(lab.internetNs, ['node', DNS_SERVER, lab.internetAddr6, '53']);
    await dns6.waitForOutput('ready\n');
    await runSleeper(lab, 'f6', ['--network', 'ds1', '-h', 'web6', '--add-host', 'db6.example:2001:db8::9', '--add-host', 'db4.example:192.0.2.9', '--dns', lab.internetAddr6]);
    const f6 = await ok(lab, ['exec', 'f6', 'cat', '/etc/hosts']);
    const [v4, v6] = [await v4of('f6', 'ds1'), await v6of('f6', 'ds1')];
    assert.match(f6, /^2001:db8::9\tdb6\.example$/m);
    assert.match(f6, /^192\.0\.2\.9\tdb4\.example$/m);
    assert.match(f6, new RegExp(`^${v4.replace(/\./g, '\\.')}\\tweb6 f6$`, 'm'));
    assert.match(f6, new RegExp(`^${v6}\\tweb6 f6$`, 'm'));
    assert.equal(await ok(lab, ['exec', 'f6', 'hostname']), 'web6');
    assert.equal(await ok(lab, ['exec', 'f6', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0');
    const [up6, up4] = await Promise.all([dig('f6', ['echo.internet.test', 'AAAA']), dig('f6', ['echo.internet.test', 'A'])]);
    assert.deepEqual([up6.answers, up4.answers], [['2001:db8:113::10'], ['203.0.113.10']]);
    assert.match(dns6.output(), /query echo\.internet\.test 28 from 2001:db8:100::2/, 'asked over IPv6, from the host uplink\'s address');
    await ok(lab, ['rm', '-f', 'f6']);
    await dns6.stop('SIGKILL');
  });

  // 21, 22: published ports, both families (the full reachability matrix of each family,
  // icc=false and links over IPv6 are cells of ports.test.ts).
  test('21, 22: -p on a dual-stack network publishes on 0.0.0.0 and [::]: berth port, the host over 127.0.0.1, [::1] and its IPv6 address, the LAN over either family', async () => {
    const lan = await lab.addLanHost('lan1');
    await ok(lab, ['run', '-d', '--name', 'web', '--network', 'ds1', '-e', 'WHO=web', '-p', '8080:80', '--', 'node', '-e', SERVER]);
    assert.equal(await ok(lab, ['port', 'web']), '80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080');
    let reply = '';
    for (let i = 0; i < 20 && !reply; i++) reply = await fetchTcp(lab.hostNs, '127.0.0.1', 8080);
    assert.equal(reply, 'hello from web');
    const cells = await Promise.all([
      fetchTcp(lab.hostNs, '::1', 8080), fetchTcp(lab.hostNs, lab.hostUplinkAddr6, 8080),
      fetchTcp(lan.ns, LAB_LAN_ADDR, 8080), fetchTcp(lan.ns, '2001:db8:18::1', 8080),
    ]);
    assert.deepEqual(cells, ['hello from web', 'hello from web', 'hello from web', 'hello from web']);
    await ok(lab, ['rm', '-f', 'web']);
  });

  test('issue: no way in from outside: a LAN host routed to the lab host reaches no container address of either family', async () => {
    const lan = await lab.addLanHost('lan2');
    // its default routes (both families) point at the lab host: only the firewall stands between
    assert.deepEqual([await defaults(lan.ns, '-4'), await defaults(lan.ns, '-6')], [[`default via ${LAB_LAN_ADDR} dev eth0`], ['default via 2001:db8:18::1 dev eth0']]);
    await ok(lab, ['run', '-d', '--name', 'srv', '--network', 'ds1', '-e', 'WHO=srv', '--', 'node', '-e', SERVER]);
    const [v4, v6] = [await v4of('srv', 'ds1'), await v6of('srv', 'ds1')];
    let reply = '';
    for (let i = 0; i < 20 && !reply; i++) reply = await fetchTcp(await ns('vm1'), v6, 80);
    assert.equal(reply, 'hello from srv', 'it serves its own network over IPv6');
    assert.equal(await pings(lab.hostNs, v6), true, 'and the host');
    const cells = await Promise.all([pings(lan.ns, v6), fetchTcp(lan.ns, v6, 80), pings(lan.ns, v4), fetchTcp(lan.ns, v4, 80)]);
    assert.deepEqual(cells, [false, '', false, '']);
    await ok(lab, ['rm', '-f', 'srv']);
  });
});

// A container with Docker's default capabilities (CAP_NET_RAW) can send router
// advertisements on its bridge. Taken, they make it the host's IPv6 router (CVE-2020-13401)
// and its neighbours' (a SLAAC address and a default route berth never gave). The host's
// IPv6 forwarding stays off here (--ip-forward=false), where the kernel takes them by default.
describe('rogue router advertisements from containers', { concurrency: false }, () => {
  test('neither the host (a dual-stack bridge, the IPv4-only default bridge) nor a dual-stack neighbour takes them', async (t) => {
    const l = await Lab.create({ daemonArgs: ['--ip-forward=false'] });
    t.after(() => l.destroy());
    lab = l; // the helpers above ask `lab`: the walkthrough's is gone by now
    sandbox.clear();
    assert.equal(await hostOk(lab, ['sysctl', '-n', 'net.ipv6.conf.all.forwarding']), '0');
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:d5:7::/64', '--subnet', '10.57.0.0/24', 'ds7']);
    const br = await bridgeOf('ds7');
    for (const [name, net] of [['rogue', 'ds7'], ['victim', 'ds7'], ['witness', 'ds7'], ['rogue4', 'bridge'], ['witness4', 'bridge']]) await runSleeper(lab, name, ['--network', net]);
    // witnesses: containers whose eth0 takes advertisements (set by hand): once one holds the
    // advertised prefix, the advertisement has reached every port of its bridge and the bridge
    for (const w of ['witness', 'witness4']) {
      for (const key of ['accept_ra=1', 'disable_ipv6=0']) await hostOk(lab, ['nsenter', `--net=${await ns(w)}`, 'sysctl', '-qw', `net.ipv6.conf.eth0.${key}`]);
    }
    const advertised = async (w: string, prefix: string) => {
      for (let i = 0; i < 50; i++) {
        if ((await lab.inNetns(await ns(w), ['ip', '-6', 'route', 'show', prefix])).stdout.trim()) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    // each offers itself as default router, a /64 for SLAAC, and the internet's prefix as on-link
    await ok(lab, ['exec', 'rogue', 'python3', ROGUE_RA, 'eth0', '2001:db8:bad::', '2001:db8:203::']);
    await ok(lab, ['exec', 'rogue4', 'python3', ROGUE_RA, 'eth0', '2001:db8:bad:4::', '2001:db8:203::']);
    assert.ok(await advertised('witness', '2001:db8:bad::/64'), 'the dual-stack bridge carried the advertisement');
    assert.ok(await advertised('witness4', '2001:db8:bad:4::/64'), 'so did the default bridge');
    // the host: no route and no address from them; the internet is still reached by the uplink
    assert.equal(await hostOk(lab, ['ip', '-6', 'route', 'show', 'proto', 'ra']), '');
    assert.match(await hostOk(lab, ['ip', '-6', 'route', 'get', lab.internetAddr6]), / via 2001:db8:100::1 dev uplink0 /);
    assert.deepEqual(await addrs(lab.hostNs, br), ['10.57.0.1/24', 'fd00:d5:7::1/64']);
    assert.deepEqual(await addrs(lab.hostNs, 'berth0'), ['172.17.0.1/16']);
    // the neighbour: its own address and berth's default route only
    const victim = await ns('victim');
    assert.deepEqual(await addrs(victim, 'eth0'), ['10.57.0.3/24', 'fd00:d5:7::3/64']);
    assert.deepEqual(await defaults(victim, '-6'), ['default via fd00:d5:7::1 dev eth0']);
    assert.equal(await hostOk(lab, ['nsenter', `--net=${victim}`, 'cat', '/proc/sys/net/ipv6/conf/eth0/accept_ra', '/proc/sys/net/ipv6/conf/eth0/router_solicitations']), '0\n0', 'it neither takes advertisements nor asks for them');
    assert.equal((await lab.inNetns(victim, ['ip', '-6', 'route', 'show', '2001:db8:203::/64'])).stdout.trim(), '');
  });
});
