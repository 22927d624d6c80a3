// One Docker Engine API client for every engine a benchmark drives over its unix socket
// (dockerd and berthd alike): JSON requests, the docker CLI, and a followed log stream.
import { request } from 'node:http';
import { apiRequest, type ApiResponse } from '../../test/lab/api-client.js';
import { runOk } from '../../test/lab/exec.js';

/** The Go docker CLI (28.x here): it negotiates the API version down to what the engine speaks. */
export const DOCKER_CLI = '/usr/local/bin/docker';

export class EngineClient {
  constructor(readonly name: string, readonly sock: string) {}

  /** A request that must succeed (status < 400), within timeoutMs. */
  async api(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<ApiResponse> {
    const r = await apiRequest(this.sock, method, path, body, timeoutMs);
    if (r.status >= 400) throw new EngineError(`${this.name} ${method} ${path}: ${r.status} ${r.text.trim()}`, r.status, r.text.trim());
    return r;
  }

  /** The same request, its failure returned rather than thrown (for refusals a bench reports). */
  tryApi(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<ApiResponse> {
    return apiRequest(this.sock, method, path, body, timeoutMs);
  }

  cli(args: string[], timeoutMs = 120_000): Promise<string> {
    return runOk([DOCKER_CLI, '-H', `unix://${this.sock}`, ...args], { timeoutMs });
  }

  /** A container's main process, as the engine reports it (our pid namespace: the engines run in it). */
  async pidOf(id: string): Promise<number> {
    const pid = ((await this.api('GET', `/containers/${id}/json`)).body as { State?: { Pid?: number } }).State?.Pid;
    if (!pid) throw new Error(`${this.name}: container ${id} has no pid`);
    return pid;
  }

  /** Follows a container's stdout+stderr (GET /containers/ID/logs?follow=1): lines as they come. */
  followLogs(id: string): LogFollower {
    return new LogFollower(this.sock, `/containers/${id}/logs?follow=1&stdout=1&stderr=1`);
  }
}

export class EngineError extends Error {
  constructor(message: string, readonly status: number, readonly text: string) {
    super(message);
  }
}

/**
 * A followed log stream of a container made without a TTY, demultiplexed (Docker's framing:
 * an 8-byte header, stream type and big-endian length, then the payload; dockerd 20.10 sends
 * it under a raw-stream content type, so the header is not asked), split in lines.
 */
export class LogFollower {
  private buffered = Buffer.alloc(0);
  private partial = '';
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private ended: Error | undefined;
  private readonly req;

  constructor(sock: string, path: string) {
    this.req = request({ socketPath: sock, method: 'GET', path, headers: { Host: 'engine' } }, (res) => {
      res.on('data', (d: Buffer) => this.take(d));
      res.on('end', () => this.finish(new Error(`log stream ${path} ended`)));
      res.on('error', (e) => this.finish(e));
    });
    this.req.on('error', (e) => this.finish(e));
    this.req.end();
  }

  private take(d: Buffer): void {
    let text = '';
    this.buffered = Buffer.concat([this.buffered, d]);
    while (this.buffered.length >= 8) {
      const size = this.buffered.readUInt32BE(4);
      if (this.buffered.length < 8 + size) break;
      text += this.buffered.subarray(8, 8 + size).toString('utf8');
      this.buffered = this.buffered.subarray(8 + size);
    }
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    this.waiter?.();
  }

  private finish(err: Error): void {
    this.ended ??= err;
    this.waiter?.();
  }

  /** The next line matching re (lines before it are dropped), or an error after timeoutMs. */
  async next(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.lines.length) {
        const m = re.exec(this.lines.shift() ?? '');
        if (m) return m;
      }
      if (this.ended) throw this.ended;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no log line matching ${re} in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  close(): void {
    this.req.destroy();
  }
}
