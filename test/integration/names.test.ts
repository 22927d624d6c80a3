import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor } from '../lab/lab.js';
import { fails, hostOk, inspect, ok, pingFrom, runSleeper } from './helpers.js';

// Seed scenarios 17, 19, 20: each container's hostname, hosts and resolv.conf, and
// legacy links on the default bridge.

describe('per-container files and links', { concurrency: false }, () => {
  test('hostname, hosts and resolv.conf are the container\'s own files, visible in mount', async (t) => {
    const lab = await labFor(t);
    const id = await runSleeper(lab, 'f1', ['--add-host', 'db.example:192.0.2.9']);
    assert.equal(await ok(lab, ['exec', 'f1', 'cat', '/etc/hostname']), id.slice(0, 12));
    assert.equal(await ok(lab, ['exec', 'f1', 'hostname']), id.slice(0, 12));
    const hosts = await ok(lab, ['exec', 'f1', 'cat', '/etc/hosts']);
    assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m);
    assert.match(hosts, /^::1\tlocalhost ip6-localhost ip6-loopback$/m);
    assert.match(hosts, /^192\.0\.2\.9\tdb\.example$/m);
    assert.match(hosts, new RegExp(`^172\\.17\\.0\\.2\\t${id.slice(0, 12)} f1$`, 'm'));
    const mounts = await ok(lab, ['exec', 'f1', 'cat', '/proc/self/mountinfo']);
    for (const f of ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']) assert.ok(mounts.includes(` ${f} `), `${f} is a mount`);
    // the host's resolv.conf minus localhost servers (the lab host has none left: Docker's fallback)
    const resolv = await ok(lab, ['exec', 'f1', 'cat', '/etc/resolv.conf']);
    assert.doesNotMatch(resolv, /nameserver 127\./);
    assert.match(resolv, /^nameserver /m);
  });

  test('-h, --dns, --dns-search and --dns-opt shape the files; edits do not survive a restart', async (t) => {
    const lab = await labFor(t);
    await runSleeper(lab, 'f2', ['-h', 'web01', '--dns', '192.0.2.53', '--dns-search', 'corp.test', '--dns-opt', 'ndots:2']);
    assert.equal(await ok(lab, ['exec', 'f2', 'hostname']), 'web01');
    assert.equal(await ok(lab, ['exec', 'f2', 'cat', '/etc/resolv.conf']), 'nameserver 192.0.2.53\nsearch corp.test\noptions ndots:2');
    assert.match(await ok(lab, ['exec', 'f2', 'cat', '/etc/hosts']), /^172\.17\.0\.2\tweb01 f2$/m);
    await ok(lab, ['exec', 'f2', 'sh', '-c', 'echo "192.0.2.99 edited" >> /etc/hosts']);
    assert.match(await ok(lab, ['exec', 'f2', 'cat', '/etc/hosts']), /edited/);
    await ok(lab, ['stop', '-t', '1', 'f2']);
    await ok(lab, ['start', 'f2']);
    assert.doesNotMatch(await ok(lab, ['exec', 'f2', 'cat', '/etc/hosts']), /edited/);
    await fails(lab, ['run', '-d', '--add-host', 'nocolon', '--', 'sleep', '1'], /--add-host/);
  });

  test('on a user-defined network: nameserver 127.0.0.11 only, --dns servers become the resolver\'s upstreams, --dns-search and --dns-opt as given', async (t) => {
    const lab = await labFor(t, { daemonArgs: ['--dns', '203.0.113.10'] });
    await ok(lab, ['network', 'create', 'u1']);
    await runSleeper(lab, 'own', ['--network', 'u1', '--dns', '192.0.2.250', '--dns-search', 'corp.test', '--dns-opt', 'edns0', '--dns-opt', 'ndots:3']);
    await runSleeper(lab, 'plain', ['--network', 'u1']);
    assert.equal(await ok(lab, ['exec', 'own', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\nsearch corp.test\noptions edns0 ndots:3');
    assert.equal(await ok(lab, ['exec', 'plain', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0');
    const ask = async (who: string, name: string) => (await lab.berth(['exec', who, 'dig', '+tries=1', '+time=4', '+short', name])).stdout.trim();
    // names of the network answer for both; other names go to each one's upstream
    assert.equal(await ask('own', 'plain'), '172.18.0.3');
    assert.equal(await ask('plain', 'echo.internet.test'), '203.0.113.10');
    const viaOwn = await lab.berth(['exec', 'own', 'dig', '+tries=1', '+time=4', 'echo.internet.test']);
    assert.match(viaOwn.stdout, /status: SERVFAIL/, 'its --dns server (unreachable) is asked, not the daemon\'s');
  });

  test('container mode shares the files; host mode keeps the host files and its own hostname only with -h', async (t) => {
    const lab = await labFor(t);
    await runSleeper(lab, 'base', ['-h', 'basehost']);
    await runSleeper(lab, 'share', ['--network', 'container:base']);
    assert.equal(await ok(lab, ['exec', 'share', 'cat', '/etc/hostname']), 'basehost');
    assert.equal(await ok(lab, ['exec', 'share', 'cat', '/etc/hosts']), await ok(lab, ['exec', 'base', 'cat', '/etc/hosts']));
    await runSleeper(lab, 'hostly', ['--network', 'host']);
    assert.equal(await ok(lab, ['exec', 'hostly', 'cat', '/etc/resolv.conf']), await hostOk(lab, ['cat', '/etc/resolv.conf']));
    assert.equal(await ok(lab, ['exec', 'hostly', 'cat', '/etc/hosts']), await hostOk(lab, ['cat', '/etc/hosts']));
  });

  test('--link NAME:ALIAS on the default bridge: hosts entries and Docker\'s variables', async (t) => {
    const lab = await labFor(t);
    const d1 = await runSleeper(lab, 'd1', ['--expose', '80', '-e', 'MODE=prod']);
    await runSleeper(lab, 'd3', ['--link', 'd1:web']);
    const hosts = await ok(lab, ['exec', 'd3', 'cat', '/etc/hosts']);
    assert.match(hosts, new RegExp(`^172\\.17\\.0\\.2\\tweb ${d1.slice(0, 12)} d1$`, 'm'));
    assert.ok(await pingFrom(lab, 'd3', 'web'));
    const env = (await ok(lab, ['exec', 'd3', 'env'])).split('\n').filter((l) => l.startsWith('WEB_')).sort();
    assert.deepEqual(env, [
      'WEB_ENV_MODE=prod',
      'WEB_NAME=/d3/web',
      'WEB_PORT=tcp://172.17.0.2:80',
      'WEB_PORT_80_TCP=tcp://172.17.0.2:80',
      'WEB_PORT_80_TCP_ADDR=172.17.0.2',
      'WEB_PORT_80_TCP_PORT=80',
      'WEB_PORT_80_TCP_PROTO=tcp',
    ]);
    await fails(lab, ['run', '-d', '--link', 'nosuch:x', '--', 'sleep', '1'], /No such container: nosuch/);
    assert.equal(await inspect(lab, 'd3', '{{join .HostConfig.Links ","}}'), '/d1:/d3/web');
  });
});
