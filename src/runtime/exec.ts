import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ConflictError, InvalidParameterError } from '../util/errors.js';
import { isOurProcess } from './proc.js';
import { privilegeArgs, shimPath } from './shim-binary.js';
import type { ExecSpec, ProcessState } from './types.js';

// `docker exec`: berth-shim --join PID enters the container process's net, uts and mount
// namespaces and its root (and, by default, its cwd and environment), then runs the command
// with the container's capabilities (all with ExecConfig.Privileged) and no_new_privs.
// Without a tty the shim becomes the command (exec), so the child's exit code is the
// command's; with a tty the shim relays stdin/stdout through a pseudo-terminal and takes
// "ROWS COLS" lines on fd 3 (see resizeExec).

/** The container process's environment, with `extra` entries overriding by name. */
export function execEnv(pid: number, extra: string[] = []): string[] {
  let own: string[] = [];
  try {
    own = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((e) => e.includes('='));
  } catch {
    own = [];
  }
  const byKey = new Map<string, string>();
  for (const e of [...own, ...extra]) byKey.set(e.slice(0, e.indexOf('=')), e);
  return [...byKey.values()];
}

export function execArgs(pid: number, spec: ExecSpec, env: string[]): string[] {
  const args = ['--join', String(pid)];
  if (spec.workdir) args.push('--workdir', spec.workdir);
  for (const e of env) args.push('--env', e);
  if (spec.tty) args.push('--tty');
  if (spec.interactive) args.push('--interactive');
  return [...args, ...privilegeArgs(spec.privileges), '--', ...spec.argv];
}

export function execInContainer(state: Pick<ProcessState, 'pid'> & { pidStartTime?: string }, spec: ExecSpec): ChildProcess {
  if (spec.argv.length === 0 || spec.argv[0] === '') throw new InvalidParameterError('no command specified');
  if (spec.workdir !== undefined && !spec.workdir.startsWith('/')) throw new InvalidParameterError(`invalid working directory ${spec.workdir}`);
  for (const e of spec.env ?? []) if (!e.includes('=') || e.startsWith('=')) throw new InvalidParameterError(`invalid environment variable: ${e}`);
  if (!isOurProcess(state.pid, state.pidStartTime)) throw new ConflictError('container is not running');
  const args = execArgs(state.pid, spec, execEnv(state.pid, spec.env));
  const stdin = spec.interactive ? 'pipe' : 'ignore';
  const stdio = spec.tty ? [stdin, 'pipe', 'pipe', 'pipe'] : [stdin, 'pipe', 'pipe'];
  return spawn(shimPath(), args, { stdio: stdio as ('pipe' | 'ignore')[] });
}

/** Sets the window size of an exec started with tty. */
export function resizeExec(child: ChildProcess, rows: number, cols: number): void {
  const ctl = child.stdio[3];
  if (!ctl || !('write' in ctl)) throw new ConflictError('exec has no terminal');
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new InvalidParameterError('invalid terminal size');
  ctl.write(`${rows} ${cols}\n`);
}
