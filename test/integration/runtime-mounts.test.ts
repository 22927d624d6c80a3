// The mount table a container gets: it holds no other container's netns mount (those would
// keep the other network namespaces alive), and a mount made after berth-spawner prepared
// its template namespace is still seen through a bind. Runs inside the lab world.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessRuntime } from '../../src/runtime/process-runtime.js';
import type { ProcessSpec, ProcessState } from '../../src/runtime/types.js';

const canRun = process.getuid?.() === 0 && process.env.BERTH_LAB_WORLD === '1';
const skip = canRun ? false : 'needs root inside a lab world (scripts/in-lab.sh)';

interface World {
  rt: ProcessRuntime;
  dir: string;
  started: ProcessState[];
}

function world(t: TestContext): World {
  const w: World = { rt: new ProcessRuntime(), dir: mkdtempSync(join(tmpdir(), 'berth-rtm-')), started: [] };
  t.after(() => {
    for (const s of w.started) for (const pid of [s.pid, s.shimPid]) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    w.rt.close();
    rmSync(w.dir, { recursive: true, force: true });
  });
  return w;
}

/** A named netns (/run/netns/NAME: a directory called netns, as berth's own), deleted after. */
function netns(t: TestContext): string {
  const name = `rtm-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  t.after(() => execFileSync('ip', ['netns', 'del', name]));
  return `/run/netns/${name}`;
}

async function sleeper(w: World, ns: string, extra: Partial<ProcessSpec> = {}): Promise<ProcessState> {
  const id = randomBytes(32).toString('hex');
  const state = await w.rt.start({ id, netns: ns, binds: [], argv: ['sleep', '600'], env: [], interactive: false, tty: false, stateDir: join(w.dir, id), ...extra });
  w.started.push(state);
  return state;
}

test('a container\'s mount table holds no netns mount, its own or another container\'s', { skip }, async (t) => {
  const w = world(t);
  const ns = [netns(t), netns(t), netns(t)];
  const states = [];
  for (const n of ns) states.push(await sleeper(w, n)); // later ones start from a prepared spare
  for (const s of states) {
    const mounts = readFileSync(`/proc/${s.pid}/mountinfo`, 'utf8');
    for (const n of ns) assert.ok(!mounts.includes(` ${n} `), `${n} is mounted in container ${s.pid}:\n${mounts}`);
  }
});

test('a bind source on a mount made after the first start is seen by the next container', { skip }, async (t) => {
  const w = world(t);
  await sleeper(w, netns(t)); // berth-spawner now has a spare, in its template mount namespace
  const mnt = mkdtempSync(join(tmpdir(), 'berth-rtm-late-'));
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', mnt]);
  t.after(() => {
    execFileSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  writeFileSync(join(mnt, 'greeting'), 'made after the template\n');
  const s = await sleeper(w, netns(t), { binds: [{ source: join(mnt, 'greeting'), target: '/etc/hostname' }] });
  const seen = execFileSync('nsenter', ['-t', String(s.pid), '-m', 'cat', '/etc/hostname'], { encoding: 'utf8' });
  assert.equal(seen, 'made after the template\n');
});
