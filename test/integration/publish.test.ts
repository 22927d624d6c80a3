import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor, type Lab } from '../lab/lab.js';
import { fails, hostOk, inspect, ok, runSleeper } from './helpers.js';

// Seed scenarios 21-23 through the CLI: -p in its forms, berth port, -P, conflicts,
// release, a restart, the LAN's view, internal networks.

/** the lab host's address on the lan bridge (test/lab: addLanHost) */
const LAB_LAN_ADDR = '198.18.0.1';
const SERVER = "const s=require('net').createServer(c=>c.end('hello from '+process.env.WHO));s.listen(80);require('dgram').createSocket('udp4').on('message',function(m,r){this.send('udp '+process.env.WHO,r.port,r.address)}).bind(81)";

async function fetchTcp(lab: Lab, ns: string, host: string, port: number): Promise<string> {
  const r = await lab.inNetns(ns, ['node', '-e', `const s=require('net').connect(${port},'${host}');let d='';s.on('data',x=>d+=x).on('end',()=>{console.log(d);process.exit(0)}).on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),2000)`]);
  return r.code === 0 ? r.stdout.trim() : '';
}

/** The hairpin flag of each container's bridge port (its eth0's veth peer on the host). */
async function hairpinOf(lab: Lab, names: string[]): Promise<boolean[]> {
  const ports = JSON.parse(await hostOk(lab, ['bridge', '-d', '-j', 'link', 'show'])) as { ifindex: number; hairpin?: boolean }[];
  const out: boolean[] = [];
  for (const name of names) {
    const ns = await inspect(lab, name, '{{.NetworkSettings.SandboxKey}}');
    const [eth0] = JSON.parse(await hostOk(lab, ['nsenter', `--net=${ns}`, 'ip', '-j', 'link', 'show', 'eth0'])) as { link_index: number }[];
    out.push(ports.find((p) => p.ifindex === eth0.link_index)?.hairpin === true);
  }
  return out;
}

/** The same servers on both families: TCP 80 (node's '::' takes IPv4 too) and UDP 81 on udp6 '::'. */
const SERVER_BOTH = SERVER.replace("createSocket('udp4')", "createSocket('udp6')");
const LAB_LAN_ADDR6 = '2001:db8:18::1';

describe('published ports', { concurrency: false }, () => {
  test('-p forms, berth port, reachability from the host and the LAN, release on rm', async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLanHost('lan1');
    await ok(lab, ['run', '-d', '--name', 'web', '-e', 'WHO=web', '-p', '8080:80', '-p', '127.0.0.1:8081:80', '-p', '8082:81/udp', '--expose', '443', '--', 'node', '-e', SERVER]);
    assert.equal(await ok(lab, ['port', 'web']), '80/tcp -> 0.0.0.0:8080\n80/tcp -> 127.0.0.1:8081\n81/udp -> 0.0.0.0:8082');
    assert.equal(await ok(lab, ['port', 'web', '80']), '0.0.0.0:8080\n127.0.0.1:8081');
    assert.equal(await inspect(lab, 'web', '{{json .NetworkSettings.Ports}}'), '{"443/tcp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"127.0.0.1","HostPort":"8081"}],"81/udp":[{"HostIp":"0.0.0.0","HostPort":"8082"}]}');
    assert.match(await ok(lab, ['ps']), /0\.0\.0\.0:8080->80\/tcp/);
    let reply = '';
    for (let i = 0; i < 20 && !reply; i++) reply = await fetchTcp(lab, lab.hostNs, '127.0.0.1', 8080);
    assert.equal(reply, 'hello from web');
    assert.equal(await fetchTcp(lab, lab.hostNs, '127.0.0.1', 8081), 'hello from web');
    assert.equal(await fetchTcp(lab, lan.ns, LAB_LAN_ADDR, 8080), 'hello from web', 'LAN reaches 0.0.0.0:8080');
    assert.equal(await fetchTcp(lab, lan.ns, LAB_LAN_ADDR, 8081), '', 'LAN does not reach a 127.0.0.1 binding');
    // the container reaches itself through its own published port; its bridge port is in
    // hairpin mode (needed under br_netfilter), a container that publishes nothing is not
    const webNs = await inspect(lab, 'web', '{{.NetworkSettings.SandboxKey}}');
    assert.equal(await fetchTcp(lab, webNs, LAB_LAN_ADDR, 8080), 'hello from web');
    await runSleeper(lab, 'quiet', []);
    assert.deepEqual(await hairpinOf(lab, ['web', 'quiet']), [true, false]);
    await fails(lab, ['run', '-d', '-p', '8080:80', '--', 'sleep', '1'], /port is already allocated/);
    await ok(lab, ['rm', '-f', 'web']);
    assert.doesNotMatch(await ok(lab, ['system', 'firewall']), /8080/);
    await runSleeper(lab, 'again', ['-p', '8080:80']);
  });

  test('-P maps exposed ports to the ephemeral range; ports survive a daemon restart', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['run', '-d', '--name', 'pp', '-e', 'WHO=pp', '--expose', '80', '-P', '--', 'node', '-e', SERVER]);
    const [lo, hi] = (await hostOk(lab, ['cat', '/proc/sys/net/ipv4/ip_local_port_range'])).split(/\s+/).map(Number);
    const hostPort = Number((await ok(lab, ['port', 'pp', '80/tcp'])).split(':')[1]);
    assert.ok(hostPort >= lo && hostPort <= hi, `${hostPort} in ${lo}-${hi}`);
    const before = await ok(lab, ['system', 'firewall']);
    await lab.restartDaemon();
    assert.equal(await ok(lab, ['system', 'firewall']), before);
    let reply = '';
    for (let i = 0; i < 20 && !reply; i++) reply = await fetchTcp(lab, lab.hostNs, '127.0.0.1', hostPort);
    assert.equal(reply, 'hello from pp');
  });

  test('a container that died while berthd was down loses its published port at start-up; the port is free again', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['run', '-d', '--name', 'gone', '-e', 'WHO=gone', '-p', '8090:80', '--', 'node', '-e', SERVER]);
    const pid = await inspect(lab, 'gone', '{{.State.Pid}}');
    await lab.killDaemon();
    await hostOk(lab, ['kill', '-9', pid]);
    await lab.startDaemon();
    assert.equal(await inspect(lab, 'gone', '{{.State.Status}}'), 'exited');
    assert.doesNotMatch(await ok(lab, ['system', 'firewall']), /8090/, 'no map element left for its host port');
    await ok(lab, ['run', '-d', '--name', 'next', '-e', 'WHO=next', '-p', '8090:80', '--', 'node', '-e', SERVER]);
    let reply = '';
    for (let i = 0; i < 20 && !reply; i++) reply = await fetchTcp(lab, lab.hostNs, '127.0.0.1', 8090);
    assert.equal(reply, 'hello from next');
  });

  test('internal networks cannot publish; container mode cannot publish', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--internal', 'secret']);
    await fails(lab, ['run', '-d', '--network', 'secret', '-p', '9000:80', '--', 'sleep', '1'], /internal network/);
    await runSleeper(lab, 'base');
    await fails(lab, ['run', '-d', '--network', 'container:base', '-p', '9001:80', '--', 'sleep', '1'], /conflicting options/);
    await fails(lab, ['run', '-d', '-p', 'nonsense', '--', 'sleep', '1'], /invalid/i);
  });

  test('IPv6: -p publishes on 0.0.0.0 and [::], [::1] is the host\'s only, a container without IPv6 is not published on IPv6, and a restart keeps it all', async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLanHost('lan6');
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:90::/64', '--subnet', '10.90.0.0/24', 'dual']);
    await ok(lab, ['run', '-d', '--name', 'web6', '--network', 'dual', '-e', 'WHO=web6', '-p', '8080:80', '-p', '[::1]:8081:80', '-p', '8082:81/udp', '--', 'node', '-e', SERVER_BOTH]);
    assert.equal(await ok(lab, ['port', 'web6']), '80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n80/tcp -> [::1]:8081\n81/udp -> 0.0.0.0:8082\n81/udp -> [::]:8082');
    assert.equal(await ok(lab, ['port', 'web6', '80']), '0.0.0.0:8080\n[::]:8080\n[::1]:8081');
    assert.equal(await inspect(lab, 'web6', '{{json .NetworkSettings.Ports}}'),
      '{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"},{"HostIp":"::1","HostPort":"8081"}],"81/udp":[{"HostIp":"0.0.0.0","HostPort":"8082"},{"HostIp":"::","HostPort":"8082"}]}');
    assert.match(await ok(lab, ['ps']), /0\.0\.0\.0:8080->80\/tcp, \[::\]:8080->80\/tcp/);
    let reply = '';
    for (let i = 0; i < 20 && !reply; i++) reply = await fetchTcp(lab, lab.hostNs, lab.hostUplinkAddr6, 8080);
    assert.equal(reply, 'hello from web6', 'the host\'s own IPv6 address');
    assert.equal(await fetchTcp(lab, lab.hostNs, '::1', 8080), 'hello from web6', '[::1] to a [::] binding (relayed)');
    assert.equal(await fetchTcp(lab, lab.hostNs, '::1', 8081), 'hello from web6', 'a [::1] binding (relayed)');
    assert.equal(await fetchTcp(lab, lan.ns, LAB_LAN_ADDR6, 8080), 'hello from web6', 'the LAN over IPv6');
    assert.equal(await fetchTcp(lab, lan.ns, LAB_LAN_ADDR6, 8081), '', 'the LAN does not reach a [::1] binding');
    assert.equal(await fetchTcp(lab, lan.ns, LAB_LAN_ADDR, 8080), 'hello from web6', 'and still over IPv4');
    assert.match(await ok(lab, ['system', 'firewall']), /table ip6 berth[\s\S]*tcp \. 8080 : fd00:90::2 \. 80/);

    // an IPv4-only container: published on 0.0.0.0 only; an IPv6 client is refused at once, no hang
    await ok(lab, ['run', '-d', '--name', 'web4', '-e', 'WHO=web4', '-p', '9090:80', '--', 'node', '-e', SERVER]);
    assert.equal(await ok(lab, ['port', 'web4']), '80/tcp -> 0.0.0.0:9090');
    for (let i = 0; i < 20 && !reply.includes('web4'); i++) reply = await fetchTcp(lab, lab.hostNs, '127.0.0.1', 9090);
    const refused = await lab.inNetns(lab.hostNs, ['node', '-e', "require('net').connect(9090,'::1').on('connect',()=>process.exit(3)).on('error',(e)=>{console.log(e.code);process.exit(0)});setTimeout(()=>process.exit(2),2000)"]);
    assert.equal(refused.stdout.trim(), 'ECONNREFUSED', `[::1]:9090 is refused (code ${refused.code})`);
    assert.equal(await fetchTcp(lab, lan.ns, LAB_LAN_ADDR6, 9090), '');
    await fails(lab, ['run', '-d', '-p', '[::1]:9091:80', '--', 'sleep', '1'], /cannot publish on \[::1\]:9091: the container has no IPv6 address on "bridge"/);
    await fails(lab, ['run', '-d', '-p', '[fd00::zz]:9092:80', '--', 'sleep', '1'], /invalid IP address "fd00::zz"/);

    await lab.restartDaemon();
    reply = '';
    for (let i = 0; i < 20 && !reply; i++) reply = await fetchTcp(lab, lab.hostNs, '::1', 8081);
    assert.equal(reply, 'hello from web6', 'the relay is back after a restart');
    assert.equal(await fetchTcp(lab, lan.ns, LAB_LAN_ADDR6, 8080), 'hello from web6');
    await ok(lab, ['rm', '-f', 'web6']);
    assert.doesNotMatch(await ok(lab, ['system', 'firewall']), /8080|8082/);
    assert.equal(await fetchTcp(lab, lab.hostNs, '::1', 8081), '', 'the relay is gone with the container');
  });

  test('--ip6tables=false: no ip6 table, a dual-stack container is published on 0.0.0.0 only, and [::] bindings are refused', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:91::/64', 'dual']);
    await lab.restartDaemon(['--ip6tables=false']);
    assert.doesNotMatch(await ok(lab, ['system', 'firewall']), /table ip6/);
    assert.notEqual((await lab.inHost(['nft', 'list', 'table', 'ip6', 'berth'])).code, 0, 'no ip6 berth table in the kernel');
    await ok(lab, ['run', '-d', '--name', 'web', '--network', 'dual', '-e', 'WHO=web', '-p', '8080:80', '--', 'node', '-e', SERVER_BOTH]);
    assert.equal(await ok(lab, ['port', 'web']), '80/tcp -> 0.0.0.0:8080');
    await fails(lab, ['run', '-d', '--network', 'dual', '-p', '[::]:8081:80', '--', 'sleep', '1'], /cannot publish on \[::\]:8081: IPv6 firewalling is off \(--ip6tables=false\)/);
    await lab.restartDaemon([]);
    assert.match(await ok(lab, ['system', 'firewall']), /table ip6 berth/, 'back on: the table is made again');
  });
});
