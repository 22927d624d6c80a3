import { existsSync, watch, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { StateFile } from './state-files.js';
import type { LogOptions } from './types.js';

// A container's log file holds Docker's multiplexed stream framing, exactly as
// /containers/{id}/logs sends it: per frame an 8-byte header [stream (1 stdout, 2 stderr),
// 0, 0, 0, payload length uint32 big-endian] and then the payload. Serving logs is copying
// frames, filtered by stream; --tail re-frames the last N lines.

export interface Frame {
  stream: 1 | 2;
  payload: Buffer;
}

export function encodeFrame(stream: 1 | 2, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Splits bytes into whole frames; a partial frame at the end waits for more bytes. */
export class FrameParser {
  private rest = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const frames: Frame[] = [];
    let at = 0;
    while (buf.length - at >= 8) {
      const len = buf.readUInt32BE(at + 4);
      if (buf.length - at - 8 < len) break;
      const stream = buf[at] === 2 ? 2 : 1;
      frames.push({ stream, payload: buf.subarray(at + 8, at + 8 + len) });
      at += 8 + len;
    }
    this.rest = Buffer.from(buf.subarray(at));
    return frames;
  }
}

/** Keeps the last `max` lines of each stream's output, in order (what `logs --tail N` shows). */
export class LineTail {
  private lines: Frame[] = [];
  private partial: Record<1 | 2, Buffer[]> = { 1: [], 2: [] };

  constructor(private readonly max: number) {}

  add(f: Frame): void {
    let at = 0;
    for (;;) {
      const nl = f.payload.indexOf(10, at);
      if (nl < 0) break;
      this.partial[f.stream].push(f.payload.subarray(at, nl + 1));
      this.keep({ stream: f.stream, payload: Buffer.concat(this.partial[f.stream]) });
      this.partial[f.stream] = [];
      at = nl + 1;
    }
    if (at < f.payload.length) this.partial[f.stream].push(f.payload.subarray(at));
  }

  finish(): Frame[] {
    for (const s of [1, 2] as const) {
      if (this.partial[s].length) this.keep({ stream: s, payload: Buffer.concat(this.partial[s]) });
      this.partial[s] = [];
    }
    return this.lines;
  }

  private keep(f: Frame): void {
    if (this.max <= 0) return;
    this.lines.push(f);
    if (this.lines.length >= this.max * 2 + 64) this.lines = this.lines.slice(-this.max);
  }

  tail(): Frame[] {
    return this.finish().slice(-this.max);
  }
}

/** The container has ended (exit written) or is not running at all (no pid). */
function finished(stateDir: string): boolean {
  return existsSync(join(stateDir, StateFile.exit)) || !existsSync(join(stateDir, StateFile.pid));
}

/** Resolves on the next change in the state dir, or after a short while (missed events). */
function changeWaiter(stateDir: string): { next: () => Promise<void>; wake: () => void; close: () => void } {
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(stateDir, () => wake?.());
  } catch {
    watcher = undefined;
  }
  return {
    next: () => new Promise<void>((resolve) => {
      const timer = setTimeout(() => resolve(), 500);
      wake = () => { clearTimeout(timer); wake = undefined; resolve(); };
    }),
    wake: () => wake?.(),
    close: () => watcher?.close(),
  };
}

/**
 * A follower (attach, which comes before start) makes the log file if the shim has not yet:
 * the shim appends to it (O_APPEND|O_CREAT), and the reader's handle keeps the output even
 * when `run --rm` removes the state dir right after a short container exits, before the
 * reader's last pass (it lost all output about one run in ten under load).
 */
async function openLog(stateDir: string, follow: boolean): Promise<FileHandle | undefined> {
  try {
    return await open(join(stateDir, StateFile.log), follow ? 'a+' : 'r');
  } catch {
    return undefined;
  }
}

/** 'all', undefined, garbage → undefined (everything); "5" or 5 → 5. */
export function parseTail(tail: LogOptions['tail']): number | undefined {
  if (tail === undefined || tail === 'all' || tail === '') return undefined;
  const n = typeof tail === 'number' ? tail : Number(tail);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

async function* logFrames(stateDir: string, opts: LogOptions): AsyncGenerator<Buffer> {
  const want = (f: Frame) => (f.stream === 1 ? opts.stdout : opts.stderr);
  const out = (f: Frame) => (opts.raw ? Buffer.from(f.payload) : encodeFrame(f.stream, f.payload));
  const waiter = opts.follow ? changeWaiter(stateDir) : undefined;
  let untilSettled = false;
  const settle = () => { untilSettled = true; waiter?.wake(); };
  opts.until?.then(settle, settle);
  let fh = await openLog(stateDir, !!opts.follow);
  const parser = new FrameParser();
  const buf = Buffer.alloc(64 * 1024);
  let pos = 0;
  const tailLines = parseTail(opts.tail);
  let tail = tailLines !== undefined ? new LineTail(tailLines) : undefined;
  let finalPass = false;
  try {
    for (;;) {
      const { bytesRead } = fh ? await fh.read(buf, 0, buf.length, pos) : { bytesRead: 0 };
      if (bytesRead > 0) {
        pos += bytesRead;
        for (const f of parser.push(Buffer.from(buf.subarray(0, bytesRead)))) {
          if (!want(f)) continue;
          if (tail) tail.add(f);
          else yield out(f);
        }
        continue;
      }
      // at the end of what is written so far: the tail (if any) is now known
      if (tail) {
        for (const f of tail.tail()) yield out(f);
        tail = undefined;
      }
      if (!waiter || finalPass) return;
      // with `until` (attach before start, follow) the caller knows better than the state files
      if (untilSettled || (!opts.until && finished(stateDir))) {
        // the shim writes exit only after the last frame: one more pass catches up
        finalPass = true;
        fh ??= await openLog(stateDir, !!opts.follow);
        continue;
      }
      await waiter.next();
      fh ??= await openLog(stateDir, !!opts.follow);
    }
  } finally {
    waiter?.close();
    await fh?.close();
  }
}

/** A stream of frames of the container's log (follow: until the container exits). */
export function logStream(stateDir: string, opts: LogOptions): Readable {
  return Readable.from(logFrames(stateDir, opts), { objectMode: false });
}
