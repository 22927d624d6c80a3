import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { gidOf } from '../../src/daemon/socket-group.js';
import { fileURLToPath } from 'node:url';
import { DAEMON_PATH, labFor, type ApiResponse } from '../lab/lab.js';
import { apiRequest } from '../lab/api-client.js';
import { join } from 'node:path';
import { hostLinks, hostOk, inspect, nftTables, ok, pingFrom, runSleeper } from './helpers.js';

// Seed scenarios 8-9 and the daemon's life: egress NAT, berthd flags, restarts.

const ECHO_CLIENT = fileURLToPath(new URL('../lab/echo-client.js', import.meta.url));

async function echoFromContainer(lab: Awaited<ReturnType<typeof labFor>>, name: string): Promise<string> {
  const r = await lab.berth(['exec', name, 'node', ECHO_CLIENT, 'tcp', lab.internetAddr, String(lab.echoPort), '3000']);
  return r.code === 0 ? r.stdout.trim() : `failed: ${r.stderr.trim()}`;
}

describe('berthd', { concurrency: false }, () => {
  test('egress leaves with the host uplink address (masquerade) and ip_forward is on', async (t) => {
    const lab = await labFor(t);
    await runSleeper(lab, 'out');
    assert.equal(await echoFromContainer(lab, 'out'), `from ${lab.hostUplinkAddr}`);
    assert.equal(await hostOk(lab, ['cat', '/proc/sys/net/ipv4/ip_forward']), '1');
    const ruleset = await ok(lab, ['system', 'firewall']);
    assert.match(ruleset, /table ip berth/);
    assert.match(ruleset, /masquerade/);
    assert.match(ruleset, /172\.17\.0\.0\/16/);
    await ok(lab, ['network', 'create', 'my_net1']);
    await runSleeper(lab, 'out2', ['--network', 'my_net1']);
    assert.equal(await echoFromContainer(lab, 'out2'), `from ${lab.hostUplinkAddr}`);
  });

  test('--bip, --fixed-cidr and --mtu shape the default bridge', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--bip', '192.0.2.1/24', '--fixed-cidr', '192.0.2.128/25', '--mtu', '1400'] });
    assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}}', 'bridge']), '192.0.2.0/24 192.0.2.1 192.0.2.128/25');
    await runSleeper(lab, 'b1');
    assert.equal(await inspect(lab, 'b1', '{{.NetworkSettings.IPAddress}}'), '192.0.2.128');
    assert.match(await ok(lab, ['exec', 'b1', 'ip', '-o', 'link', 'show', 'eth0']), /mtu 1400/);
  });

  test('-b uses an existing bridge and its address; berth never deletes it', async (t) => {
    const lab = await labFor(t, { startDaemon: false });
    await hostOk(lab, ['ip', 'link', 'add', 'mybr', 'type', 'bridge']);
    await hostOk(lab, ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'mybr']);
    await hostOk(lab, ['ip', 'link', 'set', 'mybr', 'up']);
    await lab.startDaemon(['-b', 'mybr']);
    assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'bridge']), '192.0.2.0/24 192.0.2.1');
    await runSleeper(lab, 'onmybr');
    const links = await hostLinks(lab);
    assert.ok(links.some((l) => l.master === 'mybr'));
    assert.ok(!links.some((l) => l.ifname === 'berth0'));
    await ok(lab, ['rm', '-f', 'onmybr']);
    await lab.stopDaemon();
    assert.ok((await hostLinks(lab)).some((l) => l.ifname === 'mybr'));
  });

  test('--iptables=false programs no firewall; --ip-forward=false leaves the sysctl alone', async (t) => {
    const lab = await labFor(t, { startDaemon: false });
    await hostOk(lab, ['sysctl', '-w', 'net.ipv4.ip_forward=0']);
    await lab.startDaemon(['--iptables=false', '--ip-forward=false']);
    await runSleeper(lab, 'plain');
    assert.equal(await nftTables(lab), '');
    assert.equal(await hostOk(lab, ['cat', '/proc/sys/net/ipv4/ip_forward']), '0');
    assert.ok(await pingFrom(lab, 'plain', '172.17.0.1'));
  });

  test('the API socket is root\'s and the -G group\'s, mode 0660; an unknown group leaves it root\'s, said in the log', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['-G', 'adm'] });
    const st = statSync(lab.socket);
    assert.equal((st.mode & 0o777).toString(8), '660');
    assert.deepEqual([st.uid, st.gid], [0, gidOf('adm')]);
    await lab.stopDaemon();
    const other = await labFor(t, { daemonArgs: ['-G', 'no-such-group-here'] });
    assert.deepEqual([statSync(other.socket).uid, statSync(other.socket).gid], [0, 0]);
    assert.match(other.daemonLog(), /group no-such-group-here not found: the API socket .* stays root's only/);
  });

  test('the configuration file (dockerd\'s daemon.json keys) shapes the daemon as its flags would', async (t) => {
    const lab = await labFor(t, { startDaemon: false });
    writeFileSync(lab.configFile, JSON.stringify({ bip: '172.29.0.1/16', mtu: 1400, dns: ['192.0.2.53'] }));
    await lab.startDaemon();
    assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'bridge']), '172.29.0.0/16 172.29.0.1');
    assert.equal(JSON.parse(await hostOk(lab, ['ip', '-j', 'link', 'show', 'berth0']))[0].mtu, 1400);
    await lab.stopDaemon();
    // given both ways: refused, and berthd does not start
    await assert.rejects(lab.startDaemon(['--mtu', '1500']), /the following directives are specified both as a flag and in the configuration file: mtu/);
  });

  test('socket activation: started by systemd-socket-activate with -H fd://, berthd serves the socket it was handed', async (t) => {
    const lab = await labFor(t, { startDaemon: false });
    const sock = join(lab.dir, 'activated.sock');
    lab.spawnIn(lab.hostNs, ['systemd-socket-activate', '-l', sock, 'node', DAEMON_PATH, '-H', 'fd://',
      '--data-root', lab.dataRoot, '--exec-root', lab.execRoot, '--config-file', lab.configFile]);
    // the first connection is what starts berthd (systemd's socket is there before it)
    let ping: ApiResponse | undefined;
    for (let i = 0; i < 400 && ping?.status !== 200; i++) {
      ping = await apiRequest(sock, 'GET', '/_ping', undefined, 1000).catch(() => undefined);
      if (ping?.status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(ping?.status, 200);
    const nets = await apiRequest(sock, 'GET', '/v1.41/networks');
    assert.deepEqual((nets.body as { Name: string }[]).map((n) => n.Name).sort(), ['bridge', 'host', 'none']);
    // without systemd's socket, -H fd:// is one clear line and no daemon
    const alone = await lab.inHost(['node', DAEMON_PATH, '-H', 'fd://', '--data-root', join(lab.dir, 'd2'), '--exec-root', join(lab.dir, 'e2'), '--config-file', lab.configFile]);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /^berthd: -H fd:\/\/ but no socket was passed by systemd/);
    assert.equal(alone.stderr.trim().split('\n').length, 1);
  });

  test('a restart keeps networks, running containers and addresses, and reconciles the kernel', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', 'keep']);
    await runSleeper(lab, 'k1', ['--network', 'keep']);
    await runSleeper(lab, 'k2', ['--network', 'keep']);
    await runSleeper(lab, 'd1');
    const pid = await inspect(lab, 'k1', '{{.State.Pid}}');
    const tablesBefore = await ok(lab, ['system', 'firewall']);
    await lab.killDaemon();
    // while berthd is down: someone deletes berth's table and a container's veth
    await hostOk(lab, ['nft', 'delete', 'table', 'ip', 'berth']);
    await lab.startDaemon();
    assert.equal(await inspect(lab, 'k1', '{{.State.Status}} {{.State.Pid}}'), `running ${pid}`);
    assert.equal(await inspect(lab, 'k2', '{{.NetworkSettings.Networks.keep.IPAddress}}'), '172.18.0.3');
    assert.ok(await pingFrom(lab, 'k1', '172.18.0.3'));
    assert.equal(await ok(lab, ['system', 'firewall']), tablesBefore, 'the table is back, with no duplicates');
    // new containers do not get addresses that are still in use
    await runSleeper(lab, 'k3', ['--network', 'keep']);
    assert.equal(await inspect(lab, 'k3', '{{.NetworkSettings.Networks.keep.IPAddress}}'), '172.18.0.4');
    // a container that died while berthd was down is found exited, its sandbox gone
    const d1 = await inspect(lab, 'd1', '{{.State.Pid}}');
    await lab.killDaemon();
    await hostOk(lab, ['kill', '-9', d1]);
    await lab.startDaemon();
    assert.match(await inspect(lab, 'd1', '{{.State.Status}}'), /exited/);
    assert.equal(await inspect(lab, 'd1', '{{.NetworkSettings.SandboxKey}}'), '');
    assert.equal(await ok(lab, ['network', 'ls', '-q', '--filter', 'name=keep']).then((s) => s.length), 12);
  });

  test('at start, what berth owns but no longer knows is removed', async (t) => {
    const lab = await labFor(t);
    await lab.stopDaemon();
    // a bridge named like a berth network that the store does not know, and a stray veth on berth0
    await hostOk(lab, ['ip', 'link', 'add', 'br-0123456789ab', 'type', 'bridge']);
    await hostOk(lab, ['ip', 'link', 'add', 'veth1234567', 'master', 'berth0', 'type', 'veth', 'peer', 'name', 'strayp']);
    await hostOk(lab, ['ip', 'link', 'add', 'mine0', 'type', 'bridge']);
    lab.foreignLinks.add('mine0');
    await lab.startDaemon();
    const names = (await hostLinks(lab)).map((l) => l.ifname);
    assert.ok(!names.includes('br-0123456789ab'), 'stale berth bridge removed');
    assert.ok(!names.includes('veth1234567'), 'stale veth removed');
    assert.ok(names.includes('mine0'), 'bridges berth does not own are left alone');
  });
});
