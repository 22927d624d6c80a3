// Long-running processes of a lab (echo server, berthd, test helpers) with their output kept.
import { spawn, type ChildProcess } from 'node:child_process';
import { exited, exitedWithin, sleep } from './exec.js';

export class LabProcess {
  private log = '';
  readonly child: ChildProcess;

  constructor(readonly argv: string[], env?: Record<string, string>) {
    const [file, ...args] = argv;
    if (!file) throw new Error('LabProcess: empty argv');
    this.child = spawn(file, args, {
      env: env ? { ...process.env, ...env } : process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.log += d));
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.log += d));
    // A failed spawn shows up as an exit; never as an unhandled 'error' event.
    this.child.on('error', (err) => (this.log += `\n[lab] spawn error: ${err.message}\n`));
  }

  /** stdout and stderr interleaved, as received so far. */
  output(): string {
    return this.log;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  describeExit(): string {
    const c = this.child;
    return c.signalCode ? `killed by ${c.signalCode}` : `exited with code ${c.exitCode}`;
  }

  /** Waits until the output contains text; throws if the process exits or time runs out. */
  async waitForOutput(text: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.log.includes(text)) {
      if (!this.running) throw new Error(`${this.argv.join(' ')} ${this.describeExit()}:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`${this.argv.join(' ')} did not print "${text}" in ${timeoutMs} ms:\n${this.log}`);
      await sleep(20);
    }
  }

  /** Sends signal, waits up to graceMs, then SIGKILLs and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (this.child.pid === undefined) return; // never started: no exit event will come
    if (!this.running) return exited(this.child);
    this.child.kill(signal);
    if (signal === 'SIGKILL' || (await exitedWithin(this.child, graceMs))) return exited(this.child);
    this.log += `\n[lab] no exit ${graceMs} ms after ${signal}: SIGKILL\n`;
    this.child.kill('SIGKILL');
    return exited(this.child);
  }
}
