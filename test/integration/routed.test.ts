import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROUTED_LINK } from '../../src/drivers/bridge/config.js';
import { Lab } from '../lab/lab.js';
import { checkConsistency } from '../lab/consistency.js';
import { eventually, fails, hostLinks, hostOk, inspect, ok, pingFrom, resolves, runSleeper } from './helpers.js';

// Issue 17's routed mode through the real CLI and daemon: a bridge-driver network without a
// bridge (-o berth.network.mode=routed). Each container's veth ends on the host, which
// routes to it; names, published ports, isolation, --internal, icc=false, connect and
// disconnect, a kill -9 of berthd and removal behave as on a bridge network. The full
// reachability matrix on a routed network is in ports.test.ts (kernel level).

const ROUTED = ['-o', 'berth.network.mode=routed'];
const SERVER = "const s=require('net').createServer(c=>c.end('hello from '+process.env.WHO));s.listen(80,'::');";
/** the lab host's address on the lan bridge (test/lab/topology.ts: wireLanBridge) */
const LAB_LAN_ADDR = '198.18.0.1';

let lab: Lab;
const ip = (c: string, net: string) => inspect(lab, c, `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`);
const ip6 = (c: string, net: string) => inspect(lab, c, `{{(index .NetworkSettings.Networks "${net}").GlobalIPv6Address}}`);

/** What a TCP client in netns `from` gets from [host]:port within 2 s ('' when nothing answers). */
async function fetchTcp(from: string, host: string, port: number): Promise<string> {
  const r = await lab.inNetns(from, ['node', '-e', `const s=require('net').connect(${port},'${host}');let d='';s.on('data',x=>d+=x).on('end',()=>{console.log(d);process.exit(0)}).on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),2000)`]);
  return r.code === 0 ? r.stdout.trim() : '';
}

async function netns(c: string): Promise<string> {
  return inspect(lab, c, '{{.NetworkSettings.SandboxKey}}');
}

/** The host ends of routed networks (on no bridge). */
async function routedEnds(): Promise<string[]> {
  return (await hostLinks(lab)).filter((l) => l.linkinfo?.info_kind === 'veth' && !l.master && ROUTED_LINK.test(l.ifname)).map((l) => l.ifname).sort();
}

describe('routed networks', { concurrency: false }, () => {
  before(async () => {
    lab = await Lab.create();
  });
  after(async () => lab?.destroy());

  test('no bridge, a host end per container with a host route; containers reach each other, the gateway, the host and the internet, by name too, both families', async () => {
    const bridgesBefore = (await hostLinks(lab)).filter((l) => l.linkinfo?.info_kind === 'bridge').map((l) => l.ifname);
    await ok(lab, ['network', 'create', ...ROUTED, '--subnet', '172.30.0.0/16', '--ipv6', '--subnet', 'fd00:30::/64', 'flat']);
    await runSleeper(lab, 'ra', ['--network', 'flat']);
    await runSleeper(lab, 'rb', ['--network', 'flat']);
    assert.deepEqual((await hostLinks(lab)).filter((l) => l.linkinfo?.info_kind === 'bridge').map((l) => l.ifname), bridgesBefore, 'no bridge for a routed network');
    const ends = await routedEnds();
    assert.equal(ends.length, 2);
    const [ipA, ipB, ip6B] = [await ip('ra', 'flat'), await ip('rb', 'flat'), await ip6('rb', 'flat')];
    assert.match(ipA, /^172\.30\.0\.\d+$/);
    assert.equal(await inspect(lab, 'ra', '{{.NetworkSettings.Networks.flat.Gateway}}'), '172.30.0.1');
    // the host routes to each container by its host end, from the gateway address
    const route = await hostOk(lab, ['ip', 'route', 'show', `${ipA}/32`]);
    assert.match(route, new RegExp(`^${ipA.replace(/\./g, '\\.')} dev rt[0-9a-f]{13} scope link src 172\\.30\\.0\\.1`));
    assert.match(await hostOk(lab, ['ip', '-6', 'route', 'show', `${ip6B}/128`]), /dev rt[0-9a-f]{13}/);
    // the sandbox reaches its subnet through the gateway, the prefix of its address kept
    assert.match(await ok(lab, ['exec', 'ra', 'ip', '-4', 'route']), /172\.30\.0\.0\/16 via 172\.30\.0\.1 dev eth0/);
    assert.match(await ok(lab, ['exec', 'ra', 'ip', '-4', 'addr', 'show', 'eth0']), new RegExp(`inet ${ipA.replace(/\./g, '\\.')}/16 `));
    assert.ok(await pingFrom(lab, 'ra', ipB), 'a → b');
    assert.ok(await pingFrom(lab, 'ra', ip6B), 'a → b over IPv6');
    assert.ok(await pingFrom(lab, 'ra', '172.30.0.1'), 'a → its gateway');
    assert.ok(await pingFrom(lab, 'ra', 'fd00:30::1'), 'a → its IPv6 gateway');
    assert.equal(await resolves(lab, 'ra', 'rb'), ip6B, 'names as on a dual-stack bridge network (getent hosts prefers AAAA)');
    assert.match(await ok(lab, ['exec', 'ra', 'getent', 'ahostsv4', 'rb']), new RegExp(`^${ipB.replace(/\./g, '\\.')} `));
    assert.ok(await pingFrom(lab, 'ra', 'rb'));
    assert.ok((await lab.inHost(['ping', '-c1', '-W2', ipA])).code === 0, 'the host reaches a');
    assert.equal(await lab.echoFrom(await netns('ra'), 'tcp'), lab.hostUplinkAddr, 'egress leaves masqueraded with the host address');
    assert.equal(await lab.echoFrom(await netns('ra'), 'udp'), lab.hostUplinkAddr);
  });

  test('published ports from the LAN, the host (127.0.0.1 too), the same network (hairpin) and another; no direct way in from the LAN or another network', async () => {
    const lan = await lab.addLanHost('lan1');
    await ok(lab, ['network', 'create', 'other']);
    await runSleeper(lab, 'rc', ['--network', 'other']);
    await ok(lab, ['run', '-d', '--name', 'web', '--network', 'flat', '-e', 'WHO=web', '-p', '8080:80', '--', 'node', '-e', SERVER]);
    let reply = '';
    for (let i = 0; i < 20 && !reply; i++) reply = await fetchTcp(lab.hostNs, '127.0.0.1', 8080);
    assert.equal(reply, 'hello from web', 'the host over 127.0.0.1');
    const webIp = await ip('web', 'flat');
    const [a, c] = [await netns('ra'), await netns('rc')];
    const cells = await Promise.all([
      fetchTcp(lan.ns, LAB_LAN_ADDR, 8080), fetchTcp(lab.hostNs, lab.hostUplinkAddr, 8080), fetchTcp(lab.hostNs, '::1', 8080),
      fetchTcp(a, LAB_LAN_ADDR, 8080), fetchTcp(a, '172.30.0.1', 8080), fetchTcp(a, webIp, 80),
      fetchTcp(c, LAB_LAN_ADDR, 8080),
      fetchTcp(c, webIp, 80), fetchTcp(lan.ns, webIp, 80),
    ]);
    assert.deepEqual(cells, [
      'hello from web', 'hello from web', 'hello from web',
      'hello from web', 'hello from web', 'hello from web',
      'hello from web',
      '', '',
    ], 'LAN, host uplink, [::1]; hairpin by host and gateway address, direct on the same network; another network by the port; not directly from another network nor the LAN');
    assert.equal(await pingFrom(lab, 'rc', await ip('ra', 'flat')), false, 'isolation: another network does not reach a');
    assert.equal(await pingFrom(lab, 'ra', await ip('rc', 'other')), false, 'nor a another network');
    // the container reaches itself through its own published port (routed back out its host end)
    assert.equal(await fetchTcp(await netns('web'), LAB_LAN_ADDR, 8080), 'hello from web');
    await ok(lab, ['rm', '-f', 'web', 'rc']);
    await ok(lab, ['network', 'rm', 'other']);
  });

  test('--internal and icc=false routed networks: no way out, and containers cut off from each other', async () => {
    await ok(lab, ['network', 'create', ...ROUTED, '--internal', 'inner']);
    await runSleeper(lab, 'i1', ['--network', 'inner']);
    await runSleeper(lab, 'i2', ['--network', 'inner']);
    assert.ok(await pingFrom(lab, 'i1', 'i2'), 'an internal network still connects its own containers');
    await assert.rejects(lab.echoFrom(await netns('i1'), 'tcp'), 'no way out of an internal network');
    assert.equal((await lab.inHost(['ping', '-c1', '-W1', await ip('i1', 'inner')])).code, 0, 'the host reaches an internal container, as on a bridge');
    await ok(lab, ['network', 'create', ...ROUTED, '-o', 'com.docker.network.bridge.enable_icc=false', 'noicc']);
    await runSleeper(lab, 'n1', ['--network', 'noicc']);
    await runSleeper(lab, 'n2', ['--network', 'noicc']);
    assert.equal(await pingFrom(lab, 'n1', await ip('n2', 'noicc')), false, 'icc=false: cut off');
    assert.equal(await lab.echoFrom(await netns('n1'), 'tcp'), lab.hostUplinkAddr, 'but out to the internet');
    await ok(lab, ['rm', '-f', 'i1', 'i2', 'n1', 'n2']);
    await ok(lab, ['network', 'rm', 'inner', 'noicc']);
  });

  test('connect and disconnect live; bad options refused with nothing made', async () => {
    await ok(lab, ['network', 'create', 'plain']);
    await runSleeper(lab, 'rp', ['--network', 'plain']);
    const ends = (await routedEnds()).length;
    await ok(lab, ['network', 'connect', 'flat', 'rp']);
    assert.equal((await routedEnds()).length, ends + 1);
    assert.ok(await pingFrom(lab, 'rp', await ip('ra', 'flat')), 'a live connect reaches the routed network');
    await ok(lab, ['network', 'disconnect', 'flat', 'rp']);
    assert.equal((await routedEnds()).length, ends, 'its host end went');
    assert.equal(await pingFrom(lab, 'rp', await ip('ra', 'flat')), false);
    await ok(lab, ['rm', '-f', 'rp']);
    await ok(lab, ['network', 'rm', 'plain']);
    const nets = await ok(lab, ['network', 'ls', '-q']);
    await fails(lab, ['network', 'create', '-o', 'berth.network.mode=flat', 'bad1'], /invalid value for berth\.network\.mode: "flat" \(expected bridge or routed\)/);
    await fails(lab, ['network', 'create', ...ROUTED, '-o', 'com.docker.network.bridge.name=br9', 'bad2'], /a routed network has no bridge/);
    assert.equal(await ok(lab, ['network', 'ls', '-q']), nets, 'no network made');
  });

  test('berthd killed with -9 and started again: the routed network still routes, its host ends are in the firewall; explain walks it', async () => {
    await ok(lab, ['run', '-d', '--name', 'web2', '--network', 'flat', '-e', 'WHO=web2', '-p', '8081:80', '--', 'node', '-e', SERVER]);
    await eventually('web2 serves', async () => (await fetchTcp(lab.hostNs, lab.hostUplinkAddr, 8081)) === 'hello from web2');
    await lab.killDaemon();
    await lab.startDaemon();
    assert.ok(await pingFrom(lab, 'ra', 'rb'), 'names and routes after the restart');
    assert.equal(await fetchTcp(await netns('ra'), LAB_LAN_ADDR, 8081), 'hello from web2');
    const set = await hostOk(lab, ['nft', 'list', 'set', 'ip', 'berth', 'bridges']);
    for (const end of await routedEnds()) assert.ok(set.includes(`"${end}"`), `${end} is in ip berth bridges after the restart`);
    const explained = JSON.parse(await ok(lab, ['explain', '--json', 'ra', 'web2:80'])) as { verdict: string; hops: { where: string }[] };
    assert.equal(explained.verdict, 'reachable');
    assert.ok(explained.hops.some((h) => /eth0 → rt[0-9a-f]{13} \(routed network flat\)/.test(h.where)), JSON.stringify(explained.hops.map((h) => h.where)));
    await runSleeper(lab, 'late', ['--network', 'flat']);
    assert.ok(await pingFrom(lab, 'late', 'web2'), 'a container started after the restart');
    await ok(lab, ['rm', '-f', 'web2', 'late']);
  });

  test('removal leaves nothing: no host end, route, firewall element or address', async () => {
    await ok(lab, ['rm', '-f', 'ra', 'rb']);
    assert.deepEqual(await checkConsistency(lab), { processes: [], netnsMounts: [], links: [], addresses: [], nftElements: [], files: [], store: [] });
    await ok(lab, ['network', 'rm', 'flat']);
    await eventually('no host end left', async () => (await routedEnds()).length === 0);
    assert.doesNotMatch(await hostOk(lab, ['ip', 'route']), /172\.30\./);
    assert.doesNotMatch(await hostOk(lab, ['ip', 'addr']), /172\.30\.0\.1/);
    assert.doesNotMatch(await hostOk(lab, ['nft', 'list', 'table', 'ip', 'berth']), /rt[0-9a-f]{6}|172\.30\./);
  });
});
