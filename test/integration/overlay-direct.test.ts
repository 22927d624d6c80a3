// Overlay networks with direct routing between hosts (-o berth.overlay.routing=direct,
// flannel's host-gw): three hosts on one underlay segment with a real etcd; the same IPAM,
// names and isolation as a VXLAN overlay, but container packets cross the underlay as they
// are, routed by a /32 route per remote container. Real CLI, real kernel, real store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterFor, CLUSTER_ETCD_ENDPOINT, CLUSTER_STORE, type ClusterHost } from '../lab/cluster.js';
import { HOST_UPLINK_ADDR } from '../lab/topology.js';
import { eventually, fails, hostOk, inspect, ok, pingFrom, pingsEveryOther, resolves, runSleeper } from './helpers.js';

const CLUSTER_FLAGS = ['--cluster-store', CLUSTER_STORE, '--cluster-advertise', 'eth0'];
const DIRECT = ['-o', 'berth.overlay.routing=direct'];
/** answers with the address it sees the client at: NAT on the way would show */
const WHO_ASKS = "require('net').createServer(c=>c.end(process.env.WHO+' sees '+c.remoteAddress.replace('::ffff:',''))).listen(80)";
const PROTO = '66';

/** Pings from a netns that is not a container (the router, the internet, a host itself). */
async function pingsFrom(h: ClusterHost, ns: string, target: string, extra: string[] = []): Promise<boolean> {
  return (await h.inNetns(ns, ['ping', '-c1', '-W1', ...extra, target])).code === 0;
}

/** Echo requests a netns has received so far (Icmp InEchos of its /proc/net/snmp): did a ping get there at all? */
async function echoesReceived(h: ClusterHost, ns: string): Promise<number> {
  const r = await h.inNetns(ns, ['cat', '/proc/net/snmp']);
  const [names, values] = r.stdout.split('\n').filter((l) => l.startsWith('Icmp:')).map((l) => l.split(/\s+/));
  return Number(values[names.indexOf('InEchos')]);
}

/** berth's routes on a host (protocol 66), as "DST via GW dev DEV", sorted. */
async function directRoutes(h: ClusterHost): Promise<string[]> {
  const routes = JSON.parse(await hostOk(h, ['ip', '-j', 'route', 'show', 'proto', PROTO])) as { dst: string; gateway?: string; dev: string }[];
  return routes.map((r) => `${r.dst} via ${r.gateway} dev ${r.dev}`).sort();
}

async function fetchTcp(h: ClusterHost, ns: string, host: string, port: number): Promise<string> {
  const r = await h.inNetns(ns, ['node', '-e', `const s=require('net').connect(${port},'${host}');let d='';s.on('data',x=>d+=x).on('end',()=>{console.log(d);process.exit(0)}).on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),2000)`]);
  return r.code === 0 ? r.stdout.trim() : '';
}

function storeKeys(h: ClusterHost, prefix: string): Promise<string[]> {
  return hostOk(h, ['etcdctl', '--endpoints', CLUSTER_ETCD_ENDPOINT, 'get', '--prefix', '--keys-only', prefix]).then((o) => o.split('\n').filter(Boolean));
}

const ipOf = (h: ClusterHost, c: string, net: string) => inspect(h, c, `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`);
const sandboxOf = (h: ClusterHost, c: string) => inspect(h, c, '{{.NetworkSettings.SandboxKey}}');
const idOf = async (h: ClusterHost, net: string) => (await ok(h, ['network', 'inspect', '-f', '{{.Id}}', net])).slice(0, 12);

/**
 * A probe on a host's underlay NIC, at ingress, before anything of berth's sees the
 * packet: `inner` counts ICMP echo requests whose IP header carries container addresses
 * (10.70.0.0/15: both overlays of the test), `vxlan` counts UDP to 4789. An encapsulated
 * ping shows up in `vxlan` only (its outer header is between host addresses).
 */
const PROBE = [
  'table netdev probe {',
  '  counter inner { }',
  '  counter vxlan { }',
  '  chain in {',
  '    type filter hook ingress device "eth0" priority 0; policy accept;',
  '    ip saddr 10.70.0.0/15 ip daddr 10.70.0.0/15 icmp type echo-request counter name "inner"',
  '    udp dport 4789 counter name "vxlan"',
  '  }',
  '}',
].join('\n');

async function probeCounts(h: ClusterHost): Promise<{ inner: number; vxlan: number }> {
  const out = JSON.parse(await hostOk(h, ['nft', '-j', 'list', 'counters', 'table', 'netdev', 'probe'])) as { nftables: { counter?: { name: string; packets: number } }[] };
  const of = (name: string) => out.nftables.find((x) => x.counter?.name === name)?.counter?.packets ?? -1;
  return { inner: of('inner'), vxlan: of('vxlan') };
}

test('overlay with direct routing across 3 hosts on one L2 segment', async (t) => {
  const cluster = await clusterFor(t, { hosts: 3, daemonArgs: CLUSTER_FLAGS });
  const [h1, h2, h3] = [1, 2, 3].map((i) => cluster.host(i)) as [ClusterHost, ClusterHost, ClusterHost];
  const all = [h1, h2, h3];
  let id = '';
  const ips: Record<string, string> = {};

  await t.test('create: on every host a bridge with the gateway at the underlay MTU, proxy ARP on, no VXLAN device', async () => {
    // the strictest reverse-path filter a host may have: routed traffic must pass it
    for (const h of all) await hostOk(h, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.eth0.rp_filter=1']);
    id = (await ok(h1, ['network', 'create', '-d', 'overlay', ...DIRECT, '--subnet', '10.70.0.0/24', 'dnet'])).slice(0, 12);
    for (const h of all) {
      await eventually(`dnet on ${h.name}`, async () => (await h.berth(['network', 'inspect', 'dnet'])).code === 0);
      assert.equal(await ok(h, ['network', 'inspect', '-f', '{{.Scope}} {{index .Options "berth.overlay.routing"}}', 'dnet']), 'global direct');
      const [br] = JSON.parse(await hostOk(h, ['ip', '-j', 'link', 'show', `ov-${id}`])) as { mtu: number }[];
      assert.equal(br.mtu, 1500, 'the underlay MTU: nothing is added to a packet');
      assert.match(await hostOk(h, ['ip', '-4', 'addr', 'show', 'dev', `ov-${id}`]), /inet 10\.70\.0\.1\/24/);
      assert.equal((await h.inHost(['ip', 'link', 'show', `vx-${id}`])).code, 1, 'no VXLAN device');
      assert.equal(await hostOk(h, ['cat', `/proc/sys/net/ipv4/conf/ov-${id}/proxy_arp`]), '1');
      assert.deepEqual(await directRoutes(h), [], 'no container yet: no route');
    }
  });

  await t.test('containers on every host reach each other by IP and name; a 1500-byte DF packet crosses; one /32 route per remote container', async () => {
    await runSleeper(h1, 'c1', ['--network', 'dnet', '--network-alias', 'web']);
    await runSleeper(h2, 'c2', ['--network', 'dnet']);
    await runSleeper(h3, 'c3', ['--network', 'dnet', '--ip', '10.70.0.33']);
    Object.assign(ips, { c1: await ipOf(h1, 'c1', 'dnet'), c2: await ipOf(h2, 'c2', 'dnet'), c3: await ipOf(h3, 'c3', 'dnet') });
    assert.deepEqual(Object.values(ips), ['10.70.0.2', '10.70.0.3', '10.70.0.33']);
    await pingsEveryOther({ c1: h1, c2: h2, c3: h3 }, ips);
    assert.equal(await resolves(h3, 'c3', 'web'), '10.70.0.2', 'an alias given on host 1 resolves on host 3');
    assert.equal(await ok(h2, ['exec', 'c2', 'cat', '/sys/class/net/eth0/mtu']), '1500');
    assert.ok(await pingFrom(h2, 'c2', 'c1', ['-M', 'do', '-s', '1472']), '1472 bytes of ICMP data + 28 = 1500 cross with DF');
    // the routes: each host routes the others' containers via their hosts, and nothing else
    const via = (ip: string, h: ClusterHost) => `${ip} via ${h.hostUplinkAddr} dev eth0`;
    assert.deepEqual(await directRoutes(h1), [via('10.70.0.3', h2), via('10.70.0.33', h3)]);
    assert.deepEqual(await directRoutes(h2), [via('10.70.0.2', h1), via('10.70.0.33', h3)]);
    assert.deepEqual(await directRoutes(h3), [via('10.70.0.2', h1), via('10.70.0.3', h2)]);
    // a container's ARP for a remote address is answered by its bridge (proxy ARP)
    const bridgeMac = JSON.parse(await hostOk(h1, ['ip', '-j', 'link', 'show', `ov-${id}`]))[0].address as string;
    assert.match(await ok(h1, ['exec', 'c1', 'ip', 'neigh', 'show', '10.70.0.3']), new RegExp(`lladdr ${bridgeMac}`));
  });

  await t.test('no encapsulation: the ping crosses the underlay with the containers\' addresses; a VXLAN overlay (control) is seen as UDP 4789 only', async () => {
    const load = await h2.inHost(['nft', '-f', '-'], { input: PROBE });
    assert.equal(load.code, 0, load.stderr);
    try {
      assert.equal((await h1.berth(['exec', 'c1', 'ping', '-c', '20', '-i', '0.01', '-W1', ips.c2])).code, 0);
      const direct = await probeCounts(h2);
      assert.ok(direct.inner >= 20, `20 echo requests 10.70.0.2 -> 10.70.0.3 on host 2's eth0 as they are: ${JSON.stringify(direct)}`);
      assert.equal(direct.vxlan, 0, 'no VXLAN packet at all');
      // the control: the same probe tells an encapsulated overlay apart
      await ok(h1, ['network', 'create', '-d', 'overlay', '--subnet', '10.71.0.0/24', 'vnet']);
      await eventually('vnet on host 2', async () => (await h2.berth(['network', 'inspect', 'vnet'])).code === 0);
      await runSleeper(h1, 'v1', ['--network', 'vnet']);
      await runSleeper(h2, 'v2', ['--network', 'vnet']);
      await eventually('v1 reaches v2', () => pingFrom(h1, 'v1', 'v2'));
      await hostOk(h2, ['nft', 'reset', 'counters', 'table', 'netdev', 'probe']);
      assert.equal((await h1.berth(['exec', 'v1', 'ping', '-c', '20', '-i', '0.01', '-W1', await ipOf(h2, 'v2', 'vnet')])).code, 0);
      const tunnelled = await probeCounts(h2);
      assert.ok(tunnelled.vxlan >= 20, `VXLAN overlay: its pings arrive as UDP 4789: ${JSON.stringify(tunnelled)}`);
      assert.equal(tunnelled.inner, 0, 'VXLAN overlay: no container address in an outer header');
      t.diagnostic(`host 2 eth0 ingress: direct ${JSON.stringify(direct)}, vxlan ${JSON.stringify(tunnelled)}`);
    } finally {
      await h2.inHost(['nft', 'delete', 'table', 'netdev', 'probe']);
      await h1.berth(['rm', '-f', 'v1']);
      await h2.berth(['rm', '-f', 'v2']);
      await h1.berth(['network', 'rm', 'vnet']);
    }
  });

  await t.test('TCP across hosts keeps the addresses (no NAT between hosts); egress to the internet is NATed to the container\'s own host', async () => {
    await ok(h2, ['run', '-d', '--name', 'srv', '--network', 'dnet', '--ip', '10.70.0.50', '-e', 'WHO=srv', '--', 'node', '-e', WHO_ASKS]);
    const c1ns = await sandboxOf(h1, 'c1');
    let reply = '';
    await eventually('srv answers c1', async () => (reply = await fetchTcp(h1, c1ns, '10.70.0.50', 80)) !== '');
    assert.equal(reply, `srv sees ${ips.c1}`, 'the server on host 2 sees c1\'s own address');
    assert.equal(await fetchTcp(h3, await sandboxOf(h3, 'c3'), '10.70.0.50', 80), `srv sees ${ips.c3}`);
    assert.ok(await pingFrom(h2, 'c2', cluster.internetAddr), 'c2 reaches the internet');
    assert.equal(await h2.echoFrom(await sandboxOf(h2, 'c2')), h2.hostUplinkAddr, 'the internet sees host 2\'s address');
    assert.equal(await h3.echoFrom(await sandboxOf(h3, 'c3')), h3.hostUplinkAddr, 'the internet sees host 3\'s address');
  });

  await t.test('isolation: no way in for a host outside the cluster, the internet, the cluster\'s hosts or another network; -p still publishes', async () => {
    const router = cluster.routerNs;
    const routerName = router.split('/').pop()!;
    const internetName = cluster.internetNs.split('/').pop()!;
    // the router is a non-member on the same L2 segment: it is given a route into the overlay, and the internet one via the router
    await hostOk(h1, ['ip', '-n', routerName, 'route', 'add', '10.70.0.0/24', 'via', h2.hostUplinkAddr]);
    await hostOk(h1, ['ip', '-n', internetName, 'route', 'add', '10.70.0.0/24', 'via', HOST_UPLINK_ADDR]);
    const c2ns = await sandboxOf(h2, 'c2');
    const before = await echoesReceived(h2, c2ns);
    assert.ok(!(await pingsFrom(h1, router, '10.70.0.3')), 'a host outside the cluster on the underlay');
    assert.equal(await fetchTcp(h1, router, '10.70.0.50', 80), '', '… nor by TCP');
    assert.ok(!(await pingsFrom(h1, cluster.internetNs, '10.70.0.3')), 'the internet');
    assert.equal(await fetchTcp(h1, cluster.internetNs, '10.70.0.50', 80), '', '… nor by TCP');
    // a source inside the subnet that no other host holds fails the reverse-path check
    await hostOk(h1, ['ip', '-n', routerName, 'addr', 'add', '10.70.0.200/32', 'dev', 'lo']);
    assert.ok(!(await pingsFrom(h1, router, '10.70.0.3', ['-I', '10.70.0.200'])), 'a forged overlay source from outside');
    assert.ok(!(await pingsFrom(h1, h1.hostNs, '10.70.0.3')), 'host 1 itself (its underlay address is no container\'s)');
    assert.equal(await fetchTcp(h1, h1.hostNs, '10.70.0.50', 80), '', 'host 1 itself, by TCP');
    await ok(h1, ['network', 'create', 'lnet']);
    await runSleeper(h1, 'other', ['--network', 'lnet']);
    assert.ok(!(await pingFrom(h1, 'other', '10.70.0.3')), 'a container of another network on a member host');
    assert.equal(await fetchTcp(h1, await sandboxOf(h1, 'other'), '10.70.0.50', 80), '', '… nor by TCP');
    assert.equal(await echoesReceived(h2, c2ns), before, 'not one of those echo requests got into c2 (a reply lost on the way back would not show)');
    assert.ok(await pingFrom(h1, 'c1', 'c2'), 'the counter counts: c1\'s ping gets in');
    assert.equal(await echoesReceived(h2, c2ns), before + 1);
    // still reachable the way Docker allows: a published port
    await ok(h2, ['run', '-d', '--name', 'pub', '--network', 'dnet', '-e', 'WHO=pub', '-p', '8080:80', '--', 'node', '-e', WHO_ASKS]);
    let reply = '';
    await eventually('pub published', async () => (reply = await fetchTcp(h1, cluster.internetNs, h2.hostUplinkAddr, 8080)) !== '');
    assert.match(reply, /^pub sees /, 'the internet reaches a published port of host 2');
    await ok(h2, ['rm', '-f', 'pub']);
    await ok(h1, ['rm', '-f', 'other']);
    await ok(h1, ['network', 'rm', 'lnet']);
    await hostOk(h1, ['ip', '-n', routerName, 'route', 'del', '10.70.0.0/24']);
    await hostOk(h1, ['ip', '-n', routerName, 'addr', 'del', '10.70.0.200/32', 'dev', 'lo']);
    await hostOk(h1, ['ip', '-n', internetName, 'route', 'del', '10.70.0.0/24']);
  });

  await t.test('a host across a router: network create refuses naming it; a container there is said in the log and not routed', async () => {
    const h3addr = h3.hostUplinkAddr;
    // host 1 reaches host 3 through the router now, as across an L3 underlay
    await hostOk(h1, ['ip', 'route', 'add', `${h3addr}/32`, 'via', cluster.router.addr]);
    try {
      await fails(h1, ['network', 'create', '-d', 'overlay', ...DIRECT, 'far'],
        new RegExp(`overlay network far with berth.overlay.routing=direct: direct routing cannot reach host \\S+ \\([0-9a-f]{12}\\): ${h3addr.replaceAll('.', '\\.')} is not on this host's L2 segment \\(the kernel reaches it through the router ${cluster.router.addr.replaceAll('.', '\\.')} on eth0\\); direct routing needs every host of the network on one L2 segment; create it with the default routing \\(vxlan\\), which crosses routers`));
      assert.doesNotMatch(await ok(h1, ['network', 'ls']), /\sfar\s/);
      assert.deepEqual((await storeKeys(h1, '/berth/v1/names/')).filter((k) => k.endsWith('/far')), [], 'nothing claimed');
      // made from host 2 (it has every host on its segment), a container on host 3 is one clear line in host 1's log
      await ok(h2, ['network', 'create', '-d', 'overlay', ...DIRECT, '--subnet', '10.70.1.0/24', 'far']);
      await eventually('far on host 1 and 3', async () => (await h1.berth(['network', 'inspect', 'far'])).code === 0 && (await h3.berth(['network', 'inspect', 'far'])).code === 0);
      await runSleeper(h3, 'f3', ['--network', 'far']);
      await eventually('the log of host 1 says why', async () => h1.daemonLog().includes(
        `overlay network far: direct routing cannot reach container 10.70.1.2 on the host at ${h3addr}: ${h3addr} is not on this host's L2 segment (the kernel reaches it through the router ${cluster.router.addr} on eth0)`));
      assert.ok(!(await directRoutes(h1)).some((r) => r.startsWith('10.70.1.')), 'no route made on host 1');
      assert.ok((await directRoutes(h2)).includes(`10.70.1.2 via ${h3addr} dev eth0`), 'host 2 routes it');
      await ok(h3, ['rm', '-f', 'f3']);
      await ok(h2, ['network', 'rm', 'far']);
    } finally {
      await h1.inHost(['ip', 'route', 'del', `${h3addr}/32`]);
    }
  });

  await t.test('restart: routes berth made that no endpoint explains go; a user\'s routes, even to a remote container, stay as they are', async () => {
    await h1.stopDaemon();
    await hostOk(h1, ['ip', 'route', 'add', '10.70.0.77/32', 'via', h2.hostUplinkAddr, 'proto', PROTO]);
    await hostOk(h1, ['ip', 'route', 'add', '10.72.9.5/32', 'via', h2.hostUplinkAddr, 'proto', PROTO]);
    await hostOk(h1, ['ip', 'route', 'add', '10.70.0.88/32', 'via', h2.hostUplinkAddr, 'proto', 'static']);
    // srv's route replaced by one of the user's, to the router
    await hostOk(h1, ['ip', 'route', 'del', '10.70.0.50/32', 'proto', PROTO]);
    await hostOk(h1, ['ip', 'route', 'add', '10.70.0.50/32', 'via', cluster.router.addr, 'proto', 'static']);
    await h1.startDaemon();
    await eventually('stale routes gone on host 1', async () => !(await directRoutes(h1)).some((r) => /^10\.70\.0\.77 |^10\.72\.9\.5 /.test(r)));
    const via = (ip: string, h: ClusterHost) => `${ip} via ${h.hostUplinkAddr} dev eth0`;
    await eventually('the log says why srv is not routed', async () => h1.daemonLog().includes(
      `overlay network dnet: cannot add route 10.70.0.50/32 via ${h2.hostUplinkAddr}: a route to 10.70.0.50/32 made by someone else (protocol 4) is there, and is left as it is`));
    assert.deepEqual(await directRoutes(h1), [via('10.70.0.3', h2), via('10.70.0.33', h3)]);
    assert.match(await hostOk(h1, ['ip', 'route', 'show', '10.70.0.88/32']), /proto static/, 'the user\'s route into the subnet is kept');
    assert.match(await hostOk(h1, ['ip', 'route', 'show', '10.70.0.50/32']), new RegExp(`via ${cluster.router.addr.replaceAll('.', '\\.')} dev eth0 proto static`), 'the user\'s route to srv is kept');
    await hostOk(h1, ['ip', 'route', 'del', '10.70.0.88/32']);
    await hostOk(h1, ['ip', 'route', 'del', '10.70.0.50/32']);
    assert.ok(await pingFrom(h1, 'c1', 'c2'), 'the containers still reach each other');
  });

  await t.test('an internal network routed directly: across hosts yes, out no', async () => {
    await ok(h2, ['network', 'create', '-d', 'overlay', ...DIRECT, '--internal', '--subnet', '10.70.2.0/24', 'inner']);
    await eventually('inner on host 1', async () => (await h1.berth(['network', 'inspect', 'inner'])).code === 0);
    await runSleeper(h1, 'i1', ['--network', 'inner']);
    await runSleeper(h2, 'i2', ['--network', 'inner']);
    assert.ok(await pingFrom(h1, 'i1', 'i2'));
    assert.ok(!(await pingFrom(h1, 'i1', cluster.internetAddr)), 'no way out');
    assert.ok(!(await pingFrom(h1, 'i1', h2.hostUplinkAddr)), 'not even to the other host');
    assert.ok(!(await pingFrom(h1, 'c1', '10.70.2.3')), 'isolated from the other overlay');
    await ok(h1, ['rm', '-f', 'i1']);
    await ok(h2, ['rm', '-f', 'i2']);
    await ok(h1, ['network', 'rm', 'inner']);
  });

  await t.test('a host dies: within its lease TTL (10 s) every other host removes its routes and names', async () => {
    await cluster.killHost(3);
    const left = async (h: ClusterHost) => !(await directRoutes(h)).some((r) => r.startsWith('10.70.0.33 '));
    const took = await eventually('host 3\'s routes gone on hosts 1 and 2', async () => (await left(h1)) && (await left(h2)), 25_000);
    t.diagnostic(`host 3's routes gone ${took} ms after it died`);
    assert.equal(await resolves(h1, 'c1', 'c3'), '', 'c3 resolves no more');
    assert.ok(await pingFrom(h1, 'c1', 'c2'), 'the others are untouched');
  });

  await t.test('removal: the network goes, and with it every route on every host', async () => {
    await ok(h2, ['rm', '-f', 'srv', 'c2']);
    await eventually('c2\'s and srv\'s routes gone on host 1', async () => (await directRoutes(h1)).length === 0);
    await ok(h1, ['rm', '-f', 'c1']);
    await ok(h2, ['network', 'rm', 'dnet']);
    for (const h of [h1, h2]) {
      await eventually(`dnet gone on ${h.name}`, async () => (await h.berth(['network', 'inspect', 'dnet'])).code !== 0);
      assert.deepEqual(await directRoutes(h), []);
      assert.equal((await h.inHost(['ip', 'link', 'show', `ov-${id}`])).code, 1);
    }
  });

  await t.test('bad input: a routing that does not exist is one clear line', async () => {
    await fails(h1, ['network', 'create', '-d', 'overlay', '-o', 'berth.overlay.routing=l3', 'bad'], /invalid value for berth\.overlay\.routing: "l3" \(expected vxlan or direct\)/);
  });
});
