import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BerthError, InvalidParameterError } from '../util/errors.js';
import { capabilityMask } from './capabilities.js';
import { privilegesOf, type ProcessPrivileges } from './privileges.js';
import type { ProcessSpec } from './types.js';

// Where the compiled supervisor lives (dist/bin/berth-shim, built by scripts/build-shim.mjs)
// and the argv it takes. BERTH_SHIM overrides the path.

export function shimPath(): string {
  const path = process.env.BERTH_SHIM ?? fileURLToPath(new URL('../../bin/berth-shim', import.meta.url));
  if (!existsSync(path)) throw new BerthError(`berth-shim not found at ${path}: run "npm run build"`, 500);
  return path;
}

/**
 * The program berth-spawner is asked to run for a container: its linked-in copy of the
 * shim (no exec), unless BERTH_SHIM names a binary to exec instead.
 */
export function runShimProgram(): string {
  return process.env.BERTH_SHIM ? shimPath() : '@berth-shim';
}

const ID = /^[0-9a-f]{64}$/;

export function checkSpec(spec: ProcessSpec): void {
  if (!ID.test(spec.id)) throw new InvalidParameterError(`invalid container id: ${spec.id}`);
  if (spec.argv.length === 0 || spec.argv[0] === '') throw new InvalidParameterError('no command specified');
  for (const e of spec.env) if (!e.includes('=') || e.startsWith('=')) throw new InvalidParameterError(`invalid environment variable: ${e}`);
  for (const b of spec.binds) {
    if (!b.target.startsWith('/') || b.source.includes(':') || b.target.includes(':')) {
      throw new InvalidParameterError(`invalid bind mount ${b.source}:${b.target}`);
    }
  }
  if (spec.workdir !== undefined && !spec.workdir.startsWith('/')) {
    throw new InvalidParameterError(`the working directory '${spec.workdir}' is invalid, it needs to be an absolute path`);
  }
  for (const p of spec.hiddenPaths ?? []) if (!p.startsWith('/')) throw new InvalidParameterError(`a hidden path must be absolute: ${p}`);
  if (typeof spec.pidns === 'object' && !(Number.isInteger(spec.pidns.sharedWith) && spec.pidns.sharedWith > 0)) {
    throw new InvalidParameterError(`invalid pid namespace owner: ${spec.pidns.sharedWith}`);
  }
}

/** argv for run mode (never a shell string). */
export function shimRunArgs(spec: ProcessSpec): string[] {
  const args = ['--id', spec.id, '--state-dir', spec.stateDir];
  if (spec.netns) args.push('--netns', spec.netns);
  if (spec.hostname) args.push('--hostname', spec.hostname);
  if (spec.rootfs) args.push('--rootfs', spec.rootfs);
  if (spec.pidns === 'host') args.push('--pidns', 'host');
  else if (typeof spec.pidns === 'object') args.push('--pidns', `/proc/${spec.pidns.sharedWith}/ns/pid`);
  for (const b of spec.binds) args.push('--bind', `${b.source}:${b.target}${b.readonly ? ':ro' : ''}`);
  if (spec.workdir) args.push('--workdir', spec.workdir);
  for (const e of spec.env) args.push('--env', e);
  if (spec.interactive) args.push('--interactive');
  if (spec.tty) args.push('--tty');
  for (const p of spec.hiddenPaths ?? []) args.push('--hide', p);
  return [...args, ...privilegeArgs(spec.privileges), '--', ...spec.argv];
}

/** --caps MASK [--no-new-privs], for run and join mode alike. */
export function privilegeArgs(privileges: ProcessPrivileges = privilegesOf({})): string[] {
  return ['--caps', capabilityMask(privileges.capabilities), ...(privileges.noNewPrivileges ? ['--no-new-privs'] : [])];
}
