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
});
