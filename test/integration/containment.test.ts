// Containment, as Docker gives it to every container: Docker's default capabilities (no
// CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_SYS_PTRACE …) for the process and for exec,
// no_new_privs, --cap-add / --cap-drop / --privileged as Docker's, berth's own paths (API
// socket, data-root, exec-root with every netns file) masked, and an image's root made the
// container's root by pivot_root (no chroot to climb out of). Each proven from inside a
// container, on the host's filesystem and on an image rootfs (busybox), through the CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { busyboxTar, docker, dockerOk, installedClients } from '../compat/docker-cli.js';
import { fails, inspect, ok, runSleeper } from './helpers.js';

const ECHO_SERVER = fileURLToPath(new URL('../lab/echo-server.js', import.meta.url));

/** Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
 *  NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP (what `docker run` shows). */
const DOCKER_DEFAULT = 0xa80425fbn;
const CAP_NET_ADMIN = 12n;
const CAP_NET_RAW = 13n;

const ROOTS = [
  { on: 'the host filesystem', args: [] as string[] },
  { on: 'an image rootfs', args: ['--image', 'bb'] },
];

/** The capability and no_new_privs lines of /proc/self/status, as numbers. */
function privileges(status: string): { eff: bigint; prm: bigint; bnd: bigint; inh: bigint; amb: bigint; nnp: number } {
  const field = (name: string): string => {
    const m = new RegExp(`^${name}:\\s*(\\S+)\\s*$`, 'm').exec(status);
    assert.ok(m, `no ${name} in ${status}`);
    return m[1]!;
  };
  const hex = (name: string) => BigInt(`0x${field(name)}`);
  return { eff: hex('CapEff'), prm: hex('CapPrm'), bnd: hex('CapBnd'), inh: hex('CapInh'), amb: hex('CapAmb'), nnp: Number(field('NoNewPrivs')) };
}

/** What --privileged gives: every capability of the kernel, as far as berthd has it (a
 *  machine may run the lab without some, CAP_SYS_RESOURCE say): the test's own bounding set. */
function allCaps(): bigint {
  return privileges(readFileSync('/proc/self/status', 'utf8')).bnd;
}

/** A static program for the classic chroot escape: chroot into a subdirectory (the cwd
 *  stays outside it), climb with "..", chroot "."; then reads `marker` from there. */
const ESCAPE_C = `
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
  mkdir("/tmp/jail", 0755);
  if (chroot("/tmp/jail") != 0) { perror("chroot"); return 2; }
  for (int i = 0; i < 64; i++) chdir("..");
  if (chroot(".") != 0) { perror("chroot ."); return 2; }
  FILE *f = fopen(argv[1], "r");
  if (!f) { printf("contained\\n"); return 0; }
  char line[200] = "";
  fgets(line, sizeof line, f);
  printf("escaped: %s", line);
  return 0;
}
`;

describe('containment: what a container cannot reach', { concurrency: false }, () => {
  let lab: Lab;
  let rootfs: string;
  let n = 0;
  const name = (what: string) => `${what}-${++n}`;

  before(async () => {
    lab = await Lab.create();
    await ok(lab, ['import', '-c', 'ENV PATH=/bin', busyboxTar(), 'bb']);
    // a --rootfs directory of our own: busybox and the escape program
    rootfs = join(lab.dir, 'rootfs');
    mkdirSync(rootfs);
    execFileSync('tar', ['-x', '-f', busyboxTar(), '-C', rootfs]);
    writeFileSync(join(lab.dir, 'escape.c'), ESCAPE_C);
    execFileSync('cc', ['-static', '-O2', '-o', join(rootfs, 'bin/escape'), join(lab.dir, 'escape.c')]);
    chmodSync(join(rootfs, 'bin/escape'), 0o755);
  });
  after(async () => {
    await lab?.destroy();
  });

  for (const root of ROOTS) {
    test(`on ${root.on}: the process and an exec have Docker's default capabilities and no_new_privs`, async () => {
      const own = privileges(await ok(lab, ['run', '--rm', ...root.args, '--', 'cat', '/proc/self/status']));
      assert.deepEqual(own, { eff: DOCKER_DEFAULT, prm: DOCKER_DEFAULT, bnd: DOCKER_DEFAULT, inh: 0n, amb: 0n, nnp: 1 });
      const c = await runSleeper(lab, name('caps'), root.args);
      try {
        const exec = privileges(await ok(lab, ['exec', c, 'cat', '/proc/self/status']));
        assert.deepEqual(exec, own, 'exec gets the container\'s set');
        const tty = privileges(await ok(lab, ['exec', '-t', c, 'cat', '/proc/self/status']));
        assert.deepEqual(tty, own, 'so does an exec with a terminal (forked by the shim)');
        const privileged = privileges(await ok(lab, ['exec', '--privileged', c, 'cat', '/proc/self/status']));
        assert.equal(privileged.eff, allCaps(), 'exec --privileged: every capability');
        assert.equal(privileged.bnd, allCaps());
      } finally {
        await ok(lab, ['rm', '-f', c]);
      }
    });

    test(`on ${root.on}: no capability beyond Docker's: no link change, no mount, no setns, no other process's root`, async () => {
      const mtu = await lab.berth(['run', '--rm', ...root.args, '--', 'ip', 'link', 'set', 'lo', 'mtu', '1300']);
      assert.notEqual(mtu.code, 0, 'changing a link needs CAP_NET_ADMIN');
      assert.match(mtu.stderr, /not permitted/i);
      const mount = await lab.berth(['run', '--rm', ...root.args, '--', 'mount', '-t', 'proc', 'proc', '/proc']);
      assert.notEqual(mount.code, 0, 'mounting needs CAP_SYS_ADMIN');
      assert.match(mount.stderr, /denied|not permitted/i);
      // another container's netns, through its process (same pid namespace: --pid host)
      const other = await runSleeper(lab, name('other'));
      try {
        const pid = await inspect(lab, other, '{{.State.Pid}}');
        const enter = await lab.berth(['run', '--rm', '--pid', 'host', ...root.args, '--', 'nsenter', '-t', pid, '-n', 'true']);
        assert.notEqual(enter.code, 0, `setns into ${other}'s netns: ${enter.stdout}`);
        assert.match(enter.stderr, /not permitted|denied/i);
        // the host root through /proc/1/root: init has more capabilities than we (ptrace rule)
        const host = await lab.berth(['run', '--rm', '--pid', 'host', ...root.args, '--', 'ls', '/proc/1/root/']);
        assert.notEqual(host.code, 0, `the host's root through /proc/1/root: ${host.stdout}`);
        assert.match(host.stderr, /denied/i);
      } finally {
        await ok(lab, ['rm', '-f', other]);
      }
    });
  }

  test('on the host filesystem: berthd\'s socket, data-root and exec-root (every netns file) are not there', async () => {
    const other = await runSleeper(lab, name('peer'));
    try {
      const netns = await inspect(lab, other, '{{.NetworkSettings.SandboxKey}}');
      assert.ok(netns.startsWith(lab.execRoot), `a netns file under the exec-root: ${netns}`);
      // seen from the lab host: all there
      const outside = await lab.inHost(['sh', '-c', `test -S ${lab.socket} && test -e ${netns} && ls -A ${lab.dataRoot} | wc -l`]);
      assert.equal(outside.code, 0);
      assert.notEqual(outside.stdout.trim(), '0');
      const script = [
        `test -S ${lab.socket} && echo socket-is-a-socket`,
        `test -e ${netns} && echo netns-file-there`,
        `echo data: $(ls -A ${lab.dataRoot})`,
        `echo exec: $(ls -A ${lab.execRoot})`,
        `touch ${lab.dataRoot}/x 2>/dev/null && echo data-writable`,
        `mkdir ${lab.execRoot}/x 2>/dev/null && echo exec-writable`,
        `nsenter --net=${netns} true 2>/dev/null && echo entered`,
        'exit 0',
      ].join('; ');
      assert.equal(await ok(lab, ['run', '--rm', '--', 'sh', '-c', script]), 'data:\nexec:');
      // the API through the socket's path: what sits there is no socket
      const connect = "require('net').connect(process.argv[1]).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(1); })";
      const api = await lab.berth(['run', '--rm', '--', 'node', '-e', connect, lab.socket]);
      assert.notEqual(api.code, 0, `berthd's socket answered: ${api.stdout}`);
      assert.match(api.stdout, /ECONNREFUSED|ENOENT/);
      // and an exec sees the same (it joins the container's mount namespace)
      assert.equal(await ok(lab, ['exec', other, 'sh', '-c', script]), 'data:\nexec:');
    } finally {
      await ok(lab, ['rm', '-f', other]);
    }
  });

  test('on a --rootfs: the host\'s root is gone (pivot_root), a chroot escape finds nothing', async () => {
    const marker = join(lab.dir, 'marker');
    writeFileSync(marker, 'host-root\n');
    // a chroot with CAP_SYS_CHROOT (Docker's default set) would let this climb to the host's /
    assert.equal(await ok(lab, ['run', '--rm', '--rootfs', rootfs, '--', '/bin/escape', marker]), 'contained');
    // nothing of the host's mount table is left in the container's
    const mountinfo = await ok(lab, ['run', '--rm', '--rootfs', rootfs, '--', 'cat', '/proc/self/mountinfo']);
    const mountPoints = mountinfo.split('\n').map((l) => l.split(' ')[4]);
    assert.equal(mountPoints[0], '/', 'the image is the root mount');
    assert.deepEqual(mountPoints.filter((m) => m?.startsWith(lab.dir) || m?.startsWith(rootfs)), [], 'no mount of the host\'s paths');
  });

  test('a service on the lab host\'s 127.0.0.1 is out of reach', async () => {
    await lab.spawnIn(lab.hostNs, ['node', ECHO_SERVER, String(lab.echoPort), '127.0.0.1']).waitForOutput('ready\n');
    assert.equal(await lab.echoFrom(lab.hostNs, 'tcp', '127.0.0.1'), '127.0.0.1', 'the lab host reaches it');
    const gateway = await ok(lab, ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge']);
    for (const target of ['127.0.0.1', gateway]) {
      const r = await lab.berth(['run', '--rm', '--image', 'bb', '--', 'nc', '-w', '2', target, String(lab.echoPort)]);
      assert.doesNotMatch(r.stdout, /from /, `a container reached the host's loopback service at ${target}`);
    }
  });

  test('--cap-add adds, --cap-drop drops, --privileged gives all; inspect shows what was asked', async () => {
    const status = async (args: string[]) => privileges(await ok(lab, ['run', '--rm', ...args, '--image', 'bb', '--', 'cat', '/proc/self/status']));
    assert.equal((await status(['--cap-add', 'NET_ADMIN'])).eff, DOCKER_DEFAULT | (1n << CAP_NET_ADMIN));
    assert.equal(await ok(lab, ['run', '--rm', '--cap-add', 'cap_net_admin', '--image', 'bb', '--', 'sh', '-c', 'ip link set lo mtu 1300 && cat /sys/class/net/lo/mtu']), '1300');
    assert.equal((await status(['--cap-drop', 'net_raw'])).eff, DOCKER_DEFAULT & ~(1n << CAP_NET_RAW));
    const ping = ['ping', '-c', '1', '-W', '2', '127.0.0.1'];
    await ok(lab, ['run', '--rm', '--image', 'bb', '--', ...ping]);
    const dropped = await lab.berth(['run', '--rm', '--cap-drop', 'NET_RAW', '--image', 'bb', '--', ...ping]);
    assert.notEqual(dropped.code, 0, 'ping without CAP_NET_RAW');
    assert.match(dropped.stderr, /not permitted|denied/i);
    assert.equal((await status(['--cap-drop', 'ALL', '--cap-add', 'chown'])).eff, 1n);
    assert.equal((await status(['--cap-add', 'ALL', '--cap-drop', 'CAP_CHOWN'])).eff, allCaps() & ~1n);
    const privileged = await status(['--privileged']);
    assert.equal(privileged.eff, allCaps());
    assert.equal(privileged.nnp, 0, 'no no_new_privs when privileged');
    assert.equal((await status(['--security-opt', 'no-new-privileges=false'])).nnp, 0);
    assert.equal((await status(['--security-opt', 'no-new-privileges'])).nnp, 1);

    const plain = await ok(lab, ['run', '-d', '--image', 'bb', '--', 'true']);
    assert.equal(await inspect(lab, plain, '{{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}} {{.HostConfig.Privileged}} {{json .HostConfig.SecurityOpt}}'), 'null null false null');
    const asked = await ok(lab, ['run', '-d', '--cap-add', 'net_admin', '--cap-drop', 'MKNOD', '--security-opt', 'no-new-privileges', '--image', 'bb', '--', 'true']);
    assert.equal(await inspect(lab, asked, '{{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}} {{.HostConfig.Privileged}} {{json .HostConfig.SecurityOpt}}'), '["net_admin"] ["MKNOD"] false ["no-new-privileges"]');
    const priv = await ok(lab, ['run', '-d', '--privileged', '--image', 'bb', '--', 'true']);
    assert.equal(await inspect(lab, priv, '{{.HostConfig.Privileged}}'), 'true');
    await ok(lab, ['rm', '-f', plain, asked, priv]);
  });

  for (const client of installedClients()) {
    test(`${client.name}: run --cap-add / --cap-drop / --privileged and exec --privileged as against dockerd`, async () => {
      const d = (args: string[]) => dockerOk(lab, client, args);
      const status = async (args: string[]) => privileges(await d(['run', '--rm', ...args, 'bb', 'cat', '/proc/self/status']));
      assert.equal((await status([])).eff, DOCKER_DEFAULT);
      assert.equal((await status(['--cap-add', 'net_admin', '--cap-drop', 'NET_RAW'])).eff, (DOCKER_DEFAULT | (1n << CAP_NET_ADMIN)) & ~(1n << CAP_NET_RAW));
      assert.equal((await status(['--privileged'])).eff, allCaps());
      const id = await d(['run', '-d', '--cap-add', 'NET_ADMIN', 'bb', 'sleep', '3600']);
      try {
        assert.equal(privileges(await d(['exec', id, 'cat', '/proc/self/status'])).eff, DOCKER_DEFAULT | (1n << CAP_NET_ADMIN));
        assert.equal(privileges(await d(['exec', '--privileged', id, 'cat', '/proc/self/status'])).eff, allCaps());
        // the CLI sends the name as it writes it (20.10 as given, 28 as CAP_…): shown as sent
        assert.match(await d(['inspect', '-f', '{{json .HostConfig.CapAdd}} {{.HostConfig.Privileged}}', id]), /^\["(CAP_)?NET_ADMIN"\] false$/);
      } finally {
        await d(['rm', '-f', id]);
      }
      const bad = await docker(lab, client, ['run', '--rm', '--cap-add', 'FOO', 'bb', 'true']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /invalid CapAdd: unknown capability: "CAP_FOO"/);
    });
  }

  test('an unknown capability or security option is refused as dockerd refuses it, nothing made', async () => {
    const before = await ok(lab, ['ps', '-aq']);
    await fails(lab, ['run', '--cap-add', 'FOO', '--image', 'bb', '--', 'true'], /^Error response from daemon: invalid CapAdd: unknown capability: "CAP_FOO"$/m);
    await fails(lab, ['run', '--cap-drop', 'cap_bar', '--image', 'bb', '--', 'true'], /invalid CapDrop: unknown capability: "CAP_BAR"/);
    await fails(lab, ['run', '--security-opt', 'no-new-privileges=maybe', '--image', 'bb', '--', 'true'], /invalid --security-opt 2: "no-new-privileges=maybe"/);
    await fails(lab, ['run', '--security-opt', 'nonsense', '--image', 'bb', '--', 'true'], /invalid --security-opt 1: "nonsense"/);
    const api = await lab.api('POST', '/containers/create', { Image: 'bb', Cmd: ['true'], HostConfig: { CapAdd: ['SYS_FOO'] } });
    assert.equal(api.status, 400);
    assert.deepEqual(api.body, { message: 'invalid CapAdd: unknown capability: "CAP_SYS_FOO"' });
    assert.equal(await ok(lab, ['ps', '-aq']), before, 'no container was made');
  });
});
