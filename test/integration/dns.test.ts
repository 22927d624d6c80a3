import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TCP_LIMITS } from '../../src/dns/index.js';
import { labFor, type Lab } from '../lab/lab.js';
import { hostLinks, hostOk, inspect, ok, pingFrom, runSleeper } from './helpers.js';

// Seed scenarios 11 and 18 and issues 3 and 11: containers on user-defined networks find
// each other by name through the embedded resolver, which answers at 127.0.0.11 inside
// each container's own netns; the default bridge does not.

const TCP_HOG = fileURLToPath(new URL('../lab/dns-tcp-hog.js', import.meta.url));

async function dig(lab: Lab, container: string, name: string, type = 'A', opts: string[] = []): Promise<{ status: string; answers: string[] }> {
  const r = await lab.berth(['exec', container, 'dig', '+tries=1', '+time=3', ...opts, name, type]);
  const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? `no answer (${r.code})`;
  const section = r.stdout.split(';; ANSWER SECTION:')[1]?.split('\n\n')[0] ?? '';
  const answers = section.split('\n').filter((l) => l.trim()).map((l) => l.split(/\s+/).at(-1) ?? '');
  return { status, answers };
}

describe('embedded DNS', { concurrency: false }, () => {
  test('containers on a user-defined network resolve each other by name; the default bridge does not', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--dns', '203.0.113.10'] });
    await ok(lab, ['network', 'create', 'my_net1']);
    const vm1 = await runSleeper(lab, 'vm1', ['--network', 'my_net1']);
    await runSleeper(lab, 'vm2', ['--network', 'my_net1', '-h', 'two']);
    assert.equal(await ok(lab, ['exec', 'vm1', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0');
    assert.ok(await pingFrom(lab, 'vm2', 'vm1'));
    assert.ok(await pingFrom(lab, 'vm1', 'vm2'));
    assert.deepEqual((await dig(lab, 'vm2', 'VM1.')).answers, ['172.18.0.2'], 'case-insensitive, trailing dot');
    assert.deepEqual((await dig(lab, 'vm2', vm1.slice(0, 12))).answers, ['172.18.0.2'], 'short id');
    assert.deepEqual((await dig(lab, 'vm1', 'two')).answers, ['172.18.0.3'], 'hostname');
    const ptr = await dig(lab, 'vm1', '2.0.18.172.in-addr.arpa', 'PTR');
    assert.match(ptr.answers.join(' '), /^vm1\.?/);
    // default bridge: no embedded DNS, names do not resolve
    await runSleeper(lab, 'd1');
    await runSleeper(lab, 'd2');
    assert.equal(await pingFrom(lab, 'd1', 'd2'), false);
    assert.doesNotMatch(await ok(lab, ['exec', 'd1', 'cat', '/etc/resolv.conf']), /127\.0\.0\.11|172\.17\.0\.1/);
    assert.equal((await lab.berth(['exec', 'd1', 'dig', '+tries=1', '+time=1', '@127.0.0.11', 'd2'])).stdout.includes('status: NOERROR'), false);
    // connected live to a user-defined network: its resolv.conf turns to the embedded
    // resolver and its hosts file gains the new address, as dockerd rewrites them
    await ok(lab, ['network', 'connect', 'my_net1', 'd1']);
    assert.equal(await ok(lab, ['exec', 'd1', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0');
    const d1Ip = await inspect(lab, 'd1', '{{(index .NetworkSettings.Networks "my_net1").IPAddress}}');
    assert.match(await ok(lab, ['exec', 'd1', 'cat', '/etc/hosts']), new RegExp(`^${d1Ip.replace(/\./g, '\\.')}\\t`, 'm'));
    assert.ok(await pingFrom(lab, 'd1', 'vm2'));
  });

  test('UDP and TCP at 127.0.0.11 inside the container; nothing listens on port 53 in the host netns; the sockets go with the sandbox', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--dns', '203.0.113.10'] });
    await ok(lab, ['network', 'create', 'n1']);
    await runSleeper(lab, 'a1', ['--network', 'n1']);
    await runSleeper(lab, 'a2', ['--network', 'n1', '--dns-search', 'corp.test', '--dns-opt', 'ndots:2']);
    assert.equal(await ok(lab, ['exec', 'a2', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\nsearch corp.test\noptions ndots:2');
    for (const proto of [[], ['+tcp']]) {
      assert.deepEqual(await dig(lab, 'a2', 'a1', 'A', proto), { status: 'NOERROR', answers: ['172.18.0.2'] }, proto.join());
      assert.deepEqual((await dig(lab, 'a2', 'echo.internet.test', 'A', proto)).answers, ['203.0.113.10'], `forwarded ${proto.join()}`);
    }
    assert.match(await ok(lab, ['exec', 'a1', 'nslookup', 'a2']), /Address:\s+172\.18\.0\.3/);
    // the search domain the container was given is taken off by the resolver, too
    assert.deepEqual((await dig(lab, 'a2', 'a1.corp.test')).answers, ['172.18.0.2']);
    const listening = await hostOk(lab, ['ss', '-Hlntu']);
    assert.doesNotMatch(listening, /:53\s/, 'no DNS socket in the host netns');
    const sandbox = await inspect(lab, 'a1', '{{.NetworkSettings.SandboxKey}}');
    const inside = (await lab.inNetns(sandbox, ['ss', '-Hlntup'])).stdout;
    assert.match(inside, /^udp .* 127\.0\.0\.11:53 /m);
    assert.match(inside, /^tcp .*LISTEN.* 127\.0\.0\.11:53 /m);
    // held by berthd itself, which gains no thread (nor process) per container
    const pid = /users:\(\("[^"]+",pid=(\d+)/.exec(inside)?.[1];
    assert.ok(pid, inside);
    const threads = (): number => readdirSync(`/proc/${pid}/task`).length;
    const before = threads();
    for (const n of ['a3', 'a4', 'a5']) await runSleeper(lab, n, ['--network', 'n1']);
    assert.deepEqual((await dig(lab, 'a5', 'a3')).answers, ['172.18.0.4']);
    assert.equal(threads(), before);
    for (const n of ['a3', 'a4', 'a5']) await ok(lab, ['rm', '-f', n]);
    // stop: the sockets are closed, so the netns really goes and its veth with it
    const netId = await ok(lab, ['network', 'inspect', '-f', '{{.Id}}', 'n1']);
    const onBridge = async () => (await hostLinks(lab)).filter((l) => l.master === `br-${netId.slice(0, 12)}`).length;
    assert.equal(await onBridge(), 2);
    await ok(lab, ['stop', '-t', '1', 'a1']);
    let left = await onBridge();
    for (let i = 0; i < 100 && left !== 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = await onBridge();
    }
    assert.equal(left, 1, 'the stopped container\'s veth is gone from the bridge');
    await ok(lab, ['start', 'a1']);
    assert.deepEqual(await dig(lab, 'a1', 'a2'), { status: 'NOERROR', answers: [await inspect(lab, 'a2', '{{.NetworkSettings.Networks.n1.IPAddress}}')] });
  });

  test('a container in container:X mode asks through X\'s sockets and sees what X sees', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--dns', '203.0.113.10'] });
    await ok(lab, ['network', 'create', 'n1']);
    await ok(lab, ['network', 'create', 'n2']);
    await runSleeper(lab, 'owner', ['--network', 'n1']);
    await runSleeper(lab, 'peer1', ['--network', 'n1']);
    await runSleeper(lab, 'peer2', ['--network', 'n2']);
    await runSleeper(lab, 'rider', ['--network', 'container:owner']);
    assert.equal(await ok(lab, ['exec', 'rider', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0');
    assert.deepEqual((await dig(lab, 'rider', 'peer1')).answers, ['172.18.0.3']);
    assert.equal((await dig(lab, 'rider', 'peer2')).status, 'NXDOMAIN');
  });

  test('after berthd is killed and started again, the sandboxes are served again', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--dns', '203.0.113.10'] });
    await ok(lab, ['network', 'create', 'n1']);
    await runSleeper(lab, 'k1', ['--network', 'n1']);
    await runSleeper(lab, 'k2', ['--network', 'n1']);
    assert.deepEqual((await dig(lab, 'k1', 'k2')).answers, ['172.18.0.3']);
    const sandbox = await inspect(lab, 'k1', '{{.NetworkSettings.SandboxKey}}');
    await lab.killDaemon();
    // the sockets died with the process: nothing is left bound in the sandbox
    assert.doesNotMatch((await lab.inNetns(sandbox, ['ss', '-Hlntu'])).stdout, /127\.0\.0\.11:53/);
    await lab.startDaemon();
    assert.deepEqual((await dig(lab, 'k1', 'k2')).answers, ['172.18.0.3']);
    assert.deepEqual((await dig(lab, 'k2', 'k1', 'A', ['+tcp'])).answers, ['172.18.0.2']);
  });

  test('a shared --network-alias returns every member, rotated; other networks are NXDOMAIN; records follow the containers', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--dns', '203.0.113.10'] });
    await ok(lab, ['network', 'create', 'web']);
    await ok(lab, ['network', 'create', 'other']);
    await runSleeper(lab, 'w1', ['--network', 'web', '--network-alias', 'app']);
    await runSleeper(lab, 'w2', ['--network', 'web', '--network-alias', 'app']);
    await runSleeper(lab, 'client', ['--network', 'web']);
    await runSleeper(lab, 'stranger', ['--network', 'other']);
    const first = (await dig(lab, 'client', 'app')).answers;
    assert.deepEqual([...first].sort(), ['172.18.0.2', '172.18.0.3']);
    const orders = new Set<string>();
    for (let i = 0; i < 4; i++) orders.add((await dig(lab, 'client', 'app')).answers.join(','));
    assert.ok(orders.size > 1, `answers rotate (saw ${[...orders].join(' | ')})`);
    assert.equal((await dig(lab, 'stranger', 'w1')).status, 'NXDOMAIN', 'a name on a network the client is not on');
    // connect makes the names visible, disconnect and rm take them away at once
    await ok(lab, ['network', 'connect', '--alias', 'friend', 'web', 'stranger']);
    assert.deepEqual((await dig(lab, 'stranger', 'w1')).answers, ['172.18.0.2']);
    assert.deepEqual((await dig(lab, 'client', 'friend')).answers, [await inspect(lab, 'stranger', '{{.NetworkSettings.Networks.web.IPAddress}}')]);
    await ok(lab, ['rm', '-f', 'w1']);
    assert.deepEqual((await dig(lab, 'client', 'app')).answers, ['172.18.0.3']);
    await ok(lab, ['network', 'disconnect', 'web', 'stranger']);
    assert.equal((await dig(lab, 'client', 'friend')).status, 'NXDOMAIN');
  });

  test('other names go to the upstream, which is answered from a cache the second time; --link aliases on user networks', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--dns', '203.0.113.10'] });
    await ok(lab, ['network', 'create', 'n1']);
    await runSleeper(lab, 'db1', ['--network', 'n1']);
    await runSleeper(lab, 'app1', ['--network', 'n1', '--link', 'db1:database']);
    const up = await dig(lab, 'app1', 'echo.internet.test');
    assert.equal(up.status, 'NOERROR');
    assert.ok(up.answers.length > 0);
    const asked = () => lab.internetDnsLog().split('\n').filter((l) => l.includes('echo.internet.test')).length;
    const before = asked();
    await dig(lab, 'app1', 'echo.internet.test');
    assert.equal(asked(), before, 'second answer came from the cache');
    assert.equal((await dig(lab, 'app1', 'nosuch.internet.test')).status, 'NXDOMAIN');
    assert.deepEqual((await dig(lab, 'app1', 'database')).answers, ['172.18.0.2'], 'link alias for the linking container');
    assert.equal((await dig(lab, 'db1', 'database')).status, 'NXDOMAIN', '…and for it alone');
  });

  test('the resolver answers only containers of berth networks', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--dns', '203.0.113.10'] });
    await ok(lab, ['network', 'create', 'n1']);
    await runSleeper(lab, 'c1', ['--network', 'n1']);
    assert.deepEqual((await dig(lab, 'c1', 'c1')).answers, ['172.18.0.2']);
    for (const server of ['172.18.0.1', '127.0.0.11']) {
      const r = await lab.inInternet(['dig', '+tries=1', '+time=2', `@${server}`, 'c1']);
      assert.doesNotMatch(r.stdout, /ANSWER SECTION/);
      const fromHost = await lab.inHost(['dig', '+tries=1', '+time=2', `@${server}`, 'c1']);
      assert.doesNotMatch(fromHost.stdout, /ANSWER SECTION/);
    }
  });

  test('one container holding hundreds of idle TCP connections is capped to its share; the others still resolve over TCP and UDP', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--dns', '203.0.113.10'] });
    await ok(lab, ['network', 'create', 'n1']);
    await runSleeper(lab, 'hog', ['--network', 'n1']);
    await runSleeper(lab, 'calm', ['--network', 'n1']);
    await runSleeper(lab, 'target', ['--network', 'n1']);
    const sandbox = await inspect(lab, 'hog', '{{.NetworkSettings.SandboxKey}}');
    // 600 idle connections (the reported case), then a query on one more: it is answered
    // (the oldest idle connection made room for it), and the hog keeps everything open
    const hog = lab.spawnIn(sandbox, ['node', TCP_HOG, '127.0.0.11', '600', 'target']);
    await hog.waitForOutput('ready', 60_000);
    assert.match(hog.output(), /ready rcode=0 answers=1/);
    // the resolver's side of the hog's connections: no more than its cap stay open
    const established = (await lab.inNetns(sandbox, ['ss', '-Htn', 'state', 'established', '( sport = :53 )'])).stdout.trim().split('\n').filter(Boolean);
    assert.ok(established.length <= DEFAULT_TCP_LIMITS.perSandbox, `${established.length} connections held open for one sandbox`);
    const clientSide = (await lab.inNetns(sandbox, ['ss', '-Htan', '( dport = :53 )'])).stdout.trim().split('\n').filter(Boolean);
    assert.equal(clientSide.length, 601, 'the hog still holds all of its sockets');
    // everyone else resolves, over both transports, while the hog holds on
    const target = await inspect(lab, 'target', '{{.NetworkSettings.Networks.n1.IPAddress}}');
    for (const proto of [['+tcp'], [], ['+tcp']]) {
      assert.deepEqual(await dig(lab, 'calm', 'target', 'A', proto), { status: 'NOERROR', answers: [target] }, proto.join());
    }
    // and so does the hog itself, on a new connection
    assert.deepEqual(await dig(lab, 'hog', 'target', 'A', ['+tcp']), { status: 'NOERROR', answers: [target] });
  });
});
