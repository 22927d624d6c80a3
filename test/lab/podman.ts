// Podman confined to a lab (issue 15): its storage, run dir, CNI config and plugin folder
// all in the lab's dir, its CNI backend calling berth-cni (linked as the plugin "berth"),
// run in the lab host's netns, where it binds published ports and runs the plugins. For
// the podman integration test and the demo.
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runOk } from './exec.js';
import type { Lab } from './lab.js';

const BERTH_CNI = fileURLToPath(new URL('../../../bin/berth-cni', import.meta.url));

/** Podman confined to the lab: its storage, run dir, CNI config and plugin folders all in the lab's dir. */
export class LabPodman {
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
    writeFileSync(this.conflistPath(name), JSON.stringify(conflist, null, 2));
  }

  conflistPath(name: string): string {
    return join(this.dir, 'net.d', `${name}.conflist`);
  }

  /** podman in the lab host's netns (where it binds published ports and runs the plugins). */
  run(args: string[]): ReturnType<typeof run> {
    const argv = ['podman', '--root', join(this.dir, 'root'), '--runroot', join(this.dir, 'run'), '--storage-driver', 'vfs', '--tmpdir', join(this.dir, 'tmp'), ...args];
    return this.lab.inHost(argv, { env: { CONTAINERS_CONF: join(this.dir, 'containers.conf') }, timeoutMs: 60_000 });
  }

  async ok(args: string[]): Promise<string> {
    const r = await this.run(args);
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }
}
