import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Lab, type RunResult } from '../lab/lab.js';
import { COMPOSE, DOCKER_28, dockerEnv, dockerOk, importBusybox } from '../compat/docker-cli.js';

// Issue 5's conformance suite, part 2: Debian's docker-compose 1.29 against berthd. A
// project with two services on its project network; one reaches the other by name.

const PROJECT = `version: "3.7"
services:
  web:
    image: bb
    command: httpd -f -p 80 -h /www
  client:
    image: bb
    command: sleep 3600
`;

describe('docker-compose 1.29 against berthd', { concurrency: false, skip: !existsSync(COMPOSE) && 'docker-compose is not installed' }, () => {
  let lab: Lab;
  const dir = mkdtempSync(join(tmpdir(), 'berth-compose-'));
  const compose = (args: string[]): Promise<RunResult> =>
    lab.inHost([COMPOSE, '--project-directory', dir, '-f', join(dir, 'docker-compose.yml'), '-p', 'demo', ...args], { env: dockerEnv(lab), timeoutMs: 120_000 });
  const composeOk = async (args: string[]): Promise<string> => {
    const r = await compose(args);
    assert.equal(r.code, 0, `docker-compose ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  };

  before(async () => {
    writeFileSync(join(dir, 'docker-compose.yml'), PROJECT);
    lab = await Lab.create();
    await importBusybox(lab, DOCKER_28);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await lab?.destroy();
  });

  test('up -d makes the project network and both containers; ps lists them', async () => {
    await composeOk(['up', '-d']);
    assert.equal(await dockerOk(lab, DOCKER_28, ['network', 'ls', '--filter', 'name=demo_default', '--format', '{{.Name}} {{.Driver}}']), 'demo_default bridge');
    const names = (await dockerOk(lab, DOCKER_28, ['ps', '--format', '{{.Names}}'])).split('\n').sort();
    assert.deepEqual(names, ['demo_client_1', 'demo_web_1']);
    assert.match(await composeOk(['ps']), /demo_web_1\s.*Up/);
    const webIp = await dockerOk(lab, DOCKER_28, ['inspect', '-f', '{{.NetworkSettings.Networks.demo_default.IPAddress}}', 'demo_web_1']);
    assert.equal(await composeOk(['exec', '-T', 'client', 'wget', '-q', '-O', '-', `http://${webIp}/index.html`]), 'berth-compat');
  });

  test('one service reaches the other by service name (berth\'s DNS, issue 3)', async () => {
    assert.equal(await composeOk(['exec', '-T', 'client', 'wget', '-q', '-O', '-', 'http://web/index.html']), 'berth-compat');
  });

  test('down removes the containers and the project network', async () => {
    await composeOk(['down']);
    assert.equal(await dockerOk(lab, DOCKER_28, ['ps', '-a', '-q']), '');
    assert.equal(await dockerOk(lab, DOCKER_28, ['network', 'ls', '--filter', 'name=demo', '-q']), '');
  });
});
