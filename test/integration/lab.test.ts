// Proves the test lab itself: its wiring, its echo server, its isolation and its teardown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { etcdctl } from '../lab/etcd.js';
import { DAEMON_PATH, Lab, LabProcess, withLab } from '../lab/lab.js';
import { labProcesses, mountsUnder, netnsInode } from '../lab/teardown.js';
import { run, runOk, sleep } from '../lab/exec.js';

const noDaemon = { startDaemon: false };

test('the lab host and the internet reach each other over the uplink', async (t) => {
  await withLab(t, noDaemon, async (lab) => {
    const out = await lab.inHost(['ping', '-c', '1', '-W', '2', lab.internetAddr]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const back = await lab.inInternet(['ping', '-c', '1', '-W', '2', lab.hostUplinkAddr]);
    assert.equal(back.code, 0, back.stdout + back.stderr);
  });
});

test('the echo server reports the lab host uplink address as the source, over tcp and udp', async (t) => {
  await withLab(t, noDaemon, async (lab) => {
    assert.equal(await lab.echoFrom(lab.hostNs, 'tcp'), '198.51.100.2');
    assert.equal(await lab.echoFrom(lab.hostNs, 'udp'), '198.51.100.2');
  });
});

test('the internet has no route back to container-style addresses', async (t) => {
  await withLab(t, noDaemon, async (lab) => {
    const route = await lab.inInternet(['ip', 'route', 'get', '172.17.0.1']);
    assert.notEqual(route.code, 0, `unexpected route: ${route.stdout}`);
    assert.match(route.stderr, /unreachable/i);
    const ping = await lab.inInternet(['ping', '-c', '1', '-W', '1', '172.17.0.1']);
    assert.notEqual(ping.code, 0);
  });
});

test('the lab host starts with no interface but lo and its uplink', async (t) => {
  await withLab(t, noDaemon, async (lab) => {
    const links = JSON.parse(await runOk(['ip', '-j', '-n', lab.hostNs.split('/').pop() ?? '', 'link'])) as { ifname: string }[];
    assert.deepEqual(links.map((l) => l.ifname).sort(), ['lo', 'uplink0']);
  });
});

test('destroy removes the lab namespaces, its mounts, its processes and its dir', async () => {
  const lab = await Lab.create(noDaemon);
  // Leave behind what a daemon would: a sandbox netns bind-mounted under the exec-root,
  // a process living in it, a process mentioning the lab dir, and a tmpfs.
  const sandbox = join(lab.execRoot, 'sandbox1');
  writeFileSync(sandbox, '');
  await runOk(['unshare', `--net=${sandbox}`, 'true']);
  const sleeper = lab.spawnIn(sandbox, ['sleep', '600']);
  await runOk(['mkdir', '-p', join(lab.dir, 'shm')]);
  await runOk(['mount', '-t', 'tmpfs', 'tmpfs', join(lab.dir, 'shm')]);
  const shim = await runOk(['bash', '-c', `exec -a "shim ${lab.dir}" sleep 600 >/dev/null 2>&1 & echo $!`]);
  const inodes = new Set([netnsInode(sandbox), netnsInode(lab.hostNs), netnsInode(lab.internetNs)].map(Number));
  assert.ok(labProcesses(lab.dir, inodes).length >= 3, 'the lab has its echo server, sleeper and shim');

  await lab.destroy();

  assert.equal(sleeper.running, false);
  assert.equal(existsSync(`/proc/${shim.trim()}/cmdline`) && !(await isZombie(shim.trim())), false, 'shim killed');
  assert.deepEqual(labProcesses(lab.dir, inodes), []);
  assert.deepEqual(mountsUnder(lab.dir), []);
  const netns = await runOk(['ip', 'netns', 'list']);
  assert.doesNotMatch(netns, new RegExp(lab.name));
  assert.equal(existsSync(lab.dir), false);
});

async function isZombie(pid: string): Promise<boolean> {
  const r = await run(['cat', `/proc/${pid}/stat`]);
  return r.code !== 0 || / Z /.test(r.stdout);
}

test('berthd started by the lab answers /_ping on its unix socket', { skip: !existsSync(DAEMON_PATH) && 'berthd not built yet' }, async (t) => {
  await withLab(t, {}, async (lab) => {
    const res = await lab.api('GET', '/_ping');
    assert.equal(res.status, 200);
    await lab.restartDaemon();
    assert.equal((await lab.api('GET', '/_ping')).status, 200);
    await lab.killDaemon();
    await assert.rejects(lab.api('GET', '/_ping'));
  });
});

const IN_LAB = fileURLToPath(new URL('../../../scripts/in-lab.sh', import.meta.url));
const HOLDER = fileURLToPath(new URL('../lab/lab-holder.js', import.meta.url));

/** Pids (as we see them) of the processes below root whose command line contains text. */
function descendantsMatching(root: number, text: string): number[] {
  const parentOf = (pid: number): number => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  };
  const found: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) continue;
      for (let p = Number(name); p > 1; p = parentOf(p)) if (p === root) found.push(Number(name));
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

test('a lab world killed with -9 takes its namespaces and processes with it', async () => {
  const world = new LabProcess(['bash', IN_LAB, 'node', HOLDER]);
  try {
    await world.waitForOutput('ready', 20_000);
    const worldPid = world.child.pid ?? 0;
    const [echoPid] = descendantsMatching(worldPid, 'echo-server.js');
    assert.ok(echoPid, 'the inner lab runs its echo server');
    // A veth pair whose far end sits in the inner lab's internet netns: it can only go away
    // when that netns is destroyed.
    await runOk(['ip', 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1', 'netns', String(echoPid)]);
    await world.stop('SIGKILL');
    let links = '';
    for (let i = 0; i < 200 && /probe0/.test((links = await runOk(['ip', '-o', 'link']))); i++) await sleep(50);
    assert.doesNotMatch(links, /probe0/, 'the inner netns was destroyed');
    assert.deepEqual(descendantsMatching(worldPid, 'echo-server.js'), []);
  } finally {
    await world.stop('SIGKILL');
    await run(['ip', 'link', 'del', 'probe0']);
  }
});

test('the internet answers DNS for its names and NXDOMAIN for others', async (t) => {
  await withLab(t, noDaemon, async (lab) => {
    const dig = (name: string) => lab.inHost(['dig', '+short', '+time=2', '+tries=1', `@${lab.internetDns}`, name, 'A']);
    assert.equal((await dig('echo.internet.test')).stdout.trim(), '203.0.113.10');
    const nx = await lab.inHost(['dig', '+time=2', '+tries=1', `@${lab.internetDns}`, 'nowhere.test', 'A']);
    assert.match(nx.stdout, /status: NXDOMAIN/);
    assert.match(lab.internetDnsLog(), /query echo\.internet\.test 1 from 198\.51\.100\.2/);
  });
});

test('lan hosts reach the lab host over the lan bridge, and destroy removes them', async () => {
  const lab = await Lab.create(noDaemon);
  const a = await lab.addLanHost('a');
  const b = await lab.addLanHost('b');
  assert.deepEqual([a.addr, b.addr], ['198.18.0.2', '198.18.0.3']);
  assert.equal((await lab.inNetns(a.ns, ['ping', '-c', '1', '-W', '2', '198.18.0.1'])).code, 0);
  assert.equal((await lab.inNetns(a.ns, ['ping', '-c', '1', '-W', '2', b.addr])).code, 0);
  assert.deepEqual([a.addr6, b.addr6], ['2001:db8:18::2', '2001:db8:18::3']);
  for (const to of ['2001:db8:18::1', b.addr6]) {
    assert.equal((await lab.inNetns(a.ns, ['ping', '-6', '-c', '1', '-W', '2', to])).code, 0, `lan host → ${to} over IPv6`);
  }
  await lab.destroy();
  assert.doesNotMatch(await runOk(['ip', 'netns', 'list']), new RegExp(lab.name));
});

test('the internet speaks IPv6 too: the lab host reaches it over its uplink, and its echo server answers both families', async (t) => {
  await withLab(t, noDaemon, async (lab) => {
    assert.equal((await lab.inHost(['ping', '-6', '-c', '1', '-W', '2', lab.internetAddr6])).code, 0);
    assert.equal(await lab.echoFrom(lab.hostNs, 'tcp', lab.internetAddr6), lab.hostUplinkAddr6);
    assert.equal(await lab.echoFrom(lab.hostNs, 'udp', lab.internetAddr6), lab.hostUplinkAddr6);
    assert.equal(await lab.echoFrom(lab.hostNs, 'udp'), lab.hostUplinkAddr, 'IPv4 clients are seen by their plain address');
  });
});

test('the switched LAN: its hosts and router answer on eth1 of the lab host, and destroy removes it all', async () => {
  const lab = await Lab.create(noDaemon);
  const lan = await lab.addLan();
  const a = await lab.addHostOnLan('a');
  const b = await lab.addHostOnLan('b');
  assert.deepEqual([a.addr, b.addr, lan.router, lan.parent], ['198.18.1.2', '198.18.1.3', '198.18.1.1', 'eth1']);
  for (const to of [lan.router, a.addr, b.addr]) {
    assert.equal((await lab.inHost(['ping', '-c', '1', '-W', '2', '-I', 'eth1', to])).code, 0, `lab host → ${to}`);
  }
  assert.equal((await lab.inNetns(a.ns, ['ping', '-c', '1', '-W', '2', b.addr])).code, 0);
  for (const to of [lan.router6, b.addr6]) {
    assert.equal((await lab.inNetns(a.ns, ['ping', '-6', '-c', '1', '-W', '2', to])).code, 0, `${a.addr6} → ${to} over IPv6`);
  }
  const [eth1] = JSON.parse((await lab.inHost(['ip', '-j', '-d', 'link', 'show', 'eth1'])).stdout);
  assert.equal(eth1.master, undefined, 'eth1 is a plain interface of the lab host, no bridge port');
  await lab.destroy();
  assert.doesNotMatch(await runOk(['ip', 'netns', 'list']), new RegExp(lab.name));
});

test('a test file that leaves a lab (and its berthd) behind still ends, and the lab is destroyed', async () => {
  const fixture = fileURLToPath(new URL('../lab/leaky-lab.fixture.js', import.meta.url));
  // a test run of its own: not a child of this one (NODE_TEST_CONTEXT would make it one)
  const r = await run(['env', '-u', 'NODE_TEST_CONTEXT', 'node', '--test', '--test-reporter=tap', fixture], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `the file ended by itself: ${r.stdout}${r.stderr}`);
  const dir = /lab-dir (\S+)/.exec(r.stdout)?.[1];
  assert.ok(dir, r.stdout);
  assert.equal(existsSync(dir), false, 'its lab was destroyed');
});

test('a lab runs a real etcd (v3 API) in its host netns, reached from there, stopped by destroy', async () => {
  const lab = await Lab.create(noDaemon);
  const etcd = await lab.startEtcd();
  assert.equal(etcd.endpoint, 'http://127.0.0.1:2379');
  assert.equal((await etcdctl(etcd, ['put', '/berth/probe', 'hello'])).stdout.trim(), 'OK');
  assert.equal((await etcdctl(etcd, ['get', '--print-value-only', '/berth/probe'])).stdout.trim(), 'hello');
  const outside = await run(['node', '-e', "require('net').connect(2379,'127.0.0.1').on('connect',()=>process.exit(3)).on('error',(e)=>{console.log(e.code);process.exit(0)})"], { timeoutMs: 5_000 });
  assert.equal(outside.stdout.trim(), 'ECONNREFUSED', 'not reachable from outside the lab host');
  await lab.destroy();
  assert.equal(etcd.process.running, false, 'etcd stopped with the lab');
});
