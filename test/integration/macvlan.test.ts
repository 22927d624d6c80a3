import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor, type Lab } from '../lab/lab.js';
import { fails, hostOk, inspect, ok, pingFrom, runSleeper } from './helpers.js';

// Seed scenario 25: containers on the LAN with their own MAC and IP. The lab host's eth1
// leads to a switched LAN (test/lab/topology.ts) with a router 198.18.1.1 and hosts
// 198.18.1.2, .3; berth owns neither the LAN nor its router.

const LAN = ['--subnet', '198.18.1.0/24', '--gateway', '198.18.1.1', '--ip-range', '198.18.1.128/25'];

async function sandboxOf(lab: Lab, name: string): Promise<string> {
  return inspect(lab, name, '{{.NetworkSettings.SandboxKey}}');
}

/** What a failed request must leave as it was: links (with kinds), addresses, routes, networks, netns. */
async function snapshot(lab: Lab): Promise<string> {
  const links = JSON.parse(await hostOk(lab, ['ip', '-d', '-j', 'link', 'show']))
    .map((l: any) => `${l.ifname}:${l.linkinfo?.info_kind ?? ''}:${l.promiscuity}`).sort();
  // IPv4 only: the IPv6 link-local addresses' flags (tentative) change on their own
  const addrs = await hostOk(lab, ['ip', '-4', '-o', 'addr', 'show']);
  const routes = await hostOk(lab, ['ip', '-4', 'route', 'show', 'table', 'all']);
  const nets = await ok(lab, ['network', 'ls', '--format', '{{.Name}} {{.Driver}}']);
  // netns files (a driver's directory for them may stay, as the daemon's own does)
  const netns = await hostOk(lab, ['find', lab.execRoot, '-not', '-type', 'd']);
  return JSON.stringify({ links, addrs, routes, nets, netns }, null, 1);
}

describe('macvlan', { concurrency: false }, () => {
  test('the LAN reaches a container by its own address and MAC, without NAT, and the container reaches the LAN through its router', async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLan();
    const peer = await lab.addHostOnLan('peer');
    await lab.serveEcho(peer.ns);
    await ok(lab, ['network', 'create', '-d', 'macvlan', ...LAN, '-o', `parent=${lan.parent}`, 'lan']);
    await runSleeper(lab, 'web', ['--network', 'lan']);
    const ip = await inspect(lab, 'web', '{{.NetworkSettings.Networks.lan.IPAddress}}');
    const mac = await inspect(lab, 'web', '{{.NetworkSettings.Networks.lan.MacAddress}}');
    assert.equal(ip, '198.18.1.128');
    assert.equal(mac, '02:42:c6:12:01:80');

    const [eth0] = JSON.parse(await ok(lab, ['exec', 'web', 'ip', '-d', '-j', 'link', 'show', 'eth0']));
    assert.deepEqual([eth0.linkinfo.info_kind, eth0.linkinfo.info_data.mode, eth0.address], ['macvlan', 'bridge', mac]);
    assert.match(await ok(lab, ['exec', 'web', 'ip', '-4', 'route', 'show', 'default']), /^default via 198\.18\.1\.1 dev eth0/);

    assert.equal((await lab.inNetns(peer.ns, ['ping', '-c1', '-W2', ip])).code, 0, 'the LAN host reaches the container');
    const [neigh] = JSON.parse((await lab.inNetns(peer.ns, ['ip', '-j', 'neigh', 'show', ip])).stdout);
    assert.equal(neigh?.lladdr, mac, "the LAN host's neighbour table holds the container's own MAC");
    assert.equal(await lab.echoFrom(await sandboxOf(lab, 'web'), 'tcp', peer.addr), ip, 'the LAN host sees the container\'s own address: no NAT');
    assert.ok(await pingFrom(lab, 'web', lan.router), 'the container reaches the LAN router');
    const nft = await hostOk(lab, ['nft', 'list', 'ruleset']);
    assert.doesNotMatch(nft, /198\.18\.1\./, 'no firewall rule or NAT for the macvlan network');
  });

  test('dual stack on the LAN: a container reaches a LAN host by its IPv6 address and is reached by it, without NAT, its IPv6 default route via the LAN router; an IPv6-only network too', async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLan();
    const peer = await lab.addHostOnLan('peer');
    await lab.serveEcho(peer.ns);
    const LAN6 = ['--subnet', lan.subnet6, '--gateway', lan.router6, '--ip-range', '2001:db8:18:1::100/120'];
    await ok(lab, ['network', 'create', '-d', 'macvlan', '--ipv6', ...LAN, ...LAN6, '-o', `parent=${lan.parent}`, 'lan']);
    await runSleeper(lab, 'web', ['--network', 'lan']);
    const ip6 = await inspect(lab, 'web', '{{.NetworkSettings.Networks.lan.GlobalIPv6Address}}');
    assert.match(ip6, /^2001:db8:18:1::1[0-9a-f]{2}$/, 'from the ip-range');
    assert.equal(await inspect(lab, 'web', '{{.NetworkSettings.Networks.lan.IPv6Gateway}}'), lan.router6);
    assert.match(await ok(lab, ['exec', 'web', 'ip', '-6', 'route', 'show', 'default']), new RegExp(`^default via ${lan.router6} dev eth0`));
    assert.equal((await lab.berth(['exec', 'web', 'ping', '-6', '-c1', '-W2', peer.addr6])).code, 0, 'the container reaches the LAN host over IPv6');
    assert.equal((await lab.inNetns(peer.ns, ['ping', '-6', '-c1', '-W2', ip6])).code, 0, 'the LAN host reaches the container over IPv6');
    assert.equal(await lab.echoFrom(await sandboxOf(lab, 'web'), 'tcp', peer.addr6), ip6, 'the LAN host sees the container\'s own IPv6 address: no NAT');
    assert.equal((await lab.berth(['exec', 'web', 'ping', '-c1', '-W2', peer.addr])).code, 0, 'and IPv4 as before');
    // IPv6 only on the same LAN: a random MAC (no IPv4 to derive one from), no IPv4 address
    await ok(lab, ['rm', '-f', 'web']);
    await ok(lab, ['network', 'rm', 'lan']);
    await ok(lab, ['network', 'create', '-d', 'macvlan', '--ipv6', '--ipv4=false', ...LAN6, '-o', `parent=${lan.parent}`, 'lan6']);
    await runSleeper(lab, 'only6', ['--network', 'lan6']);
    assert.doesNotMatch(await ok(lab, ['exec', 'only6', 'ip', '-o', 'addr', 'show', 'dev', 'eth0']), /\binet /);
    assert.equal((await lab.berth(['exec', 'only6', 'ping', '-6', '-c1', '-W2', peer.addr6])).code, 0, 'an IPv6-only container reaches the LAN host');
    await fails(lab, ['network', 'create', '-d', 'macvlan', '--ipv6', '--ipv4=false', '--subnet', '2001:db8:19::/64', '--aux-address', 'host=2001:db8:19::fe',
      '-o', `parent=${lan.parent}`, '-o', 'berth.host_access=true', 'reach6'], /berth\.host_access=true needs IPv4: the host reaches its macvlan containers over IPv4 only, and this network is IPv6-only/);
  });

  test('--ip and --mac-address are honoured; -p publishes nothing and says so', async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLan();
    const peer = await lab.addHostOnLan('peer');
    await ok(lab, ['network', 'create', '-d', 'macvlan', ...LAN, '-o', `parent=${lan.parent}`, 'lan']);
    await runSleeper(lab, 'fixed', ['--network', 'lan', '--ip', '198.18.1.77', '--mac-address', '02:00:00:00:00:77']);
    assert.equal(await inspect(lab, 'fixed', '{{.NetworkSettings.Networks.lan.IPAddress}}'), '198.18.1.77');
    assert.equal((await lab.inNetns(peer.ns, ['ping', '-c1', '-W2', '198.18.1.77'])).code, 0);
    const [neigh] = JSON.parse((await lab.inNetns(peer.ns, ['ip', '-j', 'neigh', 'show', '198.18.1.77'])).stdout);
    assert.equal(neigh?.lladdr, '02:00:00:00:00:77');
    const run = await lab.berth(['run', '-d', '--name', 'web', '-p', '8080:80', '--network', 'lan', '--', 'sleep', '3600']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr + run.stdout, /Published ports are discarded when using network driver macvlan \(network lan\)/);
    assert.doesNotMatch(await hostOk(lab, ['nft', 'list', 'ruleset']), /8080/, '-p on a macvlan-only container publishes nothing');
  });

  // A restart makes the macvlan again with the same MAC at once, while the old one may still
  // sit in the deleted netns, which the kernel tears down lazily: it refuses a second
  // macvlan with that MAC. Verified fix: engine/sandbox.ts destroy() removes every interface
  // whose link is not a veth (not only lent ones) before it deletes the netns.
  test('a container with a fixed address and MAC restarts on its macvlan network', async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLan();
    const peer = await lab.addHostOnLan('peer');
    await ok(lab, ['network', 'create', '-d', 'macvlan', ...LAN, '-o', `parent=${lan.parent}`, 'lan']);
    await runSleeper(lab, 'fixed', ['--network', 'lan', '--ip', '198.18.1.77', '--mac-address', '02:00:00:00:00:77']);
    for (let i = 0; i < 5; i++) await ok(lab, ['restart', '-t', '0', 'fixed']);
    assert.equal((await lab.inNetns(peer.ns, ['ping', '-c1', '-W2', '198.18.1.77'])).code, 0, 'reachable after restarts');
  });

  test('two containers on one network talk in bridge mode and cannot in private mode', async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLan();
    const peer = await lab.addHostOnLan('peer');
    for (const mode of ['bridge', 'private']) {
      const name = `mv${mode}`;
      await ok(lab, ['network', 'create', '-d', 'macvlan', ...LAN, '-o', `parent=${lan.parent}`, '-o', `macvlan_mode=${mode}`, name]);
      await runSleeper(lab, `${mode}1`, ['--network', name]);
      await runSleeper(lab, `${mode}2`, ['--network', name]);
      const ip2 = await inspect(lab, `${mode}2`, `{{.NetworkSettings.Networks.${name}.IPAddress}}`);
      const [eth0] = JSON.parse(await ok(lab, ['exec', `${mode}1`, 'ip', '-d', '-j', 'link', 'show', 'eth0']));
      assert.equal(eth0.linkinfo.info_data.mode, mode);
      assert.equal(await pingFrom(lab, `${mode}1`, ip2), mode === 'bridge', `${mode} mode: container to container`);
      assert.match(await ok(lab, ['exec', `${mode}1`, 'getent', 'hosts', `${mode}2`]), new RegExp(`^${ip2.replace(/\./g, '\\.')}\\s`), 'names resolve on a macvlan network');
      assert.ok(await pingFrom(lab, `${mode}1`, peer.addr), `${mode} mode: both still reach the LAN`);
      assert.ok(await pingFrom(lab, `${mode}2`, peer.addr));
      await ok(lab, ['rm', '-f', `${mode}1`, `${mode}2`]);
      await ok(lab, ['network', 'rm', name]);
    }
  });

  test('the host reaches its macvlan containers only with the host-access opt-in, which is off by default', async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLan();
    await ok(lab, ['network', 'create', '-d', 'macvlan', ...LAN, '-o', `parent=${lan.parent}`, 'plain']);
    await runSleeper(lab, 'c1', ['--network', 'plain']);
    const ip1 = await inspect(lab, 'c1', '{{.NetworkSettings.Networks.plain.IPAddress}}');
    assert.equal((await lab.inHost(['ping', '-c1', '-W1', lan.router])).code, 0, 'the host is on the LAN');
    assert.notEqual((await lab.inHost(['ping', '-c1', '-W1', ip1])).code, 0, 'off by default: the kernel keeps a parent from its macvlans');
    await ok(lab, ['rm', '-f', 'c1']);
    await ok(lab, ['network', 'rm', 'plain']);

    const id = await ok(lab, ['network', 'create', '-d', 'macvlan', ...LAN, '--aux-address', 'host=198.18.1.254',
      '-o', `parent=${lan.parent}`, '-o', 'berth.host_access=true', 'reach']);
    const shim = `mvh${id.slice(0, 12)}`;
    await runSleeper(lab, 'c2', ['--network', 'reach']);
    const ip2 = await inspect(lab, 'c2', '{{.NetworkSettings.Networks.reach.IPAddress}}');
    assert.equal((await lab.inHost(['ping', '-c1', '-W2', ip2])).code, 0, 'the host reaches its container through the shim');
    assert.ok(await pingFrom(lab, 'c2', '198.18.1.254'), "and the container reaches the host's shim address");
    assert.match(await hostOk(lab, ['ip', 'route', 'show', `${ip2}/32`]), new RegExp(`dev ${shim}`));
    const [link] = JSON.parse(await hostOk(lab, ['ip', '-d', '-j', 'link', 'show', shim]));
    assert.deepEqual([link.linkinfo.info_kind, link.linkinfo.info_data.mode, link.link], ['macvlan', 'bridge', lan.parent]);
    await lab.restartDaemon();
    assert.equal((await lab.inHost(['ping', '-c1', '-W2', ip2])).code, 0, 'still after a daemon restart');
    await ok(lab, ['rm', '-f', 'c2']);
    assert.equal(await hostOk(lab, ['ip', 'route', 'show', `${ip2}/32`]), '', "the container's route goes with it");
    await ok(lab, ['network', 'rm', 'reach']);
    assert.equal((await lab.inHost(['ip', 'link', 'show', shim])).code, 1, 'the shim goes with the network');

    await fails(lab, ['network', 'create', '-d', 'macvlan', ...LAN, '-o', `parent=${lan.parent}`, '-o', 'berth.host_access=true', 'noaddr'],
      /berth\.host_access=true needs an address for the host on the network: reserve one with --aux-address host=IP/);
  });

  test('the promiscuous opt-in puts the parent in promiscuous mode while the network exists', async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLan();
    const promiscuity = async () => JSON.parse(await hostOk(lab, ['ip', '-d', '-j', 'link', 'show', lan.parent]))[0].promiscuity;
    assert.equal(await promiscuity(), 0);
    await ok(lab, ['network', 'create', '-d', 'macvlan', ...LAN, '-o', `parent=${lan.parent}`, '-o', 'berth.promiscuous=true', 'promisc']);
    assert.equal(await promiscuity(), 1);
    await ok(lab, ['network', 'rm', 'promisc']);
    assert.equal(await promiscuity(), 0);
  });

  test('an --internal network without a parent: its containers reach each other and nothing else; rm leaves nothing', async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLan();
    const before = await snapshot(lab);
    const id = await ok(lab, ['network', 'create', '-d', 'macvlan', '--internal', '--subnet', '10.77.0.0/24', 'island']);
    const own = `dm-${id.slice(0, 12)}`;
    const [parent] = JSON.parse(await hostOk(lab, ['ip', '-d', '-j', 'link', 'show', own]));
    assert.equal(parent.linkinfo.info_kind, 'veth', 'its own parent: a veth whose far end is alone in a netns (no dummy links here)');
    await runSleeper(lab, 'i1', ['--network', 'island']);
    await runSleeper(lab, 'i2', ['--network', 'island']);
    assert.ok(await pingFrom(lab, 'i1', await inspect(lab, 'i2', '{{.NetworkSettings.Networks.island.IPAddress}}')));
    assert.equal(await ok(lab, ['exec', 'i1', 'ip', '-4', 'route', 'show', 'default']), '', 'internal: no default route');
    assert.equal(await pingFrom(lab, 'i1', lan.router), false);
    await ok(lab, ['rm', '-f', 'i1', 'i2']);
    await ok(lab, ['network', 'rm', 'island']);
    assert.equal(await snapshot(lab), before, 'its parent and the netns of its far end are gone');
  });

  test("start-up removes the shims and own parents of networks berth no longer knows, and nobody else's links", async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLan();
    const id = await ok(lab, ['network', 'create', '-d', 'macvlan', '--subnet', '10.77.0.0/24', '--aux-address', 'host=10.77.0.254',
      '-o', `parent=${lan.parent}`, '-o', 'berth.host_access=true', 'kept']);
    await hostOk(lab, ['ip', 'link', 'add', 'mvh0123456789ab', 'link', lan.parent, 'type', 'macvlan', 'mode', 'bridge']);
    await hostOk(lab, ['ip', 'link', 'add', 'dm-0123456789ab', 'type', 'veth', 'peer', 'name', 'dmpeer']);
    await hostOk(lab, ['ip', 'link', 'add', 'dm-abcdefabcdef', 'type', 'bridge']); // not berth's kind: someone else's
    lab.foreignLinks.add('dm-abcdefabcdef');
    await lab.restartDaemon();
    const names = JSON.parse(await hostOk(lab, ['ip', '-j', 'link', 'show'])).map((l: { ifname: string }) => l.ifname);
    assert.ok(names.includes(`mvh${id.slice(0, 12)}`), "a known network's shim stays");
    assert.ok(!names.includes('mvh0123456789ab') && !names.includes('dm-0123456789ab'), 'stale ones go');
    assert.ok(names.includes('dm-abcdefabcdef'));
  });

  test('every bad request is one clear error and leaves nothing behind', async (t) => {
    const lab = await labFor(t);
    const lan = await lab.addLan();
    await hostOk(lab, ['ip', 'link', 'add', 'eth2', 'type', 'veth', 'peer', 'name', 'eth2p']); // down
    await ok(lab, ['network', 'create', 'br']);
    const brId = await ok(lab, ['network', 'inspect', '-f', '{{.Id}}', 'br']);
    await ok(lab, ['network', 'create', '-d', 'macvlan', '--subnet', '198.18.1.0/25', '--gateway', '198.18.1.1', '-o', `parent=${lan.parent}`, 'first']);
    const before = await snapshot(lab);
    const mv = (args: string[]) => ['network', 'create', '-d', 'macvlan', ...args, 'bad'];
    // a subnet of its own, so that each case fails for its own reason
    const LAN = ['--subnet', '10.77.0.0/24'];
    const cases: [string[], RegExp][] = [
      [mv([...LAN, '-o', 'parent=eth9']), /the requested parent interface eth9 was not found on the berth host/],
      [mv([...LAN, '-o', 'parent=eth2']), /parent interface eth2 is down/],
      [mv([...LAN, '-o', 'parent=berth0']), /parent interface berth0 is a bridge of a berth network/],
      [mv([...LAN, '-o', `parent=br-${brId.slice(0, 12)}`]), /is a bridge of a berth network/],
      // IPAM refuses an overlap before the driver is asked (Docker's message)
      [mv(['--subnet', '198.18.1.64/26', '-o', `parent=${lan.parent}`]), /Pool overlaps with other one on this address space/],
      [mv([...LAN, '-o', `parent=${lan.parent}`, '-o', 'macvlan_mode=passthru']), /network first is already using parent interface eth1 \(passthru mode takes a parent alone\)/],
      [mv([...LAN, '-o', `parent=${lan.parent}.10`]), /cannot create VLAN interface eth1\.10: this kernel has no 802\.1q VLAN support \(the 8021q module\)/],
      [mv([...LAN, '-o', `parent=${lan.parent}`, '-o', 'macvlan_mode=hub']), /requested macvlan mode 'hub' is not valid/],
      [mv([...LAN, '-o', 'parent=lo']), /loopback interface is not a valid macvlan parent link/],
      [mv([...LAN, '-o', `parent=${lan.parent}`, '-o', 'com.docker.network.driver.mtu=9000']), /invalid MTU 9000: larger than that of the parent interface eth1 \(1500\)/],
    ];
    for (const [args, message] of cases) {
      await fails(lab, args, message);
      assert.equal(await snapshot(lab), before, `berth ${args.join(' ')} left something behind`);
    }
    // disjoint subnets on one parent are fine (Docker refuses any second network on a parent)
    await ok(lab, ['network', 'create', '-d', 'macvlan', '--subnet', '198.18.1.128/25', '--gateway', '198.18.1.129', '-o', `parent=${lan.parent}`, 'second']);
  });
});
