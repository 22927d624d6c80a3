import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { labFor, type Lab } from '../lab/lab.js';
import { docker, dockerOk, importBusybox, installedClients } from '../compat/docker-cli.js';
import { fails, hostOk, inspect, ok, pingFrom, runSleeper } from './helpers.js';

// Issue 10: legacy links removed with `rm --link` (what the link gave goes with it), link
// aliases on user-defined networks resolved when the query comes (a target made, started
// or readdressed later), and --link-local-ip addresses on the interface on every join
// path. dockerd 20.10's answers: test/fixtures/dockerd-20.10/link-*.json.

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/dockerd-20.10/', import.meta.url));

interface Recorded { request?: string; status?: number; body?: unknown; IPAMConfig?: unknown }

/** What dockerd 20.10 answered to REQUEST (scripts/record-reference.sh), the `nth` time it was asked. */
function dockerd(file: string, request: string, nth = 0): { status: number; body: unknown } {
  const all = JSON.parse(readFileSync(FIXTURES + file, 'utf8')) as Recorded[];
  const hit = all.filter((r) => r.request === request)[nth];
  assert.ok(hit?.status, `${request} recorded in ${file}`);
  return { status: hit.status, body: hit.body };
}

async function dig(lab: Lab, container: string, name: string): Promise<{ status: string; answers: string[] }> {
  const r = await lab.berth(['exec', container, 'dig', '+tries=1', '+time=3', name, 'A']);
  const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? `no answer (${r.code})`;
  const section = r.stdout.split(';; ANSWER SECTION:')[1]?.split('\n\n')[0] ?? '';
  return { status, answers: section.split('\n').filter((l) => l.trim()).map((l) => l.split(/\s+/).at(-1) ?? '') };
}

/** The elements of berth's `links` set (icc=false openings): "client . server . proto . port". */
async function linkElements(lab: Lab): Promise<string[]> {
  const set = JSON.parse(await hostOk(lab, ['nft', '-j', 'list', 'set', 'ip', 'berth', 'links'])) as { nftables: { set?: { elem?: { concat: (string | number)[] }[] } }[] };
  const elems = set.nftables.find((x) => x.set)?.set?.elem ?? [];
  return elems.map((e) => e.concat.join(' . '));
}

/** What `nc` gets back from IP:80 within 2 s ('' when the firewall drops it). */
async function fetchFrom(lab: Lab, container: string, ip: string): Promise<string> {
  const r = await lab.berth(['exec', container, 'busybox', 'nc', '-w', '2', ip, '80']);
  return r.stdout.trim();
}

/** IPv4 and IPv6 addresses ("a/p") of one interface, from `ip -j addr` inside the container's netns. */
async function addressesOf(lab: Lab, container: string, ifName: string): Promise<string[]> {
  const out = JSON.parse(await ok(lab, ['exec', container, 'ip', '-j', 'addr', 'show', 'dev', ifName])) as { addr_info: { local: string; prefixlen: number }[] }[];
  return out[0].addr_info.map((a) => `${a.local}/${a.prefixlen}`);
}

describe('links and link-local addresses', { concurrency: false }, () => {
  test('default bridge, icc=false: a link\'s hosts entry and opening follow its target; rm --link takes them and the inspect record away; dockerd\'s messages', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--icc=false'] });
    await ok(lab, ['run', '-d', '--name', 'web', '--expose', '80', '--', 'busybox', 'nc', '-ll', '-p', '80', '-e', 'echo', 'hi']);
    await runSleeper(lab, 'client', ['--link', 'web:db', '--link', 'web:www']); // two links, one opening
    await runSleeper(lab, 'stranger');
    const clientIp = await inspect(lab, 'client', '{{.NetworkSettings.IPAddress}}');
    let webIp = await inspect(lab, 'web', '{{.NetworkSettings.IPAddress}}');
    assert.match(await ok(lab, ['exec', 'client', 'cat', '/etc/hosts']), new RegExp(`^${webIp}\\tdb `, 'm'));
    assert.equal(await fetchFrom(lab, 'client', 'db'), 'hi', 'the link opens the exposed port');
    assert.equal(await fetchFrom(lab, 'stranger', webIp), '', 'icc=false cuts off the others');
    assert.deepEqual(await linkElements(lab), [`${clientIp} . ${webIp} . tcp . 80`]);
    // the target stops, and comes back with another address: the opening and the parent's
    // hosts entry follow it (dockerd updates a link parent's hosts when the target starts)
    await ok(lab, ['stop', '-t', '0', 'web']);
    assert.deepEqual(await linkElements(lab), [], 'a stopped target takes its opening with it');
    await runSleeper(lab, 'thief');
    await ok(lab, ['start', 'web']);
    const old = webIp;
    webIp = await inspect(lab, 'web', '{{.NetworkSettings.IPAddress}}');
    assert.notEqual(webIp, old);
    assert.match(await ok(lab, ['exec', 'client', 'cat', '/etc/hosts']), new RegExp(`^${webIp}\\tdb `, 'm'));
    assert.deepEqual(await linkElements(lab), [`${clientIp} . ${webIp} . tcp . 80`]);
    assert.equal(await fetchFrom(lab, 'client', 'db'), 'hi');
    // after a berthd kill -9 the opening is rebuilt, so its removal still finds it
    await lab.killDaemon();
    await lab.startDaemon();
    assert.equal(await ok(lab, ['rm', '--link', '/client/db']), '/client/db');
    const hosts = await ok(lab, ['exec', 'client', 'cat', '/etc/hosts']);
    assert.doesNotMatch(hosts, /\bdb\b/);
    assert.match(hosts, new RegExp(`^${webIp}\\twww `, 'm'));
    assert.deepEqual(await linkElements(lab), [`${clientIp} . ${webIp} . tcp . 80`], 'the other link still needs the opening');
    assert.equal(await fetchFrom(lab, 'client', 'www'), 'hi');
    assert.equal(await ok(lab, ['rm', '--link', 'client/www']), 'client/www');
    assert.equal(await inspect(lab, 'client', '{{json .HostConfig.Links}}'), 'null');
    assert.deepEqual(await linkElements(lab), []);
    assert.equal(await fetchFrom(lab, 'client', webIp), '', 'no link opens the port any more');
    await fails(lab, ['rm', '--link', '/client/db'], /No such container: client\/db/);
    await fails(lab, ['rm', '-l', 'web'], /Conflict, cannot remove the default link name of the container/);
    // dockerd's answers, status included, except where dockerd says 500 for a request berth refuses as a 4xx
    for (const [request, nth] of [['DELETE /containers/nosuchparent/db?link=1', 0], ['DELETE /containers/client/nosuch?link=1', 0], ['DELETE /containers/client/db?link=1', 1]] as const) {
      const r = await lab.api('DELETE', `/v1.41${request.slice('DELETE '.length)}`);
      const want = dockerd('link-rm.json', request.replace('client', 'lclient'), nth);
      assert.deepEqual([r.status, r.body], [want.status, { message: (want.body as { message: string }).message.replace('lclient', 'client') }], request);
    }
    const own = await lab.api('DELETE', '/v1.41/containers/client?link=1');
    assert.deepEqual([own.status, own.body], [409, dockerd('link-rm.json', 'DELETE /containers/lclient?link=1').body]);
    // the stock docker CLI sends the same request
    for (const client of installedClients()) {
      await runSleeper(lab, 'c2', ['--link', 'web:w2']);
      assert.equal(await dockerOk(lab, client, ['rm', '--link', '/c2/w2']), '/c2/w2', client.name);
      assert.doesNotMatch(await ok(lab, ['exec', 'c2', 'cat', '/etc/hosts']), /\bw2\b/);
      const r = await docker(lab, client, ['rm', '--link', '/c2/w2']);
      assert.match(r.stderr, /No such container: c2\/w2/, client.name);
      await ok(lab, ['rm', '-f', 'c2']);
    }
    await fails(lab, ['run', '-d', '--link', 'nosuch:x', '--', 'sleep', '1'], /could not get container for nosuch: No such container: nosuch/);
  });

  test('a dual-stack default bridge (berthd --ipv6 --icc=false): a link opens the exposed port over IPv6 too, and nothing else', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--icc=false', '--ipv6', '--fixed-cidr-v6', 'fd00:b0::/64'] });
    await ok(lab, ['run', '-d', '--name', 'web', '--expose', '80', '--', 'busybox', 'nc', '-ll', '-p', '80', '-e', 'echo', 'hi']);
    await runSleeper(lab, 'client', ['--link', 'web:db']);
    await runSleeper(lab, 'stranger');
    const [clientIp6, webIp6] = await Promise.all(['client', 'web'].map((c) => inspect(lab, c, '{{.NetworkSettings.GlobalIPv6Address}}')));
    assert.match(webIp6, /^fd00:b0::/);
    const set = JSON.parse(await hostOk(lab, ['nft', '-j', 'list', 'set', 'ip6', 'berth', 'links'])) as { nftables: { set?: { elem?: { concat: (string | number)[] }[] } }[] };
    assert.deepEqual((set.nftables.find((x) => x.set)?.set?.elem ?? []).map((e) => e.concat.join(' . ')), [`${clientIp6} . ${webIp6} . tcp . 80`]);
    assert.equal(await fetchFrom(lab, 'client', webIp6), 'hi', 'the link opens the exposed port over IPv6');
    assert.equal(await fetchFrom(lab, 'stranger', webIp6), '', 'icc=false cuts the others off over IPv6');
    assert.equal(await pingFrom(lab, 'client', webIp6), false, 'and the link opens only the exposed port');
    await ok(lab, ['rm', '--link', '/client/db']);
    assert.equal(await fetchFrom(lab, 'client', webIp6), '', 'gone with the link');
  });

  test('a link alias on a user-defined network resolves once its target runs, follows its new address, and goes with rm --link', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--dns', '203.0.113.10'] });
    await ok(lab, ['network', 'create', 'n1']);
    // dockerd allows a link to a container that does not exist yet on a user-defined network
    await runSleeper(lab, 'app', ['--network', 'n1', '--link', 'later:lt']);
    assert.equal((await dig(lab, 'app', 'lt')).status, 'NXDOMAIN', 'no target yet: the alias is the container\'s own, not forwarded');
    const made = await lab.api('POST', '/v1.41/containers/create?name=later', { Image: '', Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'n1' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal((await dig(lab, 'app', 'lt')).status, 'NXDOMAIN', 'created, not running');
    await ok(lab, ['start', 'later']);
    const first = await inspect(lab, 'later', '{{.NetworkSettings.Networks.n1.IPAddress}}');
    assert.deepEqual((await dig(lab, 'app', 'lt')).answers, [first]);
    await ok(lab, ['stop', '-t', '0', 'later']);
    await runSleeper(lab, 'hog', ['--network', 'n1']); // takes the address `later` had
    await ok(lab, ['start', 'later']);
    const second = await inspect(lab, 'later', '{{.NetworkSettings.Networks.n1.IPAddress}}');
    assert.notEqual(second, first);
    assert.deepEqual((await dig(lab, 'app', 'lt')).answers, [second], 'the alias follows the target\'s new address');
    assert.equal((await dig(lab, 'hog', 'lt')).status, 'NXDOMAIN', 'only the linking container has the alias');
    assert.equal(await ok(lab, ['rm', '--link', 'app/lt']), 'app/lt');
    assert.equal((await dig(lab, 'app', 'lt')).status, 'NXDOMAIN');
    assert.deepEqual((await dig(lab, 'app', 'later')).answers, [second], 'the target itself still resolves');
    assert.equal(await inspect(lab, 'app', '{{json .HostConfig.Links}} {{json .NetworkSettings.Networks.n1.Links}}'), 'null null');
  });

  test('--link-local-ip: on the interface after run, connect and a berthd kill -9 with the interface lost; reachable from a peer; bad ones are a 400 with nothing made', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', 'n1']);
    await runSleeper(lab, 'lla', ['--network', 'n1', '--link-local-ip', '169.254.7.7', '--link-local-ip', 'fe80::7']);
    const own = await addressesOf(lab, 'lla', 'eth0');
    for (const addr of ['169.254.7.7/16', 'fe80::7/64']) assert.ok(own.includes(addr), `${addr} on lla's eth0: ${own.join(' ')}`);
    assert.equal(await inspect(lab, 'lla', '{{json .NetworkSettings.Networks.n1.IPAMConfig}}'), '{"LinkLocalIPs":["169.254.7.7","fe80::7"]}');
    // connect to a running container, with berth's CLI and the stock ones
    await runSleeper(lab, 'llb');
    await ok(lab, ['network', 'connect', '--link-local-ip', '169.254.9.9', 'n1', 'llb']);
    assert.ok((await addressesOf(lab, 'llb', 'eth1')).includes('169.254.9.9/16'));
    assert.ok(await pingFrom(lab, 'llb', '169.254.7.7'), 'a peer on the same network with a link-local address reaches it');
    for (const [i, client] of installedClients().entries()) {
      const name = `lld${i}`;
      await runSleeper(lab, name);
      await dockerOk(lab, client, ['network', 'connect', '--link-local-ip', `169.254.10.${i + 1}`, 'n1', name]);
      assert.ok((await addressesOf(lab, name, 'eth1')).includes(`169.254.10.${i + 1}/16`), client.name);
    }
    // berthd dies; llb's eth1 is lost meanwhile: the restart makes it again, with its link-local address
    const netns = await inspect(lab, 'llb', '{{.NetworkSettings.SandboxKey}}');
    await lab.killDaemon();
    await hostOk(lab, ['nsenter', `--net=${netns}`, 'ip', 'link', 'del', 'eth1']);
    await lab.startDaemon();
    assert.ok((await addressesOf(lab, 'llb', 'eth1')).includes('169.254.9.9/16'), 'restored');
    assert.ok((await addressesOf(lab, 'lla', 'eth0')).includes('169.254.7.7/16'), 'kept');
    // dockerd's IPAMConfig for the same connect (llconn in the recording)
    const recorded = (JSON.parse(readFileSync(FIXTURES + 'link-local.json', 'utf8')) as Recorded[]).at(-1)?.IPAMConfig;
    assert.deepEqual(JSON.parse(await inspect(lab, 'llb', '{{json .NetworkSettings.Networks.n1.IPAMConfig}}')), recorded);
    // bad addresses: dockerd's messages, as a 400 before anything exists
    await runSleeper(lab, 'lle');
    const before = await ok(lab, ['ps', '-aq']);
    await fails(lab, ['run', '-d', '--network', 'n1', '--link-local-ip', '169.254.1.1', '--link-local-ip', 'bogus', '--', 'sleep', '1'], /Invalid link-local IP address: \[169\.254\.1\.1 bogus\]/);
    await fails(lab, ['run', '-d', '--network', 'n1', '--link-local-ip', '10.99.0.1', '--', 'sleep', '1'], /invalid link local IP address: 10\.99\.0\.1/);
    const bad = await lab.api('POST', '/v1.41/networks/n1/connect', { Container: 'lle', EndpointConfig: { IPAMConfig: { LinkLocalIPs: ['nope'] } } });
    assert.deepEqual([bad.status, bad.body], [400, dockerd('link-local.json', 'POST /networks/lnet/connect', 1).body], 'dockerd\'s message (a 500 there)');
    assert.equal(await ok(lab, ['ps', '-aq']), before, 'no container made');
    await fails(lab, ['network', 'connect', '--link-local-ip', 'nope', 'n1', 'lle'], /Invalid link-local IP address: \[nope\]/);
    assert.equal(await inspect(lab, 'lle', '{{len .NetworkSettings.Networks}}'), '1', 'no endpoint made');
  });

  test('the stock docker CLI: run --link to a container made later on a user network, run --link-local-ip', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--dns', '203.0.113.10'] });
    await ok(lab, ['network', 'create', 'n1']);
    for (const [i, client] of installedClients().entries()) {
      const d = (args: string[]) => dockerOk(lab, client, args);
      await importBusybox(lab, client, `bb${i}`);
      // the CLI sends the link twice (HostConfig.Links and the network's EndpointsConfig.Links)
      await d(['run', '-d', '--name', `early${i}`, '--network', 'n1', '--link', `late${i}:lt`, '--link-local-ip', `169.254.20.${i + 1}`, `bb${i}`, 'sleep', '3600']);
      const before = await docker(lab, client, ['exec', `early${i}`, 'nslookup', 'lt']);
      assert.match(before.stdout + before.stderr, /NXDOMAIN/, `${client.name}: no target yet`);
      await d(['run', '-d', '--name', `late${i}`, '--network', 'n1', `bb${i}`, 'sleep', '3600']);
      const lateIp = await d(['inspect', '-f', '{{.NetworkSettings.Networks.n1.IPAddress}}', `late${i}`]);
      const looked = await docker(lab, client, ['exec', `early${i}`, 'nslookup', 'lt']);
      assert.match(looked.stdout, new RegExp(`Address:\\s+${lateIp.replace(/\./g, '\\.')}$`, 'm'), `${client.name}: ${looked.stdout}${looked.stderr}`);
      const netns = await d(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', `early${i}`]);
      const addrs = JSON.parse(await hostOk(lab, ['nsenter', `--net=${netns}`, 'ip', '-j', 'addr', 'show', 'dev', 'eth0'])) as { addr_info: { local: string; prefixlen: number }[] }[];
      assert.ok(addrs[0].addr_info.some((a) => `${a.local}/${a.prefixlen}` === `169.254.20.${i + 1}/16`), client.name);
      assert.equal(await d(['inspect', '-f', '{{json .NetworkSettings.Networks.n1.IPAMConfig.LinkLocalIPs}}', `early${i}`]), `["169.254.20.${i + 1}"]`);
    }
  });
});
