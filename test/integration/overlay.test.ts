// Overlay networks across hosts (issue 14): three hosts, each a netns with its own berthd,
// on one underlay with a real etcd, and an internet behind the router. Everything goes
// through the real CLI, the real kernel and the real store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterFor, CLUSTER_ETCD_ENDPOINT, CLUSTER_STORE, type ClusterHost } from '../lab/cluster.js';
import { labFor } from '../lab/lab.js';
import { eventually, fails, hostOk, inspect, ok, pingFrom, pingsEveryOther, resolves, runSleeper } from './helpers.js';

const CLUSTER_FLAGS = ['--cluster-store', CLUSTER_STORE, '--cluster-advertise', 'eth0'];
const SERVER = "require('net').createServer(c=>c.end('hello from '+process.env.WHO)).listen(80)";

function etcdctl(h: ClusterHost, args: string[]) {
  return h.inHost(['etcdctl', '--endpoints', CLUSTER_ETCD_ENDPOINT, '--dial-timeout', '2s', '--command-timeout', '3s', ...args], { timeoutMs: 10_000 });
}

/** Keys under a prefix of the store (etcdctl --keys-only). */
async function storeKeys(h: ClusterHost, prefix: string): Promise<string[]> {
  const r = await etcdctl(h, ['get', '--prefix', '--keys-only', prefix]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

async function fdb(h: ClusterHost, dev: string): Promise<string[]> {
  return (await hostOk(h, ['bridge', 'fdb', 'show', 'dev', dev])).split('\n').filter(Boolean);
}

async function neighbours(h: ClusterHost, dev: string): Promise<string[]> {
  return (await hostOk(h, ['ip', 'neigh', 'show', 'dev', dev])).split('\n').map((l) => l.trim()).filter(Boolean);
}

async function fetchTcp(h: ClusterHost, ns: string, host: string, port: number): Promise<string> {
  const r = await h.inNetns(ns, ['node', '-e', `const s=require('net').connect(${port},'${host}');let d='';s.on('data',x=>d+=x).on('end',()=>{console.log(d);process.exit(0)}).on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),2000)`]);
  return r.code === 0 ? r.stdout.trim() : '';
}

const ipOf = (h: ClusterHost, c: string, net: string) => inspect(h, c, `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`);
const idOf = async (h: ClusterHost, net: string) => (await ok(h, ['network', 'inspect', '-f', '{{.Id}}', net])).slice(0, 12);

test('overlay networks across 3 hosts on one etcd', async (t) => {
  const cluster = await clusterFor(t, { hosts: 3, daemonArgs: CLUSTER_FLAGS });
  const [h1, h2, h3] = [1, 2, 3].map((i) => cluster.host(i)) as [ClusterHost, ClusterHost, ClusterHost];
  const all = [h1, h2, h3];

  await t.test('create on one host: the same network, Scope global, on every host within milliseconds', async () => {
    const id = await ok(h1, ['network', 'create', '-d', 'overlay', '--attachable', 'ov']);
    for (const h of [h2, h3]) {
      const took = await eventually(`ov on ${h.name}`, async () => (await h.berth(['network', 'inspect', 'ov'])).code === 0);
      t.diagnostic(`ov visible on ${h.name} ${took} ms after create returned`);
      assert.equal(await ok(h, ['network', 'inspect', '-f', '{{.Id}} {{.Scope}} {{.Driver}} {{.Attachable}} {{json .IPAM.Config}} {{json .Options}}', 'ov']),
        `${id} global overlay true [{"Gateway":"10.0.0.1","Subnet":"10.0.0.0/24"}] {"com.docker.network.driver.overlay.vxlanid_list":"4096"}`);
      assert.match(await ok(h, ['network', 'ls', '--filter', 'name=ov']), /ov\s+overlay\s+global/);
    }
    for (const h of all) {
      // VNI 4096, from this host's underlay address, no learning, MTU = underlay 1500 − 50, on the network's bridge
      const [vx] = JSON.parse(await hostOk(h, ['ip', '-d', '-j', 'link', 'show', `vx-${id.slice(0, 12)}`])) as { mtu: number; master: string; linkinfo: { info_data: { id: number; local: string; learning: boolean; proxy: boolean } } }[];
      assert.deepEqual([vx.mtu, vx.master, vx.linkinfo.info_data.id, vx.linkinfo.info_data.local, vx.linkinfo.info_data.learning, vx.linkinfo.info_data.proxy], [1450, `ov-${id.slice(0, 12)}`, 4096, h.hostUplinkAddr, false, true]);
      assert.match(await hostOk(h, ['ip', '-4', 'addr', 'show', 'dev', `ov-${id.slice(0, 12)}`]), /inet 10\.0\.0\.1\/24/, 'the gateway is on every host\'s bridge');
    }
  });

  await t.test('containers on every host reach each other by IP, name and alias; a 1450-byte DF packet crosses', async () => {
    await runSleeper(h1, 'c1', ['--network', 'ov', '--network-alias', 'web']);
    await runSleeper(h2, 'c2', ['--network', 'ov']);
    await runSleeper(h3, 'c3', ['--network', 'ov', '--ip', '10.0.0.33']);
    const ips = await Promise.all([ipOf(h1, 'c1', 'ov'), ipOf(h2, 'c2', 'ov'), ipOf(h3, 'c3', 'ov')]);
    assert.deepEqual(ips, ['10.0.0.2', '10.0.0.3', '10.0.0.33']);
    await pingsEveryOther({ c1: h1, c2: h2, c3: h3 }, { c1: ips[0]!, c2: ips[1]!, c3: ips[2]! });
    assert.equal(await resolves(h3, 'c3', 'web'), '10.0.0.2', 'an alias given on host 1 resolves on host 3');
    assert.equal(await ok(h2, ['exec', 'c2', 'cat', '/sys/class/net/eth0/mtu']), '1450');
    assert.ok(await pingFrom(h2, 'c2', 'c1', ['-M', 'do', '-s', '1422']), '1422 bytes of ICMP data + 28 = 1450 cross with DF');
    const big = await h2.berth(['exec', 'c2', 'ping', '-c1', '-W1', '-M', 'do', '-s', '1423', 'c1']);
    assert.notEqual(big.code, 0, 'a 1451-byte DF packet is refused');
    assert.match(big.stdout + big.stderr, /message too long|mtu/i);
    // the data path: static entries only, no flood entry, nothing learned
    const dev = `vx-${await idOf(h1, 'ov')}`;
    const entries = await fdb(h1, dev);
    assert.ok(entries.includes(`02:42:0a:00:00:03 dst ${h2.hostUplinkAddr} self permanent`), entries.join('\n'));
    assert.ok(entries.includes(`02:42:0a:00:00:21 dst ${h3.hostUplinkAddr} self permanent`), entries.join('\n'));
    assert.ok(!entries.some((e) => e.startsWith('00:00:00:00:00:00')), 'no all-zeros flood entry');
    assert.ok(!entries.some((e) => !/permanent|static/.test(e)), `nothing learned: ${entries.join('\n')}`);
    assert.deepEqual((await neighbours(h1, dev)).sort(), ['10.0.0.3 lladdr 02:42:0a:00:00:03 PERMANENT', '10.0.0.33 lladdr 02:42:0a:00:00:21 PERMANENT']);
    // the picture of host 1 shows the overlay spanning the hosts: their containers on it
    const graph = JSON.parse(await ok(h1, ['system', 'graph', '--format', 'json']));
    assert.deepEqual(graph.remote, [
      { network: 'ov', name: 'c2', ipv4: '10.0.0.3', mac: '02:42:0a:00:00:03', host: h2.hostUplinkAddr },
      { network: 'ov', name: 'c3', ipv4: '10.0.0.33', mac: '02:42:0a:00:00:21', host: h3.hostUplinkAddr },
    ]);
    assert.equal(graph.networks.find((n: { name: string }) => n.name === 'ov').vxlan, dev);
    // berth explain on host 1: c1's frame for c3 crosses the VXLAN device to host 3, whose firewall decides there
    const e = JSON.parse(await ok(h1, ['explain', '--json', 'c1', 'c3:80'])) as { verdict: string; reason: string; destination: string; hops: { where: string; decided: string }[] };
    assert.equal(e.verdict, 'reachable', e.reason);
    assert.equal(e.destination, `c3 (on host ${h3.hostUplinkAddr})`);
    assert.ok(e.hops.some((h) => h.where === `VXLAN ${dev}` && h.decided.startsWith(`tunnelled to host ${h3.hostUplinkAddr}, where c3 runs`)), JSON.stringify(e.hops));
  });

  await t.test('egress through each container\'s own host (NAT to its address); -p publishes on the container\'s host', async () => {
    assert.ok(await pingFrom(h2, 'c2', cluster.internetAddr), 'c2 reaches the internet');
    const seen = await h2.echoFrom(await inspect(h2, 'c2', '{{.NetworkSettings.SandboxKey}}'));
    assert.equal(seen, h2.hostUplinkAddr, 'the internet sees host 2\'s own address');
    await ok(h3, ['run', '-d', '--name', 'pub', '--network', 'ov', '-e', 'WHO=pub', '-p', '8080:80', '--', 'node', '-e', SERVER]);
    let reply = '';
    for (let i = 0; i < 30 && !reply; i++) reply = await fetchTcp(h1, h1.hostNs, h3.hostUplinkAddr, 8080);
    assert.equal(reply, 'hello from pub', 'host 1 reaches pub through host 3\'s published port');
    assert.equal(await fetchTcp(h1, h1.hostNs, h1.hostUplinkAddr, 8080), '', 'not published on host 1');
    assert.equal(await fetchTcp(h1, await inspect(h1, 'c1', '{{.NetworkSettings.SandboxKey}}'), await ipOf(h3, 'pub', 'ov'), 80), 'hello from pub', 'c1 reaches pub:80 across hosts directly');
    await ok(h3, ['rm', '-f', 'pub']);
  });

  await t.test('an internal overlay: across hosts yes, out no', async () => {
    await ok(h2, ['network', 'create', '-d', 'overlay', '--internal', '--subnet', '10.55.0.0/24', 'inner']);
    await eventually('inner on host 1', async () => (await h1.berth(['network', 'inspect', 'inner'])).code === 0);
    await runSleeper(h1, 'i1', ['--network', 'inner']);
    await runSleeper(h2, 'i2', ['--network', 'inner']);
    assert.ok(await pingFrom(h1, 'i1', 'i2'));
    assert.ok(!(await pingFrom(h1, 'i1', cluster.internetAddr)), 'no way out');
    assert.equal(await ok(h1, ['exec', 'i1', 'ip', 'route']), '10.55.0.0/24 dev eth0 proto kernel scope link src 10.55.0.2');
    assert.ok(!(await pingFrom(h1, 'c1', '10.55.0.3')), 'isolated from the other overlay');
    await ok(h1, ['rm', '-f', 'i1']);
    await ok(h2, ['rm', '-f', 'i2']);
  });

  await t.test('containers started on all hosts at once: no address twice', async () => {
    const per = 8;
    await Promise.all(all.map((h, i) => Promise.all(Array.from({ length: per }, (_, k) => runSleeper(h, `many-${i + 1}-${k}`, ['--network', 'ov'])))));
    const ips = (await Promise.all(all.flatMap((h, i) => Array.from({ length: per }, (_, k) => ipOf(h, `many-${i + 1}-${k}`, 'ov'))))).filter(Boolean);
    assert.equal(ips.length, 3 * per);
    assert.equal(new Set([...ips, '10.0.0.2', '10.0.0.3', '10.0.0.33']).size, 3 * per + 3, `no duplicate: ${ips.join(' ')}`);
    const id = await ok(h1, ['network', 'inspect', '-f', '{{.Id}}', 'ov']);
    assert.equal((await storeKeys(h1, `/berth/v1/addresses/${id}/`)).length, 3 * per + 3, 'one address key per endpoint');
    assert.equal((await storeKeys(h1, `/berth/v1/endpoints/${id}/`)).length, 3 * per + 3, 'one endpoint record per endpoint');
    assert.ok(await pingFrom(h3, 'many-3-0', 'many-1-7'));
    await Promise.all(all.map((h, i) => ok(h, ['rm', '-f', ...Array.from({ length: per }, (_, k) => `many-${i + 1}-${k}`)])));
  });

  await t.test('a container removed on one host is gone from every other: name, entries, address', async () => {
    const dev = `vx-${await idOf(h1, 'ov')}`;
    await ok(h3, ['rm', '-f', 'c3']);
    for (const h of [h1, h2]) {
      await eventually(`c3's entries gone on ${h.name}`, async () => !(await fdb(h, dev)).some((e) => e.startsWith('02:42:0a:00:00:21')) && !(await neighbours(h, dev)).some((e) => e.startsWith('10.0.0.33 ')));
    }
    assert.equal(await resolves(h1, 'c1', 'c3'), '', 'c3 resolves no more');
    // its address is free: another host takes it
    await runSleeper(h2, 'c3b', ['--network', 'ov', '--ip', '10.0.0.33']);
    assert.ok(await pingFrom(h1, 'c1', '10.0.0.33'));
    assert.ok(await pingFrom(h1, 'c1', 'c3b'));
    await ok(h2, ['rm', '-f', 'c3b']);
  });

  await t.test('network rm: refused while any host has endpoints, then removes it everywhere', async () => {
    const id = await idOf(h1, 'ov');
    // after all the traffic above (pings, published ports, moves): still nothing learned, anywhere
    for (const h of all) {
      const entries = await fdb(h, `vx-${id}`);
      assert.ok(!entries.some((e) => !/permanent|static/.test(e)), `nothing learned on ${h.name}: ${entries.join('\n')}`);
    }
    await fails(h3, ['network', 'rm', 'ov'], /network ov id [0-9a-f]{64} has active endpoints \(2 on 2 hosts\)/);
    await ok(h1, ['rm', '-f', 'c1']);
    await ok(h2, ['rm', '-f', 'c2']);
    // a stopped container holds no endpoint in the cluster: the rm goes through, and host 2
    // keeps the network until the container that names it goes
    await ok(h2, ['create', '--name', 'idle', '--network', 'ov', '--', 'sleep', '3600']);
    await ok(h3, ['network', 'rm', 'ov', 'inner']);
    for (const h of [h1, h3]) await eventually(`ov gone on ${h.name}`, async () => (await h.berth(['network', 'inspect', 'ov'])).code !== 0);
    assert.equal((await h2.berth(['network', 'inspect', 'ov'])).code, 0, 'kept on host 2 while idle is connected to it');
    await fails(h2, ['start', 'idle'], /network ov does not exist in the cluster any more/);
    await ok(h2, ['rm', 'idle']);
    for (const h of all) {
      await eventually(`ov gone on ${h.name}`, async () => (await h.berth(['network', 'inspect', 'ov'])).code !== 0);
      assert.equal((await h.inHost(['ip', 'link', 'show', `vx-${id}`])).code, 1, `vx-${id} gone on ${h.name}`);
      assert.equal((await h.inHost(['ip', 'link', 'show', `ov-${id}`])).code, 1, `ov-${id} gone on ${h.name}`);
    }
    assert.deepEqual((await storeKeys(h1, '/berth/v1/')).filter((k) => !k.startsWith('/berth/v1/hosts/')), [], 'nothing of the networks left in etcd');
  });

  await t.test('bad input: one clear line, nothing made', async () => {
    await ok(h1, ['network', 'create', '-d', 'overlay', '--subnet', '10.60.0.0/24', 'taken']);
    await fails(h2, ['network', 'create', '-d', 'overlay', '--subnet', '10.60.0.128/25', 'other'], /subnet 10\.60\.0\.128\/25 overlaps with overlay network taken \(10\.60\.0\.0\/24\)/);
    await fails(h2, ['network', 'create', '-d', 'overlay', 'taken'], /network with name taken already exists/);
    await fails(h2, ['network', 'create', '-d', 'overlay', '-o', 'com.docker.network.driver.overlay.vxlanid_list=0', 'v0'], /invalid VNI 0 .*1 to 16777215/);
    await fails(h2, ['network', 'create', '-d', 'overlay', '-o', 'com.docker.network.driver.overlay.vxlanid_list=16777216', 'vbig'], /invalid VNI 16777216/);
    await fails(h2, ['network', 'create', '-d', 'overlay', '-o', 'com.docker.network.driver.overlay.vxlanid_list=4096,4097', 'vlist'], /invalid VNI "4096,4097"/);
    await fails(h2, ['network', 'create', '-d', 'overlay', '-o', 'com.docker.network.driver.overlay.vxlanid_list=4096', 'vdup'], /VNI 4096 is already taken in the cluster/);
    await fails(h2, ['network', 'create', '-d', 'overlay', '--opt', 'encrypted', 'secret'], /encrypted overlay networks need IPsec ESP with AES-GCM in the kernel, and this kernel has neither .*CONFIG_INET_ESP/);
    await fails(h2, ['network', 'create', '-d', 'overlay', '--ipv6', 'six'], /overlay networks are IPv4 only in berth/);
    await fails(h2, ['network', 'create', '-d', 'overlay', '--subnet', '10.61.0.0/24', '--gateway', '10.62.0.1', 'gw'], /no matching subnet for gateway 10\.62\.0\.1/);
    await fails(h2, ['network', 'create', '-d', 'overlay', '-o', 'com.docker.network.bridge.name=x', 'opt'], /unsupported overlay option com\.docker\.network\.bridge\.name/);
    await fails(h2, ['network', 'create', '-d', 'overlay', ' '], /invalid name/);
    // three hosts create three networks at the same moment: each gets its own default subnet and VNI
    await Promise.all(all.map((h, i) => ok(h, ['network', 'create', '-d', 'overlay', `par${i}`])));
    const shapes = await Promise.all([0, 1, 2].map((i) => ok(h1, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}} {{index .Options "com.docker.network.driver.overlay.vxlanid_list"}}', `par${i}`]).catch(() => '')));
    assert.equal(new Set(shapes.map((x) => x.split(' ')[0])).size, 3, `distinct subnets: ${shapes.join(', ')}`);
    assert.equal(new Set(shapes.map((x) => x.split(' ')[1])).size, 3, `distinct VNIs: ${shapes.join(', ')}`);
    await ok(h1, ['network', 'rm', 'par0', 'par1', 'par2']);
    // two hosts create one name at the same moment: exactly one wins
    const raced = await Promise.all([h2, h3].map((h) => h.berth(['network', 'create', '-d', 'overlay', 'race'])));
    assert.deepEqual(raced.map((r) => r.code).sort(), [0, 1], raced.map((r) => r.stderr).join(' | '));
    assert.match(raced.find((r) => r.code !== 0)!.stderr, /network (with )?name "?race"? (already exists|is already taken in the cluster)/);
    for (const h of all) await eventually(`race on ${h.name}`, async () => (await h.berth(['network', 'ls', '-q', '--filter', 'name=race'])).stdout.trim().split('\n').filter(Boolean).length === 1);
    await ok(h1, ['network', 'rm', 'taken', 'race']);
    for (const h of all) await eventually(`taken, race gone on ${h.name}`, async () => !/taken|race/.test(await ok(h, ['network', 'ls'])));
    assert.deepEqual((await storeKeys(h1, '/berth/v1/')).filter((k) => !k.startsWith('/berth/v1/hosts/')), []);
  });
});

test('without --cluster-store, -d overlay is one clear error naming it', async (t) => {
  const lab = await labFor(t);
  await fails(lab, ['network', 'create', '-d', 'overlay', 'ov'], /overlay networks need a cluster store: start berthd with --cluster-store etcd:\/\/HOST:2379/);
  assert.doesNotMatch(await ok(lab, ['network', 'ls']), /ov/);
});
