import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor, type Lab } from '../lab/lab.js';
import { inspect, ok, runSleeper } from './helpers.js';

// The IPv6 twin of berth's firewall (`table ip6 berth`) on the real kernel: between bridges
// and the outside it gives the verdicts the IPv4 table gives. The containers' IPv6
// addresses are put on by hand here (from the lab host, in their netns), as a dual-stack
// endpoint will have them, with forwarding on: what stops a packet is the table alone.

const UPLINK6 = '2001:db8:100::2';
const WAN6 = '2001:db8:100::1';

async function bridgeOf(lab: Lab, net: string): Promise<string> {
  return `br-${(await ok(lab, ['network', 'inspect', '-f', '{{.Id}}', net])).slice(0, 12)}`;
}

/** Gives container `name` the address fd00:<n>::<host>/64 and a default route via the bridge's fd00:<n>::1. */
async function addV6(lab: Lab, name: string, n: number, host: string): Promise<string> {
  const ns = await inspect(lab, name, '{{.NetworkSettings.SandboxKey}}');
  for (const argv of [
    ['sysctl', '-qw', 'net.ipv6.conf.eth0.disable_ipv6=0'],
    ['ip', '-6', 'addr', 'add', `fd00:${n}::${host}/64`, 'dev', 'eth0', 'nodad'],
    ['ip', '-6', 'route', 'add', 'default', 'via', `fd00:${n}::1`],
  ]) assert.equal((await lab.inNetns(ns, argv)).code, 0, argv.join(' '));
  return `fd00:${n}::${host}`;
}

async function bridgeV6(lab: Lab, net: string, n: number): Promise<void> {
  const br = await bridgeOf(lab, net);
  await lab.inHost(['sysctl', '-qw', `net.ipv6.conf.${br}.disable_ipv6=0`]);
  await ok(lab, ['network', 'inspect', net]); // exists
  assert.equal((await lab.inHost(['ip', '-6', 'addr', 'add', `fd00:${n}::1/64`, 'dev', br, 'nodad'])).code, 0);
}

const ping6 = async (lab: Lab, from: string, to: string) => (await lab.berth(['exec', from, 'ping', '-6', '-c1', '-W1', to])).code === 0;

/** A reachability that must hold: a few tries, so that a loaded machine's slow first neighbour
 *  solicitation is not read as a verdict of the table (the ones that must fail get one try). */
async function reaches(lab: Lab, from: string, to: string): Promise<boolean> {
  for (let i = 0; i < 3; i++) if (await ping6(lab, from, to)) return true;
  return false;
}

describe('IPv6 firewall', { concurrency: false }, () => {
  test('networks cannot reach each other over IPv6, an --internal one has no way out, and the outside cannot reach a container', async (t) => {
    const lab = await labFor(t);
    // the lab's uplink speaks IPv6 (topology.ts); routes back to the ULAs, and forwarding on: only the table decides
    assert.equal(lab.hostUplinkAddr6, UPLINK6);
    await lab.inInternet(['ip', '-6', 'route', 'add', 'fd00::/16', 'via', UPLINK6]);
    await lab.inHost(['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    await ok(lab, ['network', 'create', '--subnet', '10.71.0.0/24', 'n71']);
    await ok(lab, ['network', 'create', '--subnet', '10.72.0.0/24', 'n72']);
    await ok(lab, ['network', 'create', '--internal', '--subnet', '10.73.0.0/24', 'n73']);
    await bridgeV6(lab, 'n71', 71);
    await bridgeV6(lab, 'n72', 72);
    await bridgeV6(lab, 'n73', 73);
    await runSleeper(lab, 'v6a', ['--network', 'n71']);
    await runSleeper(lab, 'v6b', ['--network', 'n71']);
    await runSleeper(lab, 'v6c', ['--network', 'n72']);
    await runSleeper(lab, 'v6d', ['--network', 'n73']);
    const a = await addV6(lab, 'v6a', 71, 'a');
    const b = await addV6(lab, 'v6b', 71, 'b');
    const c = await addV6(lab, 'v6c', 72, 'c');
    await addV6(lab, 'v6d', 73, 'd');

    // the host reaches each container (and so knows its neighbours): a ping across networks
    // below fails for the table alone, not for a neighbour not resolved yet
    for (const ip of [a, b, c]) assert.equal((await lab.inHost(['ping', '-6', '-c3', '-W2', ip])).code, 0, `host -> ${ip}`);
    assert.ok(await reaches(lab, 'v6a', b), 'same network: bridged');
    assert.ok(await reaches(lab, 'v6a', 'fd00:71::1'), 'its own gateway');
    assert.ok(await reaches(lab, 'v6a', WAN6), 'egress to the outside (ULA unmasqueraded: the lab internet routes fd00::/16 back)');
    assert.equal(await ping6(lab, 'v6a', c), false, 'ISOLATION: another network');
    assert.equal(await ping6(lab, 'v6c', a), false, 'ISOLATION: the other way');
    assert.equal(await ping6(lab, 'v6d', WAN6), false, 'INTERNAL: no way out');
    assert.equal((await lab.inInternet(['ping', '-6', '-c1', '-W1', a])).code, 1, 'NO DIRECT ACCESS: the outside cannot reach a container');
    assert.match(await ok(lab, ['system', 'firewall']), /table ip6 berth/);
  });
});
