import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BERTH_BIN, labFor } from '../lab/lab.js';
import { busyboxTar } from '../compat/docker-cli.js';
import { ok } from './helpers.js';

// Images imported from a tarball, and interactive sessions: `run -it` and `exec -it`
// under a real pseudo-terminal (util-linux `script` gives the client one), with the
// berth CLI and the docker CLI.

describe('images and interactive sessions', { concurrency: false }, () => {
  test('berth import, images, run on the image (its rootfs and defaults), rmi', async (t) => {
    const lab = await labFor(t);
    const id = await ok(lab, ['import', '-c', 'ENV PATH=/bin', '-c', 'CMD ["/bin/sh", "-c", "echo default cmd"]', busyboxTar(), 'bb:1']);
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.match(await ok(lab, ['images']), /^bb\s+1\s+[0-9a-f]{12}\s/m);
    assert.equal(await ok(lab, ['run', '--rm', '--image', 'bb:1']), 'default cmd');
    assert.equal(await ok(lab, ['run', '--rm', '--image', 'bb:1', '--', 'ls', '/bin/busybox']), '/bin/busybox');
    await ok(lab, ['rmi', 'bb:1']);
    assert.doesNotMatch(await ok(lab, ['images']), /^bb\s/m);
  });

  test('run --rm of a container that ends at once still prints all it wrote (attach keeps the log the removal deletes)', async (t) => {
    const lab = await labFor(t);
    // two at a time, as a loaded machine runs them: the removal raced the attach's last read
    for (let i = 0; i < 30; i += 2) {
      const outs = await Promise.all([i, i + 1].map((n) => ok(lab, ['run', '--rm', '--', 'sh', '-c', `echo out ${n}; echo err ${n} >&2`])));
      assert.deepEqual(outs, [`out ${i}`, `out ${i + 1}`]);
    }
  });

  test('run -it and exec -it get a terminal; what is typed reaches the process', async (t) => {
    const lab = await labFor(t);
    const berth = (args: string) => `${BERTH_BIN} -H unix://${lab.socket} ${args}`;
    // typed once the session is up, as a person would (bytes sent before a terminal exists are not kept);
    // the input stays open a while after, as a person's terminal does: its end would hang the session up
    // before a slow (loaded) process has printed its answer
    const typed = (text: string, cmd: string) => lab.inHost(['sh', '-c', `(sleep 2; echo ${text}; sleep 3) | script -qec '${cmd}' /dev/null`], { timeoutMs: 20_000 });
    const run = await typed('hello', berth('run -it --rm -- sh -c "tty; read x; echo got:\\$x"'));
    assert.match(run.stdout, /\/dev\/pts\/\d+/);
    assert.match(run.stdout, /got:hello/);
    await ok(lab, ['run', '-d', '--name', 'box', '--', 'sleep', '600']);
    const exec = await typed('world', berth('exec -it box sh -c "tty; read y; echo exec:\\$y; exit 4"'));
    assert.match(exec.stdout, /\/dev\/pts\/\d+/);
    assert.match(exec.stdout, /exec:world/);
    const docker = await lab.inHost(['script', '-qec', `docker -H unix://${lab.socket} exec -it box sh -c "tty; echo docker-tty"`, '/dev/null'], { timeoutMs: 20_000 });
    assert.match(docker.stdout, /\/dev\/pts\/\d+[\s\S]*docker-tty/);
  });
});
