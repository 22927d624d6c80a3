import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../util/errors.js';

// Starts shims through berth-spawner (src/runtime/shim/berth-spawner.c): a tiny fork
// server, so the daemon's event loop never pays for fork()ing the daemon itself. The shim
// is linked into it ("@berth-shim", no exec), and a spare child waits forked ahead.

export function spawnerPath(): string {
  const path = process.env.BERTH_SPAWNER ?? fileURLToPath(new URL('../../bin/berth-spawner', import.meta.url));
  if (!existsSync(path)) throw new BerthError(`berth-spawner not found at ${path}: run "npm run build"`, 500);
  return path;
}

export class ShimSpawner {
  private proc: ChildProcess | undefined;
  private readonly waiting: { resolve: (pid: number) => void; reject: (err: Error) => void }[] = [];
  private readonly exits = new EventEmitter().setMaxListeners(0);
  /** exit codes of children that ended before anyone asked */
  private readonly ended = new Map<number, number>();
  private partial = '';
  private closed = false;
  /** how many spawns and exit watches are outstanding: while any is, the spawner keeps the process alive */
  private refs = 0;

  /** Starts `program args…` in its own session; resolves with its pid. */
  spawn(program: string, args: string[]): Promise<number> {
    const proc = this.ensure();
    const body = Buffer.from([program, ...args].map((a) => `${a}\0`).join(''));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length, 0);
    this.hold();
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      proc.stdin!.write(Buffer.concat([head, body]));
    }).finally(() => this.release());
  }

  /** Calls back once with the exit code (128+signal) when the child `pid` ends. */
  onExit(pid: number, cb: (code: number) => void): void {
    const code = this.ended.get(pid);
    if (code !== undefined) {
      this.ended.delete(pid);
      cb(code);
    } else {
      this.hold();
      this.exits.once(String(pid), (c: number) => {
        this.release();
        cb(c);
      });
    }
  }

  /** Lets the process exit: the spawner ends with its stdin, its children live on. */
  close(): void {
    this.closed = true;
    this.proc?.stdin?.end();
    this.setRef(false);
  }

  private hold(): void {
    if (this.refs++ === 0) this.setRef(true);
  }

  private release(): void {
    if (--this.refs === 0) this.setRef(false);
  }

  private setRef(on: boolean): void {
    const out = this.proc?.stdout as Socket | undefined;
    if (on && !this.closed) {
      this.proc?.ref();
      out?.ref();
    } else {
      this.proc?.unref();
      out?.unref();
    }
  }

  private ensure(): ChildProcess {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) return this.proc;
    if (this.closed) throw new BerthError('the shim spawner is closed', 500);
    const proc = spawn(spawnerPath(), [], { stdio: ['pipe', 'pipe', 'inherit'] });
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => this.onData(d));
    const fail = (err: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(err);
    };
    proc.on('error', (err) => fail(new BerthError(`cannot start berth-spawner: ${err.message}`, 500)));
    proc.on('exit', (code, signal) => fail(new BerthError(`berth-spawner ended (${signal ?? code})`, 500)));
    this.proc = proc;
    this.setRef(this.refs > 0);
    return proc;
  }

  private onData(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const [kind, a, b] = line.split(' ');
      if (kind === 'ok') this.waiting.shift()?.resolve(Number(a));
      else if (kind === 'err') this.waiting.shift()?.reject(new BerthError(`cannot start berth-shim: errno ${a}`, 500));
      else if (kind === 'exit') this.childEnded(Number(a), Number(b));
    }
  }

  private childEnded(pid: number, code: number): void {
    if (!this.exits.emit(String(pid), code)) this.ended.set(pid, code);
  }
}
