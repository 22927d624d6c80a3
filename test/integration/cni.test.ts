// berth as a CNI plugin (issue 15): berth-cni called the way libcni calls plugins
// (test/lab/cni-runtime.ts: CNI_* environment, config on stdin, chained plugins), on a
// netns made as a runtime makes one, in a lab with berthd. The attached netns gets berth's
// address, routes, names, isolation and published ports; the CNI reference plugins from
// Debian (tuning, firewall, bandwidth) chained after berth work on its prevResult.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { CniCallError, CniRuntime, type CniAttachment, type Conflist } from '../lab/cni-runtime.js';
import { ECHO_CLIENT, ECHO_SERVER, labFor, type Lab } from '../lab/lab.js';
import { eventually, hostOk, inspect, ok, pingFrom, runSleeper } from './helpers.js';

const BERTH_CNI = fileURLToPath(new URL('../../../bin/berth-cni', import.meta.url));
/** Debian's containernetworking-plugins */
const REFERENCE_PLUGINS = '/usr/lib/cni';

/** A plugin folder holding berth-cni as `berth`, as `berth-cni --install` makes it. */
function pluginDir(lab: Lab): string {
  const dir = join(lab.dir, 'cni-bin');
  if (!existsSync(dir)) {
    mkdirSync(dir);
    symlinkSync(BERTH_CNI, join(dir, 'berth'));
  }
  return dir;
}

function runtimeFor(lab: Lab, plugins: Record<string, unknown>[], opts: { cniVersion?: string; network?: string } = {}): CniRuntime {
  const conflist: Conflist = {
    cniVersion: opts.cniVersion ?? '1.0.0',
    name: opts.network ?? 'podnet',
    plugins: plugins.map((p) => (p.type === 'berth' ? { host: `unix://${lab.socket}`, ...p } : p)),
  };
  return new CniRuntime(lab.hostNs, [pluginDir(lab), REFERENCE_PLUGINS], conflist);
}

async function cniError(p: Promise<unknown>): Promise<CniCallError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof CniCallError, `expected a CNI error, got ${err === undefined ? 'success' : String(err)}`);
  return err;
}

async function inPod(lab: Lab, ns: string, argv: string[]): Promise<string> {
  const r = await lab.inNetns(ns, argv, { timeoutMs: 10_000 });
  assert.equal(r.code, 0, `${argv.join(' ')} in ${ns}: ${r.stderr}`);
  return r.stdout;
}

async function podPings(lab: Lab, ns: string, target: string): Promise<boolean> {
  return (await lab.inNetns(ns, ['ping', '-c1', '-W1', target], { timeoutMs: 5000 })).code === 0;
}

/** berth's view of the attachments: network inspect's containers on a network. */
async function attachedNames(lab: Lab, network: string): Promise<string[]> {
  const containers = JSON.parse(await ok(lab, ['network', 'inspect', '-f', '{{json .Containers}}', network])) as Record<string, { Name: string }>;
  return Object.values(containers).map((c) => c.Name).filter((n) => n.startsWith('cni-')).sort();
}

async function setUp(t: TestContext): Promise<{ lab: Lab; pod: CniAttachment }> {
  const lab = await labFor(t);
  await ok(lab, ['network', 'create', '--subnet', '172.30.0.0/24', 'podnet']);
  const ns = await lab.addRuntimeNetns('pod1');
  return { lab, pod: { containerId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', netns: ns, ifName: 'eth0', args: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'pod1']] } };
}

test('ADD attaches a runtime\'s netns to a berth network: address, routes, names both ways, isolation; CHECK; DEL leaves nothing and is idempotent', async (t) => {
  const { lab, pod } = await setUp(t);
  await ok(lab, ['network', 'create', 'othernet']);
  await runSleeper(lab, 'web', ['--network', 'podnet']);
  await runSleeper(lab, 'other', ['--network', 'othernet']);
  const cni = runtimeFor(lab, [{ type: 'berth', capabilities: { aliases: true } }]);
  const result = await cni.add({ ...pod, capabilityArgs: { aliases: { podnet: ['api'] } } });

  // the result: bridge, host end, the sandbox's interface; the address on the last; 1.0.0 has no ips[].version
  assert.equal(result.cniVersion, '1.0.0');
  assert.equal(result.interfaces.length, 3);
  const [bridge, hostEnd, inside] = result.interfaces;
  assert.match(bridge.name, /^br-[0-9a-f]{12}$/);
  assert.equal(inside.name, 'eth0');
  assert.equal(inside.sandbox, pod.netns);
  assert.match(inside.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.deepEqual(result.ips, [{ address: '172.30.0.3/24', gateway: '172.30.0.1', interface: 2 }], 'the address after web\'s');
  assert.deepEqual(result.routes, [{ dst: '0.0.0.0/0', gw: '172.30.0.1' }]);
  assert.deepEqual(result.dns.nameservers, ['127.0.0.11']);
  const links = await hostOk(lab, ['ip', '-j', 'link', 'show', hostEnd.name]);
  assert.equal(JSON.parse(links)[0].master, bridge.name, 'the host end is on the network\'s bridge');

  // in the netns, as the result says
  const addr = JSON.parse(await inPod(lab, pod.netns, ['ip', '-j', '-4', 'addr', 'show', 'eth0']));
  assert.equal(`${addr[0].addr_info[0].local}/${addr[0].addr_info[0].prefixlen}`, '172.30.0.3/24');
  assert.equal(JSON.parse(await inPod(lab, pod.netns, ['ip', '-j', 'link', 'show', 'eth0']))[0].address, inside.mac);
  assert.match(await inPod(lab, pod.netns, ['ip', 'route']), /^default via 172\.30\.0\.1 dev eth0/m);

  // names both ways, through berth's embedded resolver in the netns itself
  const webIp = await inspect(lab, 'web', '{{.NetworkSettings.Networks.podnet.IPAddress}}');
  assert.equal((await inPod(lab, pod.netns, ['dig', '+short', '@127.0.0.11', 'web'])).trim(), webIp);
  assert.ok(await podPings(lab, pod.netns, webIp), 'the pod reaches a berth container');
  assert.ok(await pingFrom(lab, 'web', 'pod1'), 'a berth container reaches the pod by its runtime name');
  assert.ok(await pingFrom(lab, 'web', 'api'), '… and by its alias');
  assert.equal((await ok(lab, ['exec', 'web', 'nslookup', '172.30.0.3'])).match(/name = (\S+)/)?.[1], 'pod1.', 'its address resolves back to the runtime\'s name');
  // isolation: another berth network is out of reach, as for berth's own containers
  const otherIp = await inspect(lab, 'other', '{{.NetworkSettings.Networks.othernet.IPAddress}}');
  assert.equal(await podPings(lab, pod.netns, otherIp), false, 'networks stay isolated from each other');
  assert.ok((await lab.echoFrom(pod.netns)).length > 0, 'the pod reaches the internet through berth\'s NAT');

  // berth's view: network inspect lists it; ps does not (it is the runtime's container); stop is refused
  assert.deepEqual(await attachedNames(lab, 'podnet'), ['cni-a1b2c3d4e5f6-eth0']);
  assert.doesNotMatch(await ok(lab, ['ps', '-a', '--format', '{{.Names}}']), /cni-/);
  const stop = await lab.berth(['stop', 'cni-a1b2c3d4e5f6-eth0']);
  assert.notEqual(stop.code, 0);
  assert.match(stop.stderr, /is a sandbox of another runtime attached through CNI: it cannot be stopped/);

  await cni.check(pod);
  // a second ADD of the same interface is refused
  const again = await cniError(cni.add(pod));
  assert.equal(again.error.code, 100);
  assert.match(again.error.msg ?? '', /already has interface eth0 on network podnet/);

  // CHECK sees what changed under it
  await inPod(lab, pod.netns, ['ip', 'addr', 'flush', 'dev', 'eth0']);
  const broken = await cniError(cni.check(pod));
  assert.equal(broken.error.code, 101);
  assert.match(broken.error.msg ?? '', /eth0 lacks its address 172\.30\.0\.3\/24/);

  await cni.del(pod);
  assert.equal((await lab.inNetns(pod.netns, ['ip', 'link', 'show', 'eth0'])).code, 1, 'its interface is gone from the netns');
  assert.deepEqual(await attachedNames(lab, 'podnet'), []);
  assert.equal(await pingFrom(lab, 'web', 'pod1'), false, 'its name is gone');
  // idempotent: again, and with the netns gone or not given
  await cni.del(pod);
  await cni.exec('DEL', cni.conflist.plugins[0], { ...pod, netns: '' });
  // the address is free again
  await runSleeper(lab, 'next', ['--network', 'podnet', '--ip', '172.30.0.3']);
});

test('portMappings publish through berth\'s port mapper; ips and mac are obeyed; CNI 0.4.0 results carry the family', async (t) => {
  const { lab, pod } = await setUp(t);
  const cni = runtimeFor(lab, [{ type: 'berth', capabilities: { portMappings: true, ips: true, mac: true } }], { cniVersion: '0.4.0' });
  const result = await cni.add({
    ...pod,
    capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], ips: ['172.30.0.50/24'], mac: '02:00:00:aa:bb:cc' },
  });
  assert.deepEqual(result.ips, [{ address: '172.30.0.50/24', gateway: '172.30.0.1', interface: 2, version: '4' }]);
  assert.equal(result.interfaces[2].mac, '02:00:00:aa:bb:cc');
  // a server in the pod on port 80, reached from the internet through the host's 8080
  await lab.spawnIn(pod.netns, ['node', ECHO_SERVER, '80', '0.0.0.0']).waitForOutput('ready\n');
  const r = await lab.inNetns(lab.internetNs, ['node', ECHO_CLIENT, 'tcp', lab.hostUplinkAddr, '8080', '3000'], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, r.stderr);
  // the internet side's own address on the uplink (topology.ts INTERNET_GATEWAY_ADDR): DNAT, no proxy, no SNAT
  assert.match(r.stdout, /^from 198\.51\.100\.1$/m, 'the pod sees the client\'s own address');
  // the runtime binds the host port itself (podman does): berth holds no socket on it
  assert.doesNotMatch(await hostOk(lab, ['ss', '-Htln', 'sport = :8080']), /8080/);
  // berth's books have it: a berth container cannot take it
  const taken = await lab.berth(['run', '-d', '-p', '8080:80', 'busybox', 'sleep', '60']);
  assert.notEqual(taken.code, 0);
  assert.match(taken.stderr, /port is already allocated/);
  await cni.del(pod);
  const after = await lab.inNetns(lab.internetNs, ['node', ECHO_CLIENT, 'tcp', lab.hostUplinkAddr, '8080', '1000'], { timeoutMs: 10_000 });
  assert.notEqual(after.code, 0, 'the port is unpublished with DEL');
});

test('plugins chained after berth get a valid prevResult: tuning, firewall and bandwidth (Debian\'s reference plugins) ADD, CHECK and DEL', async (t) => {
  const { lab, pod } = await setUp(t);
  const cni = runtimeFor(lab, [
    { type: 'berth' },
    { type: 'tuning', sysctl: { 'net.ipv4.conf.eth0.arp_announce': '2' } },
    { type: 'firewall', backend: 'iptables' },
    { type: 'bandwidth', ingressRate: 10_000_000, ingressBurst: 100_000, egressRate: 10_000_000, egressBurst: 100_000 },
  ]);
  const result = await cni.add(pod);
  assert.deepEqual(result.ips, [{ address: '172.30.0.2/24', gateway: '172.30.0.1', interface: 2 }], 'berth\'s result went through the chain');
  assert.equal((await inPod(lab, pod.netns, ['cat', '/proc/sys/net/ipv4/conf/eth0/arp_announce'])).trim(), '2', 'tuning set its sysctl in the netns');
  assert.match(await hostOk(lab, ['iptables', '-S', 'CNI-FORWARD']), /172\.30\.0\.2/, 'firewall allowed the pod\'s address');
  const hostEnd = result.interfaces[1].name;
  assert.match(await hostOk(lab, ['tc', 'qdisc', 'show', 'dev', hostEnd]), /tbf|ingress/, 'bandwidth shaped the host end');
  await cni.check(pod);
  assert.ok((await lab.echoFrom(pod.netns)).length > 0, 'the pod still reaches the internet through the chain');
  await cni.del(pod);
  assert.doesNotMatch(await hostOk(lab, ['iptables', '-S', 'CNI-FORWARD']), /172\.30\.0\.2/, 'firewall took its rule back');
  assert.deepEqual(await attachedNames(lab, 'podnet'), []);
});

test('bad input: one CNI error with the spec\'s code, and nothing made', async (t) => {
  const { lab, pod } = await setUp(t);
  const cni = runtimeFor(lab, [{ type: 'berth' }]);
  const plugin = cni.conflist.plugins[0];
  const version = await cni.version();
  assert.deepEqual(version.supportedVersions, ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);

  const cases: { what: string; call: () => Promise<unknown>; code: number; msg: RegExp }[] = [
    { what: 'an old version', call: () => runtimeFor(lab, [{ type: 'berth' }], { cniVersion: '0.2.0' }).add(pod), code: 1, msg: /CNI version 0\.2\.0 is not supported/ },
    { what: 'a network berth has not', call: () => runtimeFor(lab, [{ type: 'berth' }], { network: 'nosuchnet' }).add(pod), code: 7, msg: /berth has no network nosuchnet/ },
    { what: 'no CNI_NETNS', call: () => cni.exec('ADD', plugin, { ...pod, netns: '' }), code: 4, msg: /missing environment variable\(s\): CNI_NETNS/ },
    { what: 'a netns that is not there', call: () => cni.add({ ...pod, netns: '/run/netns/nosuch' }), code: 4, msg: /no network namespace at \/run\/netns\/nosuch/ },
    { what: 'a bad interface name', call: () => cni.add({ ...pod, ifName: 'a/b' }), code: 4, msg: /CNI_IFNAME: a\/b is not a valid interface name/ },
    { what: 'an unknown CNI_ARGS key', call: () => cni.add({ ...pod, args: [['FOO', 'bar']] }), code: 2, msg: /CNI_ARGS: unknown key FOO=bar/ },
    { what: 'an address outside the subnet', call: () => runtimeFor(lab, [{ type: 'berth', capabilities: { ips: true } }]).add({ ...pod, capabilityArgs: { ips: ['10.9.9.9/24'] } }), code: 7, msg: /does not belong to any of this network's subnets/ },
    { what: 'a bad port', call: () => runtimeFor(lab, [{ type: 'berth', capabilities: { portMappings: true } }]).add({ ...pod, capabilityArgs: { portMappings: [{ hostPort: 70000, containerPort: 80 }] } }), code: 7, msg: /hostPort 70000 is not a port/ },
    { what: 'CHECK before 0.4.0', call: () => runtimeFor(lab, [{ type: 'berth' }], { cniVersion: '0.3.1' }).check(pod), code: 1, msg: /CHECK is not part of CNI 0\.3\.1/ },
  ];
  for (const c of cases) {
    const err = await cniError(c.call());
    assert.equal(err.error.code, c.code, `${c.what}: ${err.message}`);
    assert.match(err.error.msg ?? '', c.msg, c.what);
  }
  // not JSON at all
  const garbage = await lab.inNetns(lab.hostNs, [join(lab.dir, 'cni-bin', 'berth')], { input: '{nope', env: { CNI_COMMAND: 'ADD' } });
  assert.equal(garbage.code, 1);
  assert.equal(JSON.parse(garbage.stdout).code, 6);
  // a port taken: refused whole, the address given back
  await ok(lab, ['run', '-d', '--name', 'holder', '--network', 'podnet', '-p', '9090:80', 'busybox', 'sleep', '60']);
  const busy = await cniError(runtimeFor(lab, [{ type: 'berth', capabilities: { portMappings: true } }]).add({ ...pod, capabilityArgs: { portMappings: [{ hostPort: 9090, containerPort: 80 }] } }));
  assert.equal(busy.error.code, 100);
  assert.match(busy.error.msg ?? '', /port is already allocated/);
  assert.deepEqual(await attachedNames(lab, 'podnet'), []);
  assert.equal((await lab.inNetns(pod.netns, ['ip', 'link', 'show', 'eth0'])).code, 1, 'nothing was left in the netns');
  // the refused ADD held no address: the one it had is free
  const refused = busy.error.msg ?? '';
  assert.ok(refused);
  await runSleeper(lab, 'taker', ['--network', 'podnet', '--ip', '172.30.0.3']);
  await cni.add(pod);
  await cni.del(pod);
});

test('berthd down: ADD and DEL say "try again later" (11), STATUS 50; attachments survive a berthd restart; GC removes what the runtime no longer lists', async (t) => {
  const { lab, pod } = await setUp(t);
  const cni = runtimeFor(lab, [{ type: 'berth' }], { cniVersion: '1.1.0' });
  await cni.status();
  await cni.add(pod);
  const pod2 = { ...pod, containerId: 'ffeeddccbbaa99887766554433221100', netns: await lab.addRuntimeNetns('pod2'), args: [['K8S_POD_NAME', 'pod2']] as [string, string][] };
  await cni.add(pod2);

  await lab.stopDaemon();
  const t0 = Date.now();
  const down = await cniError(cni.add({ ...pod, containerId: '0123456789abcdef0123456789abcdef', netns: await lab.addRuntimeNetns('pod3') }));
  assert.equal(down.error.code, 11);
  assert.match(down.error.msg ?? '', /berthd is not running at unix:\/\/.*berth\.sock/);
  assert.ok(Date.now() - t0 < 10_000, 'at once, not after a timeout');
  assert.equal((await cniError(cni.status())).error.code, 50);
  assert.equal((await cniError(cni.del(pod2))).error.code, 11);

  await lab.startDaemon();
  await runSleeper(lab, 'web', ['--network', 'podnet']);
  assert.ok(await pingFrom(lab, 'web', 'pod1'), 'the attachment is there after the restart, with its name');
  await cni.check(pod);
  assert.ok(await podPings(lab, pod.netns, await inspect(lab, 'web', '{{.NetworkSettings.Networks.podnet.IPAddress}}')));

  // the runtime lost pod2 (its netns deleted, no DEL) while berthd was down: gone at start-up
  await lab.stopDaemon();
  await hostOk(lab, ['ip', 'netns', 'delete', pod2.netns.split('/').pop()!]);
  await lab.startDaemon();
  assert.deepEqual(await attachedNames(lab, 'podnet'), ['cni-a1b2c3d4e5f6-eth0']);

  // GC: the runtime lists only pod3's attachment, which berth has not: pod1's goes
  const errors = await cni.gc([{ containerId: '0123456789abcdef0123456789abcdef', ifName: 'eth0' }]);
  assert.deepEqual(errors, []);
  assert.deepEqual(await attachedNames(lab, 'podnet'), []);
  await eventually('pod1\'s name is gone', async () => !(await pingFrom(lab, 'web', 'pod1')));
  await cni.del(pod);
});
