import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Lab, RunOptions, RunResult } from '../lab/lab.js';

// The real docker clients (and docker-compose) pointed at a lab's berthd, the way a user
// would: DOCKER_HOST=unix://<socket>, run inside the lab's host netns.

export interface DockerClient {
  /** label for test names */
  name: string;
  bin: string;
}

export const DOCKER_28: DockerClient = { name: 'docker 28', bin: '/usr/local/bin/docker' };
export const DOCKER_20: DockerClient = { name: 'docker 20.10', bin: '/usr/bin/docker' };
export const COMPOSE = '/usr/bin/docker-compose';
export const BUSYBOX = '/bin/busybox';

/** The clients installed on this machine (docker.io gives the 20.10 one). */
export function installedClients(): DockerClient[] {
  return [DOCKER_28, DOCKER_20].filter((c) => existsSync(c.bin));
}

const configDir = mkdtempSync(join(tmpdir(), 'berth-docker-config-'));
process.on('exit', () => rmSync(configDir, { recursive: true, force: true }));

export function dockerEnv(lab: Lab): Record<string, string> {
  // an empty client config: no user's contexts, credential helpers or aliases
  return { DOCKER_HOST: `unix://${lab.socket}`, DOCKER_CONFIG: configDir, DOCKER_CLI_HINTS: 'false', COMPOSE_INTERACTIVE_NO_CLI: '1' };
}

export function docker(lab: Lab, client: DockerClient, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return lab.inHost([client.bin, ...args], { ...opts, env: { ...dockerEnv(lab), ...opts.env } });
}

/** Runs a docker command that must succeed and print nothing on stderr; returns stdout. */
export async function dockerOk(lab: Lab, client: DockerClient, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await docker(lab, client, args, opts);
  assert.equal(r.code, 0, `${client.name}: docker ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  assert.equal(r.stderr.trim(), '', `${client.name}: docker ${args.join(' ')} warned: ${r.stderr}`);
  return r.stdout.trim();
}

export async function dockerFails(lab: Lab, client: DockerClient, args: string[], message: RegExp): Promise<RunResult> {
  const r = await docker(lab, client, args);
  assert.notEqual(r.code, 0, `${client.name}: docker ${args.join(' ')} should fail but printed: ${r.stdout}`);
  assert.match(r.stderr, message);
  return r;
}

let tarball: string | undefined;

/**
 * The test rootfs: Debian's busybox-static with a link per applet in /bin, a few empty
 * directories, an index page for httpd, tarred once per process.
 */
export function busyboxTar(): string {
  if (tarball) return tarball;
  const dir = mkdtempSync(join(tmpdir(), 'berth-bb-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'www']) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
  execFileSync(join(root, 'bin/busybox'), ['sh', '-c', 'echo berth-compat > "$1"', 'sh', join(root, 'www/index.html')]);
  tarball = join(dir, 'bb.tar');
  execFileSync('tar', ['-c', '-f', tarball, '--numeric-owner', '--owner=0', '--group=0', '-C', root, '.']);
  return tarball;
}

/** `docker import` of the busybox rootfs as NAME, the anchors' way; returns the image id. */
export async function importBusybox(lab: Lab, client: DockerClient, name = 'bb'): Promise<string> {
  return dockerOk(lab, client, ['import', '-c', 'ENV PATH=/bin', '-c', 'CMD ["/bin/sh"]', busyboxTar(), name]);
}
