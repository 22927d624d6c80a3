import type { ChildProcess } from 'node:child_process';
import { ShimSpawner } from './spawner.js';
import { closeSync, constants, mkdirSync, openSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, ConflictError, InvalidParameterError, NotFoundError } from '../util/errors.js';
import { execInContainer, resizeExec } from './exec.js';
import { logStream } from './log-stream.js';
import { top, type TopAnswer } from './top.js';
import { isOurProcess, processStartTime } from './proc.js';
import { checkSpec, runShimProgram, shimRunArgs } from './shim-binary.js';
import { StateFile, clearRunFiles, readErrorFile, readExitFile, readPidFile } from './state-files.js';
import type { ExecSpec, ExitStatus, LogOptions, ProcessSpec, ProcessState } from './types.js';

// Starts and supervises container processes through berth-shim (src/runtime/shim). The
// shim runs detached in its own session, so containers survive a daemon restart; the
// daemon re-attaches to them with adopt(). Exit is learnt from the shim's own exit while
// we are its parent, else from DIR/exit (inotify on the state dir) and, for a shim killed
// before it could write one, from one sweep of every adopted shim each ADOPT_POLL_MS, a
// kill(pid, 0) each: a syscall, no file read (thousands are adopted after a restart);
// every FULL_CHECK_EVERY sweeps, /proc/PID/stat too (a zombie its new parent has not reaped
// yet, which kill(pid, 0) still finds) and the exit file (an inotify event lost).

const START_TIMEOUT_MS = 10_000;
const ADOPT_POLL_MS = 1000;
const FULL_CHECK_EVERY = 10;

type ExitCallback = (exit: ExitStatus) => void;

interface Tracked {
  stateDir: string;
  pid: number;
  shimPid: number;
  pidStartTime: string;
  exit?: ExitStatus;
  callbacks: ExitCallback[];
  watcher?: FSWatcher;
  /** started by an earlier daemon: not our child, its end is swept for */
  adopted?: boolean;
}

export class ProcessRuntime {
  private readonly tracked = new Map<string, Tracked>();
  private readonly stdinWriters = new Map<string, Socket>();
  private readonly spawner = new ShimSpawner();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeps = 0;

  async start(spec: ProcessSpec): Promise<ProcessState> {
    checkSpec(spec);
    const prev = this.tracked.get(spec.id);
    if (prev && !prev.exit) throw new ConflictError(`container ${spec.id} is already running`);
    if (prev) this.forget(spec.id);
    mkdirSync(spec.stateDir, { recursive: true });
    clearRunFiles(spec.stateDir);
    // through the fork server: its own session, so it survives us, and no fork of berthd
    const shimPid = await this.spawner.spawn(runShimProgram(), shimRunArgs(spec));
    const exited = new Promise<void>((resolve) => this.spawner.onExit(shimPid, () => resolve()));
    const pid = await waitForPid(spec.stateDir, { exited, kill: () => killQuietly(shimPid) });
    const state: ProcessState = {
      pid,
      shimPid,
      startedAt: new Date().toISOString(),
      pidStartTime: processStartTime(pid),
    };
    this.track(spec.id, spec.stateDir, state);
    void exited.then(() => this.finish(spec.id));
    return state;
  }

  /** Re-attaches to a container started by an earlier daemon (after a restart). */
  adopt(id: string, stateDir: string, state: Pick<ProcessState, 'pid' | 'shimPid'> & { pidStartTime?: string }): void {
    const t = this.track(id, stateDir, { pid: state.pid, shimPid: state.shimPid, pidStartTime: state.pidStartTime ?? '' });
    t.adopted = true;
    try {
      t.watcher = watch(stateDir, (_event, name) => { if (name === StateFile.exit && ended(t)) this.finish(id); });
    } catch {
      t.watcher = undefined;
    }
    this.sweepTimer ??= setInterval(() => this.sweep(), ADOPT_POLL_MS);
    if (ended(t)) this.finish(id);
  }

  /** inotify watches held on adopted containers' state dirs (one each). */
  watchCount(): number {
    let n = 0;
    for (const t of this.tracked.values()) if (t.watcher && !t.exit) n++;
    return n;
  }

  /** The adopted shims that are gone are finished; the timer stops once none is left. */
  private sweep(): void {
    const full = ++this.sweeps % FULL_CHECK_EVERY === 0;
    let left = 0;
    for (const [id, t] of this.tracked) {
      if (!t.adopted || t.exit) continue;
      if (full ? ended(t) : !signalable(t.shimPid > 0 ? t.shimPid : t.pid)) this.finish(id);
      else left++;
    }
    if (!left) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  /** Calls cb once when the container process ends (at once, later, if it already has). */
  onExit(id: string, cb: ExitCallback): void {
    const t = this.get(id);
    if (t.exit) {
      const exit = t.exit;
      setImmediate(() => cb(exit));
      return;
    }
    t.callbacks.push(cb);
  }

  /** SIGTERM, then SIGKILL after timeoutSec (< 0: wait for ever); resolves once it has exited. */
  async stop(id: string, timeoutSec = 10): Promise<void> {
    const t = this.get(id);
    if (t.exit) return;
    this.kill(id, 'SIGTERM');
    if (timeoutSec >= 0 && !(await this.exitedWithin(t, timeoutSec * 1000))) this.kill(id, 'SIGKILL');
    if (!t.exit) await this.exitedWithin(t, Infinity);
  }

  /** Signals the container process; a no-op once it has exited (the caller checks status). */
  kill(id: string, signal: string | number = 'SIGKILL'): void {
    const t = this.get(id);
    if (t.exit) return;
    try {
      process.kill(t.pid, signal);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ERR_UNKNOWN_SIGNAL' || e.code === 'EINVAL') throw new InvalidParameterError(`invalid signal: ${String(signal)}`);
      if (e.code !== 'ESRCH') throw new BerthError(`cannot signal container ${id}: ${e.message}`, 500);
    }
  }

  readExit(stateDir: string): ExitStatus | undefined {
    return readExitFile(stateDir);
  }

  /** The recorded pid is alive and still the process we started (start time matches). */
  isRunning(state: Pick<ProcessState, 'pid'> & { pidStartTime?: string }): boolean {
    return isOurProcess(state.pid, state.pidStartTime);
  }

  logStream(stateDir: string, opts: LogOptions): Readable {
    return logStream(stateDir, opts);
  }

  /**
   * Sends bytes to the stdin of the container whose state dir this is (started with
   * interactive). Writes keep their order. Never throws: false when there is no stdin to
   * write to (not interactive, or the container is gone) and the bytes were dropped.
   */
  writeStdin(stateDir: string, data: string | Buffer): boolean {
    const w = this.stdinWriter(stateDir);
    if (!w) return false;
    w.write(data);
    return true;
  }

  /** EOF on the container's stdin, once everything written before has been passed on. */
  closeStdin(stateDir: string): void {
    const w = this.stdinWriters.get(stateDir);
    this.stdinWriters.delete(stateDir);
    const send = () => { try { control(stateDir, 'close-stdin'); } catch { /* container gone */ } };
    if (!w) return send();
    w.end(() => { w.destroy(); send(); });
  }

  /** Window size of a container started with tty. */
  resize(stateDir: string, rows: number, cols: number): void {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || rows > 65535 || cols > 65535) {
      throw new InvalidParameterError('invalid terminal size');
    }
    control(stateDir, `resize ${rows} ${cols}`);
  }

  exec(state: Pick<ProcessState, 'pid'> & { pidStartTime?: string }, spec: ExecSpec): ChildProcess {
    return execInContainer(state, spec);
  }

  /** `docker top`: the host's ps (ps_args, default -ef) cut down to the container's processes. */
  top(state: Pick<ProcessState, 'pid' | 'shimPid'>, psArgs?: string): Promise<TopAnswer> {
    return top(state, psArgs);
  }

  /** Window size of an exec started with tty. */
  resizeExec(child: ChildProcess, rows: number, cols: number): void {
    resizeExec(child, rows, cols);
  }

  /** Stops watching (the daemon is shutting down); containers keep running. */
  close(): void {
    this.spawner.close();
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const id of [...this.tracked.keys()]) this.forget(id);
    for (const w of this.stdinWriters.values()) w.destroy();
    this.stdinWriters.clear();
  }

  // ---- internals --------------------------------------------------------------------

  private get(id: string): Tracked {
    const t = this.tracked.get(id);
    if (!t) throw new NotFoundError(`No such container process: ${id}`);
    return t;
  }

  private track(id: string, stateDir: string, s: Pick<ProcessState, 'pid' | 'shimPid' | 'pidStartTime'>): Tracked {
    this.forget(id);
    const t: Tracked = { stateDir, pid: s.pid, shimPid: s.shimPid, pidStartTime: s.pidStartTime, callbacks: [] };
    this.tracked.set(id, t);
    return t;
  }

  private forget(id: string): void {
    const t = this.tracked.get(id);
    if (!t) return;
    t.watcher?.close();
    this.tracked.delete(id);
  }

  /** The shim is gone: its exit file says how the container ended. */
  private finish(id: string): void {
    const t = this.tracked.get(id);
    if (!t || t.exit) return;
    t.watcher?.close();
    // no exit file: the shim itself was killed before it could write one
    t.exit = readExitFile(t.stateDir) ?? { exitCode: 255, finishedAt: new Date().toISOString() };
    this.stdinWriters.get(t.stateDir)?.destroy();
    this.stdinWriters.delete(t.stateDir);
    const callbacks = t.callbacks.splice(0);
    for (const cb of callbacks) cb(t.exit);
  }

  private exitedWithin(t: Tracked, ms: number): Promise<boolean> {
    if (t.exit) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => resolve(false), ms) : undefined;
      t.callbacks.push(() => {
        if (timer) clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** One writer per state dir, so successive writes reach the FIFO in order. */
  private stdinWriter(stateDir: string): Socket | undefined {
    let w = this.stdinWriters.get(stateDir);
    if (w && !w.destroyed) return w;
    let fd: number;
    try {
      fd = openFifo(stateDir, StateFile.stdin);
    } catch {
      return undefined;
    }
    w = new Socket({ fd, readable: false, writable: true });
    w.on('error', () => { w?.destroy(); this.stdinWriters.delete(stateDir); });
    this.stdinWriters.set(stateDir, w);
    return w;
  }
}

/** Opens one of the shim's FIFOs for writing; ENXIO means no shim reads it any more. */
function openFifo(stateDir: string, name: string): number {
  try {
    return openSync(join(stateDir, name), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && name === StateFile.stdin) throw new ConflictError('the container was not started with an open stdin');
    throw new ConflictError('the container is not running');
  }
}

/** One control line to the shim (shorter than PIPE_BUF, so the write is atomic). */
function control(stateDir: string, line: string): void {
  const fd = openFifo(stateDir, StateFile.ctl);
  try {
    writeSync(fd, `${line}\n`);
  } finally {
    closeSync(fd);
  }
}

/** Resolves with the container pid once the shim wrote DIR/pid; rejects with DIR/error. */
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The shim being waited for: when it ends, and how to stop it. */
interface StartingShim {
  exited: Promise<void>;
  kill: () => void;
}

function waitForPid(stateDir: string, shim: StartingShim): Promise<number> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err?: Error, pid?: number) => {
      if (settled) return;
      settled = true;
      watcher?.close();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(pid!);
    };
    const check = (): boolean => {
      const pid = readPidFile(stateDir);
      if (pid) { done(undefined, pid); return true; }
      const error = readErrorFile(stateDir);
      if (error !== undefined) { done(setupError(error)); return true; }
      return false;
    };
    const onShimExit = () => {
      if (!check()) done(new BerthError('container set-up failed: berth-shim exited without a word', 500));
    };
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(stateDir, () => void check());
    } catch {
      watcher = undefined;
    }
    const timer = setTimeout(() => {
      if (check()) return;
      shim.kill(); // a shim stuck in set-up must not linger as a half-started container
      done(new BerthError('container set-up timed out', 500));
    }, START_TIMEOUT_MS);
    void shim.exited.then(onShimExit);
    check();
  });
}

/** Errors the user caused (bad path, bad namespace file) are 400s; the rest are 500s. */
function setupError(text: string): Error {
  // a fork refused for want of tasks is the host's limit, and says which one to raise
  const tasks = /^fork failed: Resource temporarily unavailable/.test(text)
    ? ' (the host is out of tasks: kernel.pid_max, kernel.threads-max or a pids cgroup limit; raise it, e.g. sysctl -w kernel.pid_max=4194304)'
    : '';
  const msg = `failed to create container process: ${text}${tasks}`;
  return /No such file|Not a directory|Invalid argument|Permission denied/.test(text) ? new InvalidParameterError(msg) : new BerthError(msg, 500);
}

/** An adopted container has ended: its exit file is there, or its shim is gone (a zombie counts: its new parent may not have reaped it yet). */
function ended(t: Tracked): boolean {
  const shimGone = t.shimPid > 0 ? !isOurProcess(t.shimPid) : !isOurProcess(t.pid, t.pidStartTime);
  return shimGone || readExitFile(t.stateDir) !== undefined;
}

/** kill(pid, 0): the process (or a zombie of it) still exists. */
function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
