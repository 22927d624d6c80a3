// berth as a CNI plugin under a real runtime (issue 15): Podman 4.3 (Debian) with its CNI
// backend and a conflist whose plugin is berth. Podman makes the netns and calls berth-cni;
// its containers get berth endpoints: they and berth's containers reach each other by
// name, -p publishes through berth's port mapper, and `podman rm` leaves nothing behind
// (the lab's consistency check at the end looks).
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { run, runOk } from '../lab/exec.js';
import { labFor, type Lab } from '../lab/lab.js';
import { hostOk, ok, pingFrom, runSleeper } from './helpers.js';

const BERTH_CNI = fileURLToPath(new URL('../../../bin/berth-cni', import.meta.url));

/** Podman confined to the lab: its storage, run dir, CNI config and plugin folders all in the lab's dir. */
class LabPodman {
  constructor(private readonly lab: Lab, private readonly dir: string) {}

  static async create(lab: Lab): Promise<LabPodman> {
    const dir = join(lab.dir, 'podman');
    for (const d of ['bin', 'net.d', 'rootfs/bin', 'rootfs/www']) mkdirSync(join(dir, d), { recursive: true });
    symlinkSync(BERTH_CNI, join(dir, 'bin', 'berth'));
    writeFileSync(join(dir, 'containers.conf'), [
      '[network]', 'network_backend = "cni"', `cni_plugin_dirs = ["${join(dir, 'bin')}"]`, `network_config_dir = "${join(dir, 'net.d')}"`,
      '[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', `events_logfile_path = "${join(dir, 'events.log')}"`, '',
    ].join('\n'));
    // crun wants a cgroup file system at /sys/fs/cgroup: the lab world's fresh sysfs has none
    if ((await runOk(['stat', '-fc', '%T', '/sys/fs/cgroup'])).trim() === 'sysfs') await runOk(['mount', '-t', 'cgroup2', 'none', '/sys/fs/cgroup']);
    // an image of one static busybox and a page to serve
    copyFileSync('/bin/busybox', join(dir, 'rootfs/bin/busybox'));
    chmodSync(join(dir, 'rootfs/bin/busybox'), 0o755);
    for (const c of ['sh', 'ping', 'nslookup', 'httpd', 'sleep', 'ip', 'cat']) symlinkSync('busybox', join(dir, 'rootfs/bin', c));
    writeFileSync(join(dir, 'rootfs/www/index.html'), 'hello from podman\n');
    await runOk(['tar', '-C', join(dir, 'rootfs'), '-cf', join(dir, 'rootfs.tar'), '.']);
    const podman = new LabPodman(lab, dir);
    await podman.ok(['import', join(dir, 'rootfs.tar'), 'localhost/bb']);
    return podman;
  }

  /** A CNI network for podman whose one plugin is berth, attaching to berth's network of the same name. */
  addNetwork(name: string): void {
    const conflist = {
      cniVersion: '1.0.0',
      name,
      plugins: [{ type: 'berth', host: `unix://${this.lab.socket}`, capabilities: { portMappings: true, aliases: true, ips: true, mac: true } }],
    };
    writeFileSync(join(this.dir, 'net.d', `${name}.conflist`), JSON.stringify(conflist, null, 2));
  }

  /** podman in the lab host's netns (where it binds published ports and runs the plugins). */
  run(args: string[]): ReturnType<typeof run> {
    const argv = ['podman', '--root', join(this.dir, 'root'), '--runroot', join(this.dir, 'run'), '--storage-driver', 'vfs', '--tmpdir', join(this.dir, 'tmp'), ...args];
    return this.lab.inHost(argv, { env: { CONTAINERS_CONF: join(this.dir, 'containers.conf') }, timeoutMs: 60_000 });
  }

  async ok(args: string[]): Promise<string> {
    const r = await this.run(args);
    assert.equal(r.code, 0, `podman ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }
}

async function attached(lab: Lab, network: string): Promise<string[]> {
  const containers = JSON.parse(await ok(lab, ['network', 'inspect', '-f', '{{json .Containers}}', network])) as Record<string, { Name: string; IPv4Address: string }>;
  return Object.values(containers).filter((c) => c.Name.startsWith('cni-')).map((c) => c.IPv4Address).sort();
}

test('podman (CNI backend) runs containers on a berth network: names both ways, -p through berth, --ip and --mac-address, podman rm leaves nothing', async (t) => {
  const lab = await labFor(t);
  const podman = await LabPodman.create(lab);
  await ok(lab, ['network', 'create', '--subnet', '172.31.0.0/24', 'mynet']);
  podman.addNetwork('mynet');
  await runSleeper(lab, 'web', ['--network', 'mynet']);

  await podman.ok(['run', '-d', '--cgroups=disabled', '--network', 'mynet', '--name', 'podc', '-p', '8080:80', 'localhost/bb', 'httpd', '-f', '-p', '80', '-h', '/www']);
  await podman.ok(['run', '-d', '--cgroups=disabled', '--network', 'mynet', '--name', 'pinned', '--ip', '172.31.0.77', '--mac-address', '02:00:00:00:00:77', 'localhost/bb', 'sleep', '600']);
  assert.deepEqual(await attached(lab, 'mynet'), ['172.31.0.3/24', '172.31.0.77/24'], 'berth holds an endpoint for each podman container');
  // podman's own view of it: the address and MAC berth gave
  const pinned = JSON.parse(await podman.ok(['inspect', 'pinned', '--format', '{{json .NetworkSettings.Networks.mynet}}']));
  assert.equal(pinned.IPAddress, '172.31.0.77');
  assert.equal(pinned.MacAddress, '02:00:00:00:00:77');
  assert.equal(pinned.Gateway, '172.31.0.1');

  // names both ways: podman's containers use berth's resolver (its result's nameserver)
  assert.match(await podman.ok(['exec', 'podc', 'cat', '/etc/resolv.conf']), /^nameserver 127\.0\.0\.11$/m);
  assert.equal((await podman.run(['exec', 'podc', 'ping', '-c1', '-W2', 'web'])).code, 0, 'a podman container reaches a berth container by name');
  assert.ok(await pingFrom(lab, 'web', 'podc'), 'a berth container reaches a podman container by name');
  assert.equal((await podman.run(['exec', 'pinned', 'ping', '-c1', '-W2', 'podc'])).code, 0, 'podman containers reach each other by name through berth');

  // -p 8080:80 through berth's DNAT, from the internet
  const page = await lab.inInternet(['curl', '-sS', '--max-time', '5', `http://${lab.hostUplinkAddr}:8080/`]);
  assert.equal(page.stdout, 'hello from podman\n', page.stderr);
  // and from a berth container, by the host's address
  assert.match(await ok(lab, ['exec', 'web', 'wget', '-qO-', '-T', '5', `http://${lab.hostUplinkAddr}:8080/`]), /hello from podman/);

  await podman.ok(['rm', '-f', '-t', '0', 'podc', 'pinned']);
  assert.deepEqual(await attached(lab, 'mynet'), [], 'podman rm detached both');
  assert.equal((await lab.inInternet(['curl', '-sS', '--max-time', '2', `http://${lab.hostUplinkAddr}:8080/`])).code === 0, false, 'the port is gone with it');
  assert.equal((await hostOk(lab, ['ip', 'netns', 'list'])).split('\n').filter((l) => l.startsWith('netns-')).length, 0, 'podman deleted its netns');
  // the network is berth's alone again: it can go
  await ok(lab, ['rm', '-f', 'web']);
  await ok(lab, ['network', 'rm', 'mynet']);
});
