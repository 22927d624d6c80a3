// Inside a container, what every image expects (issue 10): a pid namespace of its own
// whose pid 1 is the command, a fresh /proc, a minimal /dev with a devpts of its own, a
// read-only /sys; --pid=host and --pid=container:NAME as Docker; nothing of a container
// outlives its init; exec joins the pid namespace; all of it across a berthd restart.
// Each on the host's filesystem and on an image rootfs (busybox), through the berth CLI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { sleep } from '../lab/exec.js';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DOCKER_28, busyboxTar, dockerFails, dockerOk } from '../compat/docker-cli.js';
import { fails, hostLinks, hostOk, inspect, ok } from './helpers.js';

const ROOTS = [
  { on: 'the host filesystem', args: [] as string[] },
  { on: 'an image rootfs', args: ['--image', 'bb'] },
];

// What dockerd 20.10 answers and shows, recorded by scripts/record-reference.sh (ids as <id>)
interface Answer { status: number; body: { message: string } }
const DOCKERD = JSON.parse(readFileSync(fileURLToPath(new URL('../../../test/fixtures/dockerd-20.10/pid-mode.json', import.meta.url)), 'utf8')) as {
  dev: string[]; devTty: string[]; createMissing: Answer; startStopped: Answer; startRemoved: Answer;
};
const DEV = DOCKERD.dev;

/** busybox ps is in the image and on the lab's host alike: the same columns in both. */
const PS = ['busybox', 'ps', '-o', 'pid,comm'];

/** PID → command, from `ps -o pid,comm` output (ps itself included, as busybox or ps). */
function processes(out: string): Map<number, string> {
  const rows = out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  return new Map(rows.map(([pid, comm]) => [Number(pid), comm]));
}

function countOf(ps: Map<number, string>, comm: string): number {
  return [...ps.values()].filter((c) => c === comm).length;
}

/** Live processes of the lab's host whose command line is exactly argv (zombies are not live). */
async function liveOnHost(lab: Lab, args: string): Promise<string[]> {
  const lines = (await hostOk(lab, ['ps', '-eo', 'stat=,args='])).split('\n').map((l) => l.trim());
  return lines.filter((l) => !l.startsWith('Z') && l.replace(/^\S+\s+/, '') === args);
}

describe('a container\'s pid namespace, /proc, /dev and /sys', { concurrency: false }, () => {
  let lab: Lab;
  let n = 0;
  const name = (what: string) => `${what}-${++n}`;

  before(async () => {
    lab = await Lab.create();
    await ok(lab, ['import', '-c', 'ENV PATH=/bin', busyboxTar(), 'bb']);
  });
  after(async () => {
    await lab?.destroy();
  });

  for (const root of ROOTS) {
    test(`on ${root.on}: ps and /proc show only the container's processes, pid 1 its command`, async () => {
      const ps = processes(await ok(lab, ['run', '--rm', ...root.args, '--', ...PS]));
      assert.deepEqual([...ps.keys()], [1], `ps is pid 1 and alone: ${[...ps]}`);
      // (exit 0 keeps sh from exec'ing its last command: it stays pid 1)
      const script = 'sleep 100 & echo $!; cat /proc/1/cmdline | tr "\\0" " "; echo; ls -d /proc/[0-9]*; exit 0';
      const [sleeper, cmdline, ...dirs] = (await ok(lab, ['run', '--rm', ...root.args, '--', 'sh', '-c', script])).split('\n');
      assert.equal(cmdline.trim(), `sh -c ${script}`);
      // pid 1 and the sleeper (the shell expands the glob before ls runs): nothing of the host
      assert.deepEqual(dirs, ['/proc/1', `/proc/${sleeper}`]);
    });

    test(`on ${root.on}: /dev holds exactly the minimal set, real devices, and a devpts of its own`, async () => {
      const plain = await ok(lab, ['run', '--rm', ...root.args, '--', 'ls', '-1', '/dev']);
      assert.deepEqual(plain.split('\n'), DEV);
      const devices = await ok(lab, ['run', '--rm', ...root.args, '--', 'sh', '-c',
        'for d in null zero full random urandom tty; do [ -c /dev/$d ] || echo "$d is not a device"; done; ' +
        'head -c 8 /dev/urandom | wc -c; echo x > /dev/full || echo full-is-full; ls /dev/pts; readlink /dev/ptmx; readlink /dev/fd']);
      assert.equal(devices, '8\nfull-is-full\nptmx\npts/ptmx\n/proc/self/fd', 'no host terminal in /dev/pts');
      // with a tty: console too, and the terminal is the first of the container's own devpts
      const tty = await ok(lab, ['run', '--rm', '-t', ...root.args, '--', 'sh', '-c', 'ls -1 /dev; tty; ls /dev/pts']);
      const lines = tty.split(/\r?\n/);
      assert.deepEqual(lines.slice(0, DEV.length + 1), DOCKERD.devTty);
      assert.deepEqual(lines.slice(DEV.length + 1).join(' ').split(/\s+/), ['/dev/pts/0', '0', 'ptmx']);
    });

    test(`on ${root.on}: /sys is read-only and shows the container's own interfaces`, async () => {
      const r = await lab.berth(['run', '--rm', ...root.args, '--', 'sh', '-c', 'ls /sys/class/net; echo probe > /sys/class/net/lo/ifalias']);
      assert.notEqual(r.code, 0, 'a write to /sys succeeded');
      assert.match(r.stderr, /Read-only file system/);
      assert.deepEqual(r.stdout.trim().split(/\s+/).sort(), ['eth0', 'lo']);
      // host networking: the host's sysfs, read-only all the same
      const host = await lab.berth(['run', '--rm', '--network', 'host', ...root.args, '--', 'sh', '-c', 'ls /sys/class/net; echo probe > /sys/class/net/lo/ifalias']);
      assert.match(host.stderr, /Read-only file system/);
      assert.deepEqual(host.stdout.trim().split(/\s+/).sort(), (await hostLinks(lab)).map((l) => l.ifname).sort());
    });

    test(`on ${root.on}: nothing of the container outlives its init, in every pid mode`, async () => {
      const target = name('keeper');
      await ok(lab, ['run', '-d', '--name', target, ...root.args, '--', 'sleep', '600']);
      // a child that began a session of its own too, but not in another container's
      // namespace: there it is the other init's, and berth has no cgroup to find it by
      const modes = [{ args: [], setsid: true }, { args: ['--pid', 'host'], setsid: true }, { args: ['--pid', `container:${target}`], setsid: false }];
      for (const [i, { args: mode, setsid }] of modes.entries()) {
        const left = `sleep ${1230 + i}`;
        const c = name('parent');
        // init waits for a word through the container's own /dev/shm, so the children are
        // seen alive before it exits: the test proves they were there and then gone
        const script = `${left} & ${setsid ? `setsid ${left} & ` : ''}exec sh -c 'until [ -e /dev/shm/go ]; do sleep 0.1; done'`;
        await ok(lab, ['run', '-d', '--name', c, ...mode, ...root.args, '--', 'sh', '-c', script]);
        for (let tries = 0; (await liveOnHost(lab, left)).length < (setsid ? 2 : 1); tries++) {
          assert.ok(tries < 100, `${mode.join('=') || 'private'}: the background children never started`);
          await sleep(100);
        }
        await ok(lab, ['exec', c, 'touch', '/dev/shm/go']);
        assert.equal(await ok(lab, ['wait', c]), '0');
        assert.deepEqual(await liveOnHost(lab, left), [], `${mode.join('=') || 'private'}: a background child outlived the container`);
      }
      await ok(lab, ['rm', '-f', target]);
    });

    test(`on ${root.on}: --pid=host sees the lab's processes, --pid=container:NAME the other container's`, async () => {
      const host = await ok(lab, ['run', '--rm', '--pid', 'host', ...root.args, '--', 'cat', '/proc/1/cmdline']);
      assert.match(host, /in-lab/, 'pid 1 is the lab world\'s init');
      const target = name('target');
      await ok(lab, ['run', '-d', '--name', target, ...root.args, '--', 'sleep', '600']);
      const seen = processes(await ok(lab, ['run', '--rm', '--pid', `container:${target}`, ...root.args, '--', ...PS]));
      assert.equal(seen.get(1), 'sleep', 'pid 1 is the other container\'s command');
      assert.equal(seen.size, 2, `${[...seen]}`);
      const joiner = name('joiner');
      await ok(lab, ['run', '-d', '--name', joiner, '--pid', `container:${target}`, ...root.args, '--', 'sleep', '601']);
      const both = processes(await ok(lab, ['exec', target, ...PS]));
      assert.deepEqual([both.size, countOf(both, 'sleep')], [3, 2], `the joiner's sleep is in the target's namespace: ${[...both]}`);
      // the namespace ends with its init: the joiner with it, as under Docker
      await ok(lab, ['kill', target]);
      assert.equal(await ok(lab, ['wait', joiner]), '137');
    });
  }

  test('kill 1 inside: pid 1 gets only the signals it handles, from inside and from the host', async () => {
    const c = name('init');
    await ok(lab, ['run', '-d', '--name', c, '--', 'sleep', '600']);
    await ok(lab, ['exec', c, 'kill', '1']);
    await ok(lab, ['exec', c, 'kill', '-9', '1']);
    await ok(lab, ['kill', '-s', 'TERM', c]);
    assert.equal(await inspect(lab, c, '{{.State.Status}}'), 'running');
    await ok(lab, ['kill', c]); // SIGKILL from the host always ends it
    assert.equal(await ok(lab, ['wait', c]), '137');
    const trap = name('trap');
    await ok(lab, ['run', '-d', '--name', trap, '--image', 'bb', '--', 'sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.1; done']);
    await ok(lab, ['exec', trap, 'kill', '1']);
    assert.equal(await ok(lab, ['wait', trap]), '7');
  });

  test('exec runs in the container\'s pid namespace, top lists its processes; it survives a berthd kill -9 and restart', async () => {
    const c = name('kept');
    await ok(lab, ['run', '-d', '--name', c, '--image', 'bb', '--', 'sh', '-c', 'sleep 500 & exec sleep 600']);
    const pid = await inspect(lab, c, '{{.State.Pid}}');
    const ns = await hostOk(lab, ['readlink', `/proc/${pid}/ns/pid`]);
    const inside = async () => {
      assert.equal(await ok(lab, ['exec', c, 'readlink', '/proc/self/ns/pid']), ns);
      const ps = processes(await ok(lab, ['exec', c, ...PS]));
      assert.equal(ps.get(1), 'sleep');
      assert.deepEqual([ps.size, countOf(ps, 'sleep')], [3, 2], `${[...ps]}`);
      const tty = await ok(lab, ['exec', '-t', c, 'sh', '-c', 'tty; cat /proc/1/cmdline']);
      assert.match(tty, /^\/dev\/pts\/\d+\r?\nsleep\x00600/);
    };
    await inside();
    await lab.killDaemon();
    await lab.startDaemon();
    assert.equal(await inspect(lab, c, '{{.State.Status}} {{.State.Pid}}'), `running ${pid}`);
    await inside();
    // docker top: the host's ps, the container's two processes only (and any ps_args)
    const top = await lab.api('GET', `/containers/${c}/top`);
    const { Titles, Processes } = top.body as { Titles: string[]; Processes: string[][] };
    assert.deepEqual([top.status, Titles], [200, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']]);
    assert.deepEqual(Processes.map((p) => p[7]).sort(), ['sleep 500', 'sleep 600']);
    assert.ok(Processes.some((p) => p[1] === pid), 'PIDs are the host\'s');
    const aux = (await lab.api('GET', `/containers/${c}/top?ps_args=aux`)).body as { Titles: string[]; Processes: string[][] };
    assert.deepEqual([aux.Titles[0], aux.Titles.at(-1), aux.Processes.length], ['USER', 'COMMAND', 2]);
    await ok(lab, ['rm', '-f', c]);
    const gone = await lab.api('POST', '/containers/create?name=idle', { Image: '', Cmd: ['true'] });
    assert.equal((await lab.api('GET', '/containers/idle/top')).status, 409, JSON.stringify(gone.body));
  });

  test('the docker CLI: --pid=container:NAME, exec and top see the container\'s processes', { skip: !existsSync(DOCKER_28.bin) && 'docker 28 is not installed' }, async () => {
    await dockerOk(lab, DOCKER_28, ['run', '-d', '--name', 'dtarget', 'bb', 'sleep', '600']);
    const joined = processes(await dockerOk(lab, DOCKER_28, ['run', '--rm', '--pid', 'container:dtarget', 'bb', ...PS]));
    assert.deepEqual([joined.get(1), joined.size], ['sleep', 2]);
    assert.equal(processes(await dockerOk(lab, DOCKER_28, ['exec', 'dtarget', ...PS])).get(1), 'sleep');
    assert.match(await dockerOk(lab, DOCKER_28, ['top', 'dtarget']), /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n\S+\s+\d+\s+\d+.*sleep 600$/);
    await dockerFails(lab, DOCKER_28, ['run', '--rm', '--pid', 'bogus', 'bb', 'true'], /invalid PID mode/);
    await dockerOk(lab, DOCKER_28, ['rm', '-f', 'dtarget']);
  });

  // dockerd 20.10 takes any PidMode at create (201: its CLI checks); newer ones answer
  // "invalid PID mode: X", as berth does. A stopped target dockerd answers with a 500 at
  // start, berth with a 409: the same words.
  test('a bad PID mode is refused at create, a stopped or missing target at start (dockerd\'s words)', async () => {
    const before = await ok(lab, ['ps', '-a', '-q']);
    await fails(lab, ['run', '--pid', 'bogus', '--', 'true'], /invalid PID mode: bogus/);
    await fails(lab, ['run', '--pid', 'container:', '--', 'true'], /invalid PID mode: container:/);
    await fails(lab, ['run', '--pid', 'container:nosuch', '--', 'true'], /No such container: nosuch/);
    const api = await lab.api('POST', '/containers/create', { Image: '', Cmd: ['true'], HostConfig: { PidMode: 'container:nosuch' } });
    assert.deepEqual([api.status, api.body], [DOCKERD.createMissing.status, DOCKERD.createMissing.body]);
    assert.equal(await ok(lab, ['ps', '-a', '-q']), before, 'a refused create left a container behind');
    const stopped = (await lab.api('POST', '/containers/create?name=stopped', { Image: '', Cmd: ['true'] })).body as { Id: string };
    const joiner = (await lab.api('POST', '/containers/create?name=pidjoiner', { Image: '', Cmd: ['true'], HostConfig: { PidMode: 'container:stopped' } })).body as { Id: string };
    const start = await lab.api('POST', `/containers/${joiner.Id}/start`);
    assert.deepEqual([start.status, start.body], [409, { message: DOCKERD.startStopped.body.message.replaceAll('<id>', stopped.Id) }]);
    await ok(lab, ['rm', 'stopped']);
    const gone = await lab.api('POST', `/containers/${joiner.Id}/start`);
    assert.equal((gone.body as { message: string }).message, DOCKERD.startRemoved.body.message.replaceAll('<id>', stopped.Id));
    assert.equal(await inspect(lab, 'pidjoiner', '{{.State.Status}}'), 'created');
  });
});
