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

/**
 * The suite's world, made before its tests and gone after them: a lab with the busybox
 * image imported as bb, and the project file in a temp dir of its own.
 */
function projectWorld(prefix: string): { dir: string; lab: () => Lab } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let lab: Lab | undefined;
  before(async () => {
    writeFileSync(join(dir, 'docker-compose.yml'), PROJECT);
    lab = await Lab.create();
    await importBusybox(lab, DOCKER_28);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await lab?.destroy();
  });
  return { dir, lab: () => lab! };
}

describe('docker-compose 1.29 against berthd', { concurrency: false, skip: !existsSync(COMPOSE) && 'docker-compose is not installed' }, () => {
  const world = projectWorld('berth-compose-');
  const { dir } = world;
  const compose = (args: string[]): Promise<RunResult> =>
    world.lab().inHost([COMPOSE, '--project-directory', dir, '-f', join(dir, 'docker-compose.yml'), '-p', 'demo', ...args], { env: dockerEnv(world.lab()), timeoutMs: 120_000 });
  const composeOk = async (args: string[]): Promise<string> => {
    const r = await compose(args);
    assert.equal(r.code, 0, `docker-compose ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  };


  test('up -d makes the project network and both containers; ps lists them', async () => {
    await composeOk(['up', '-d']);
    assert.equal(await dockerOk(world.lab(), DOCKER_28, ['network', 'ls', '--filter', 'name=demo_default', '--format', '{{.Name}} {{.Driver}}']), 'demo_default bridge');
    const names = (await dockerOk(world.lab(), DOCKER_28, ['ps', '--format', '{{.Names}}'])).split('\n').sort();
    assert.deepEqual(names, ['demo_client_1', 'demo_web_1']);
    assert.match(await composeOk(['ps']), /demo_web_1\s.*Up/);
    const webIp = await dockerOk(world.lab(), DOCKER_28, ['inspect', '-f', '{{.NetworkSettings.Networks.demo_default.IPAddress}}', 'demo_web_1']);
    assert.equal(await composeOk(['exec', '-T', 'client', 'wget', '-q', '-O', '-', `http://${webIp}/index.html`]), 'berth-compat');
  });

  test('one service reaches the other by service name (berth\'s DNS, issue 3)', async () => {
    assert.equal(await composeOk(['exec', '-T', 'client', 'wget', '-q', '-O', '-', 'http://web/index.html']), 'berth-compat');
  });

  test('exec -T never loses a quick command\'s output (docker-py reads the 101 through a buffer)', async () => {
    // berthd started the process before it answered 101, so output could arrive with the
    // headers and vanish in the client's buffer: about one run in ten printed nothing
    for (let i = 0; i < 15; i++) assert.equal(await composeOk(['exec', '-T', 'client', 'echo', `run ${i}`]), `run ${i}`);
  });

  test('down removes the containers and the project network', async () => {
    await composeOk(['down']);
    assert.equal(await dockerOk(world.lab(), DOCKER_28, ['ps', '-a', '-q']), '');
    assert.equal(await dockerOk(world.lab(), DOCKER_28, ['network', 'ls', '--filter', 'name=demo', '-q']), '');
  });
});

// Issue 10: two projects side by side with the SAME service names. Compose finds its own
// containers with label filters (com.docker.compose.project=…); a filter berth ignored
// let `down` in one project remove the other's containers and numbered new ones _2.
describe('docker-compose 1.29: two projects with the same service names', { concurrency: false, skip: !existsSync(COMPOSE) && 'docker-compose is not installed' }, () => {
  const world = projectWorld('berth-compose2-');
  const { dir } = world;
  const composeOk = async (project: string, args: string[]): Promise<string> => {
    const r = await world.lab().inHost([COMPOSE, '--project-directory', dir, '-f', join(dir, 'docker-compose.yml'), '-p', project, ...args], { env: dockerEnv(world.lab()), timeoutMs: 180_000 });
    assert.equal(r.code, 0, `docker-compose -p ${project} ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  };
  const docker = (args: string[]) => dockerOk(world.lab(), DOCKER_28, args);
  const names = async () => (await docker(['ps', '-a', '--format', '{{.Names}}'])).split('\n').filter(Boolean).sort();
  const ipOn = (container: string, network: string) => docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container]);
  /** The IPv4 addresses `web` resolves to from the project's client (busybox nslookup via berth's DNS). */
  const webAddresses = async (project: string): Promise<string[]> => {
    const out = await composeOk(project, ['exec', '-T', 'client', 'nslookup', '-type=a', 'web']);
    const answer = out.slice(out.indexOf('Name:'));
    assert.ok(out.includes('Name:'), `no answer for web in ${project}: ${out}`);
    return [...answer.matchAll(/Address:\s*(\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]).sort();
  };
  const idsOf = async (project: string) => docker(['ps', '-q', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`]);


  test('up -d in both projects: each has its own network and containers, numbered _1', async () => {
    await composeOk('alpha', ['up', '-d']);
    await composeOk('beta', ['up', '-d']);
    assert.deepEqual(await names(), ['alpha_client_1', 'alpha_web_1', 'beta_client_1', 'beta_web_1']);
    assert.equal(await docker(['network', 'ls', '--filter', 'name=^(alpha|beta)_default$', '--format', '{{.Name}}']), 'alpha_default\nbeta_default');
    assert.match(await composeOk('alpha', ['ps']), /alpha_web_1\s.*Up/);
    assert.doesNotMatch(await composeOk('alpha', ['ps']), /beta_/);
  });

  test('exec by service name in each project reaches that project\'s web', async () => {
    assert.deepEqual(await webAddresses('alpha'), [await ipOn('alpha_web_1', 'alpha_default')]);
    assert.deepEqual(await webAddresses('beta'), [await ipOn('beta_web_1', 'beta_default')]);
    assert.notDeepEqual(await webAddresses('alpha'), await webAddresses('beta'));
    for (const p of ['alpha', 'beta']) assert.equal(await composeOk(p, ['exec', '-T', 'client', 'wget', '-q', '-O', '-', 'http://web/index.html']), 'berth-compat');
  });

  test('up -d --scale web=3 in one project: web resolves to all three of its containers', async () => {
    const betaBefore = await idsOf('beta');
    await composeOk('alpha', ['up', '-d', '--scale', 'web=3']);
    assert.deepEqual(await names(), ['alpha_client_1', 'alpha_web_1', 'alpha_web_2', 'alpha_web_3', 'beta_client_1', 'beta_web_1']);
    const expected = (await Promise.all([1, 2, 3].map((i) => ipOn(`alpha_web_${i}`, 'alpha_default')))).sort();
    assert.equal(new Set(expected).size, 3);
    assert.deepEqual(await webAddresses('alpha'), expected);
    assert.deepEqual(await webAddresses('beta'), [await ipOn('beta_web_1', 'beta_default')]);
    assert.equal(await idsOf('beta'), betaBefore, 'scaling alpha touched beta');
  });

  test('down of one project leaves the other\'s containers and network running and untouched', async () => {
    const betaIds = await idsOf('beta');
    const betaNet = await docker(['network', 'inspect', '-f', '{{.Id}}', 'beta_default']);
    await composeOk('alpha', ['down']);
    assert.deepEqual(await names(), ['beta_client_1', 'beta_web_1']);
    assert.equal(await idsOf('beta'), betaIds);
    assert.equal(await docker(['ps', '--filter', 'status=running', '-q', '--no-trunc', '--filter', 'label=com.docker.compose.project=beta']), betaIds);
    assert.equal(await docker(['network', 'ls', '--filter', 'name=^alpha_', '-q']), '');
    assert.equal(await docker(['network', 'inspect', '-f', '{{.Id}}', 'beta_default']), betaNet);
    assert.equal(await composeOk('beta', ['exec', '-T', 'client', 'wget', '-q', '-O', '-', 'http://web/index.html']), 'berth-compat');
  });

  test('down of the other project removes the rest', async () => {
    await composeOk('beta', ['down']);
    assert.deepEqual(await names(), []);
    assert.equal(await docker(['network', 'ls', '--filter', 'name=_default$', '-q']), '');
  });
});
