// The process runtime on the real kernel: berth-shim starts a container process in a
// network namespace with its own UTS and mount namespaces, logs its output in Docker's
// framing, reports its exit, survives the daemon, and runs execs inside it.
// Runs inside the lab world (scripts/in-lab.sh): every netns and mount here is throwaway.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessRuntime } from '../../src/runtime/process-runtime.js';
import { FrameParser } from '../../src/runtime/log-stream.js';
import type { ExitStatus, ProcessSpec, ProcessState } from '../../src/runtime/types.js';
import { InvalidParameterError } from '../../src/util/errors.js';

const canRun = process.getuid?.() === 0 && process.env.BERTH_LAB_WORLD === '1';
const skip = canRun ? false : 'needs root inside a lab world (scripts/in-lab.sh)';
const RUNTIME_MODULE = fileURLToPath(new URL('../../src/runtime/process-runtime.js', import.meta.url));

interface World {
  rt: ProcessRuntime;
  dir: string;
  netns: string;
  started: ProcessState[];
}

/** A netns with lo up and a dummy link, a temp dir, and a cleanup that leaves nothing. */
function world(t: TestContext): World {
  const name = `rt-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  execFileSync('ip', ['-n', name, 'link', 'add', 'inside0', 'type', 'veth', 'peer', 'name', 'inside1']);
  const w: World = { rt: new ProcessRuntime(), dir: mkdtempSync(join(tmpdir(), 'berth-rt-')), netns: `/run/netns/${name}`, started: [] };
  t.after(() => {
    for (const s of w.started) for (const pid of [s.pid, s.shimPid]) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    w.rt.close();
    execFileSync('ip', ['netns', 'del', name]);
    rmSync(w.dir, { recursive: true, force: true });
  });
  return w;
}

function spec(w: World, argv: string[], extra: Partial<ProcessSpec> = {}): ProcessSpec {
  const id = randomBytes(32).toString('hex');
  return { id, netns: w.netns, binds: [], argv, env: [], interactive: false, tty: false, stateDir: join(w.dir, id), ...extra };
}

async function start(w: World, s: ProcessSpec): Promise<ProcessState> {
  const state = await w.rt.start(s);
  w.started.push(state);
  return state;
}

function exitOf(w: World, id: string): Promise<ExitStatus> {
  return new Promise((resolve) => w.rt.onExit(id, resolve));
}

async function readLog(w: World, stateDir: string, which: { stdout: boolean; stderr: boolean }, tail?: number): Promise<string> {
  const parser = new FrameParser();
  let text = '';
  for await (const chunk of w.rt.logStream(stateDir, { follow: false, ...which, tail })) {
    for (const f of parser.push(chunk as Buffer)) text += f.payload.toString();
  }
  return text;
}

const both = { stdout: true, stderr: true };

/** Runs a container to its end; its exit and its output. */
async function run(w: World, s: ProcessSpec): Promise<{ exit: ExitStatus; out: string; err: string }> {
  await start(w, s);
  const exit = await exitOf(w, s.id);
  return { exit, out: await readLog(w, s.stateDir, { stdout: true, stderr: false }), err: await readLog(w, s.stateDir, { stdout: false, stderr: true }) };
}

async function waitForLog(w: World, stateDir: string, text: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await readLog(w, stateDir, both)).includes(text)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`log never showed ${JSON.stringify(text)}: ${await readLog(w, stateDir, both)}`);
}

function collect(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d));
  child.stderr?.on('data', (d: Buffer) => (err += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

test('a container in a netns sees only that netns, with its own hostname while the host keeps its own', { skip }, async (t) => {
  const w = world(t);
  execFileSync('ip', ['link', 'add', 'labonly0', 'type', 'veth', 'peer', 'name', 'labonly1']);
  t.after(() => execFileSync('ip', ['link', 'del', 'labonly0']));
  const before = hostname();
  const r = await run(w, spec(w, ['sh', '-c', 'hostname; echo "env=$HOSTNAME"; ip -o link'], { hostname: 'box1' }));
  assert.equal(r.exit.exitCode, 0, r.err);
  const [name, env] = r.out.split('\n');
  assert.equal(name, 'box1');
  assert.equal(env, 'env=box1');
  assert.match(r.out, /: inside0@inside1:/);
  assert.match(r.out, /: lo:/);
  assert.doesNotMatch(r.out, /labonly0/);
  assert.equal(hostname(), before);
});

test('bind-mounted /etc/hosts, /etc/hostname and /etc/resolv.conf are seen and listed as mounts', { skip }, async (t) => {
  const w = world(t);
  const files = { hosts: '127.0.0.1\tlocalhost\n10.9.8.7\tbox2\n', hostname: 'box2\n', 'resolv.conf': 'nameserver 10.9.8.1\n' };
  for (const [f, text] of Object.entries(files)) writeFileSync(join(w.dir, f), text);
  const binds = Object.keys(files).map((f) => ({ source: join(w.dir, f), target: `/etc/${f}` }));
  const script = 'cat /etc/hosts /etc/hostname /etc/resolv.conf; mount; grep -c " /etc/hosts " /proc/self/mountinfo';
  const r = await run(w, spec(w, ['sh', '-c', script], { hostname: 'box2', binds }));
  assert.equal(r.exit.exitCode, 0, r.err);
  assert.ok(r.out.startsWith(files.hosts + files.hostname + files['resolv.conf']), r.out);
  for (const f of Object.keys(files)) assert.match(r.out, new RegExp(` on /etc/${f.replace('.', '\\.')} `));
  assert.equal(r.out.trim().split('\n').pop(), '1');
  assert.notEqual(readFileSync('/etc/hosts', 'utf8'), files.hosts, 'the host keeps its own /etc/hosts');
});

test('exit codes are the process\'s own: 0, 3, 127 for a missing command, 137 for SIGKILL', { skip }, async (t) => {
  const w = world(t);
  assert.equal((await run(w, spec(w, ['true']))).exit.exitCode, 0);
  assert.equal((await run(w, spec(w, ['sh', '-c', 'exit 3']))).exit.exitCode, 3);
  const missing = await run(w, spec(w, ['no-such-command-here']));
  assert.equal(missing.exit.exitCode, 127);
  assert.match(missing.err, /no-such-command-here.*not found/);
  // (where it is not a pid namespace's init: a signal from inside never kills pid 1)
  assert.equal((await run(w, spec(w, ['sh', '-c', 'kill -9 $$'], { pidns: 'host' }))).exit.exitCode, 137);
  const piped = await run(w, spec(w, ['sh', '-c', 'yes | head -n1']));
  assert.deepEqual([piped.exit.exitCode, piped.out, piped.err], [0, 'y\n', ''], 'SIGPIPE keeps its default action');
  const exit = (await run(w, spec(w, ['true']))).exit;
  assert.match(exit.finishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
});

test('the pid file is the real container process, inside the container\'s netns', { skip }, async (t) => {
  const w = world(t);
  const s = spec(w, ['sleep', '600']);
  const state = await start(w, s);
  assert.equal(Number(readFileSync(join(s.stateDir, 'pid'), 'utf8')), state.pid);
  assert.equal(statSync(`/proc/${state.pid}/ns/net`).ino, statSync(w.netns).ino);
  assert.notEqual(statSync(`/proc/${state.pid}/ns/uts`).ino, statSync('/proc/self/ns/uts').ino);
  assert.notEqual(statSync(`/proc/${state.pid}/ns/mnt`).ino, statSync('/proc/self/ns/mnt').ino);
  assert.equal(w.rt.isRunning(state), true);
  assert.equal(w.rt.isRunning({ ...state, pidStartTime: '1' }), false, 'another start time is another process');
  const exit = exitOf(w, s.id);
  w.rt.kill(s.id, 'SIGKILL');
  assert.equal((await exit).exitCode, 137);
  assert.equal(w.rt.isRunning(state), false);
  assert.equal(w.rt.readExit(s.stateDir)?.exitCode, 137);
});

test('a set-up failure rejects start with the reason and leaves no pid', { skip }, async (t) => {
  const w = world(t);
  const s = spec(w, ['true'], { netns: join(w.dir, 'no-such-netns') });
  await assert.rejects(w.rt.start(s), (err: Error) => err instanceof InvalidParameterError && err.message.includes('no-such-netns'));
  assert.equal(existsSync(join(s.stateDir, 'pid')), false);
});

test('logs keep stdout and stderr apart, tail the last lines, and follow until the exit', { skip }, async (t) => {
  const w = world(t);
  const s = spec(w, ['sh', '-c', 'echo out1; echo err1 >&2; echo out2; sleep 0.3; echo out3']);
  await start(w, s);
  const parser = new FrameParser();
  const followed = { 1: '', 2: '' };
  for await (const chunk of w.rt.logStream(s.stateDir, { follow: true, stdout: true, stderr: true })) {
    for (const f of parser.push(chunk as Buffer)) followed[f.stream] += f.payload.toString();
  }
  assert.deepEqual(followed, { 1: 'out1\nout2\nout3\n', 2: 'err1\n' });
  assert.equal(await readLog(w, s.stateDir, { stdout: true, stderr: false }), 'out1\nout2\nout3\n');
  assert.equal(await readLog(w, s.stateDir, { stdout: false, stderr: true }), 'err1\n');
  assert.equal(await readLog(w, s.stateDir, { stdout: true, stderr: false }, 2), 'out2\nout3\n');
  assert.equal(await readLog(w, s.stateDir, both, 1), 'out3\n');
});

test('stop sends SIGTERM, then SIGKILL to a process that ignores TERM', { skip }, async (t) => {
  const w = world(t);
  const s = spec(w, ['sh', '-c', "trap '' TERM; echo ready; while :; do sleep 0.1; done"]);
  await start(w, s);
  await waitForLog(w, s.stateDir, 'ready');
  const exit = exitOf(w, s.id);
  await w.rt.stop(s.id, 1);
  assert.equal((await exit).exitCode, 137);

  // sleep dies of TERM where it is not a pid namespace's init (as pid 1 the kernel drops a
  // signal it has no handler for: runtime-pid.test.ts)
  const polite = spec(w, ['sleep', '600'], { pidns: 'host' });
  await start(w, polite);
  await w.rt.stop(polite.id, 10);
  assert.equal(w.rt.readExit(polite.stateDir)?.exitCode, 143);
});

/** A container started by another process, which then dies: what a restarted daemon finds. */
async function startOrphan(w: World, s: ProcessSpec): Promise<ProcessState> {
  const starter = spawn(process.execPath, ['--input-type=module', '-e', `
    const { ProcessRuntime } = await import(${JSON.stringify(RUNTIME_MODULE)});
    const state = await new ProcessRuntime().start(JSON.parse(process.argv[1]));
    console.log(JSON.stringify(state));
    setInterval(() => {}, 1000);`, JSON.stringify(s)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let line = '';
  await new Promise<void>((resolve, reject) => {
    starter.stdout.on('data', (d: Buffer) => { line += d; if (line.includes('\n')) resolve(); });
    starter.on('exit', () => reject(new Error(`starter exited early: ${line}`)));
  });
  const state = JSON.parse(line) as ProcessState;
  w.started.push(state);
  starter.kill('SIGKILL');
  await new Promise((r) => starter.once('close', r));
  return state;
}

test('the container outlives the process that started it, and adopt later sees its exit', { skip }, async (t) => {
  const w = world(t);
  const s = spec(w, ['sleep', '600'], { hostname: 'orphan' });
  const state = await startOrphan(w, s);
  assert.equal(w.rt.isRunning(state), true, 'the container still runs after its starter died');
  w.rt.adopt(s.id, s.stateDir, state);
  const exit = exitOf(w, s.id);
  w.rt.kill(s.id, 'SIGKILL');
  assert.equal((await exit).exitCode, 137);
});

test('an adopted container whose shim is killed before it can write an exit file is seen to end (the sweep)', { skip }, async (t) => {
  const w = world(t);
  const s = spec(w, ['sleep', '600'], { hostname: 'orphan2' });
  const state = await startOrphan(w, s);
  w.rt.adopt(s.id, s.stateDir, state);
  const exit = exitOf(w, s.id);
  process.kill(state.shimPid, 'SIGKILL');
  // no exit file: the shim died first; 255 as dockerd says of a container it lost
  assert.equal((await exit).exitCode, 255);
  assert.equal(existsSync(join(s.stateDir, 'exit')), false, 'the shim wrote no exit file');
  try {
    process.kill(state.pid, 'SIGKILL');
  } catch {
    // gone with its shim
  }
});

test('exec runs inside the container\'s namespaces and returns the command\'s exit code', { skip }, async (t) => {
  const w = world(t);
  const s = spec(w, ['sleep', '600'], { hostname: 'vm1', env: ['FROM_CONTAINER=yes'] });
  const state = await start(w, s);
  const r = await collect(w.rt.exec(state, { argv: ['sh', '-c', 'hostname; echo "$FROM_CONTAINER $EXTRA"; ip -o link; exit 5'], env: ['EXTRA=x'], tty: false, interactive: false }));
  assert.equal(r.code, 5, r.err);
  assert.match(r.out, /^vm1\nyes x\n/);
  assert.match(r.out, /: inside0@inside1:/);
  const ping = await collect(w.rt.exec(state, { argv: ['ping', '-c1', '-W2', '127.0.0.1'], tty: false, interactive: false }));
  assert.equal(ping.code, 0, ping.out + ping.err);
  const missing = await collect(w.rt.exec(state, { argv: ['no-such-command-here'], tty: false, interactive: false }));
  assert.equal(missing.code, 127);
  const ttyExec = w.rt.exec(state, { argv: ['sh', '-c', 'read x; tty; stty size; exit 4'], tty: true, interactive: true });
  const tty = collect(ttyExec);
  w.rt.resizeExec(ttyExec, 33, 77);
  ttyExec.stdin?.write('go\n');
  assert.equal((await tty).code, 4);
  assert.match((await tty).out, /\/dev\/pts\/\d+\r?\n33 77/);
  const pipe = await collect(w.rt.exec(state, { argv: ['sh', '-c', 'yes | head -n1'], tty: false, interactive: false }));
  assert.deepEqual(pipe, { code: 0, out: 'y\n', err: '' }, 'SIGPIPE is not ignored in the container');
  const cat = w.rt.exec(state, { argv: ['cat'], tty: false, interactive: true });
  const done = collect(cat);
  cat.stdin?.end('through exec\n');
  assert.deepEqual(await done, { code: 0, out: 'through exec\n', err: '' });
  await w.rt.stop(s.id, 1);
});

test('interactive stdin reaches cat, and close-stdin ends it', { skip }, async (t) => {
  const w = world(t);
  const s = spec(w, ['cat'], { interactive: true });
  await start(w, s);
  assert.equal(w.rt.writeStdin(s.stateDir, 'hello '), true);
  w.rt.writeStdin(s.stateDir, Buffer.from('berth\n'));
  w.rt.closeStdin(s.stateDir);
  assert.equal((await exitOf(w, s.id)).exitCode, 0);
  assert.equal(await readLog(w, s.stateDir, both), 'hello berth\n');
  assert.equal(w.rt.writeStdin(spec(w, ['true']).stateDir, 'x'), false, 'no stdin: dropped, not thrown');
});

test('with a tty, output is stream 1 only and resize sets the window size', { skip }, async (t) => {
  const w = world(t);
  const s = spec(w, ['sh', '-c', 'read x; stty size; echo oops >&2'], { tty: true, interactive: true });
  await start(w, s);
  w.rt.resize(s.stateDir, 40, 100);
  w.rt.writeStdin(s.stateDir, 'go\n');
  assert.equal((await exitOf(w, s.id)).exitCode, 0);
  const out = await readLog(w, s.stateDir, { stdout: true, stderr: false });
  assert.match(out, /40 100/);
  assert.match(out, /oops/);
  assert.equal(await readLog(w, s.stateDir, { stdout: false, stderr: true }), '');
});

const BUSYBOX = '/bin/busybox';
const noBusybox = !existsSync(BUSYBOX) ? 'busybox is not installed (apt-get install busybox-static)' : false;

test('a --rootfs container is chrooted into it, with its bind mounts inside', { skip: skip || noBusybox }, async (t) => {
  const w = world(t);
  const rootfs = join(w.dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  for (const applet of ['sh', 'ls', 'cat', 'hostname']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  writeFileSync(join(w.dir, 'hosts'), '10.1.2.3\tchrooted\n');
  const s = spec(w, ['sh', '-c', 'ls /; cat /etc/hosts; hostname; pwd'], {
    rootfs, hostname: 'jail', env: ['PATH=/bin'], workdir: '/etc',
    binds: [{ source: join(w.dir, 'hosts'), target: '/etc/hosts', readonly: true }],
  });
  const r = await run(w, s);
  assert.equal(r.exit.exitCode, 0, r.err);
  // dev, proc and sys: mount points made for the kernel file systems every container gets
  assert.equal(r.out, 'bin\ndev\netc\nproc\nsys\n10.1.2.3\tchrooted\njail\n/etc\n');
});
