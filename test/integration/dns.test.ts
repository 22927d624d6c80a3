import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor, type Lab } from '../lab/lab.js';
import { inspect, ok, pingFrom, runSleeper } from './helpers.js';

// Seed scenarios 11 and 18 and issue 3: containers on user-defined networks find each
// other by name through the embedded resolver; the default bridge does not.

async function dig(lab: Lab, container: string, name: string, type = 'A'): Promise<{ status: string; answers: string[] }> {
  const r = await lab.berth(['exec', container, 'dig', '+tries=1', '+time=3', name, type]);
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
    assert.equal(await ok(lab, ['exec', 'vm1', 'cat', '/etc/resolv.conf']), 'nameserver 172.18.0.1\noptions ndots:0');
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
    assert.doesNotMatch(await ok(lab, ['exec', 'd1', 'cat', '/etc/resolv.conf']), /172\.17\.0\.1/);
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
    const r = await lab.inInternet(['dig', '+tries=1', '+time=2', '@172.18.0.1', 'c1']);
    assert.doesNotMatch(r.stdout, /ANSWER SECTION/);
    const fromHost = await lab.inHost(['dig', '+tries=1', '+time=2', '@172.18.0.1', 'c1']);
    assert.doesNotMatch(fromHost.stdout, /status: NOERROR[\s\S]*ANSWER SECTION/);
  });
});
