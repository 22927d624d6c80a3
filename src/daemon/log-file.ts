import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

// berthd's own log as a size-capped file, for hosts without systemd's journal (which caps
// and rotates stderr by itself; contrib/systemd/). dockerd has no flag for this: it writes
// its log to stderr and leaves the rest to the init system. berthd borrows the value
// forms of dockerd's json-file options for container logs (max-size=10m, max-file=3):
// at most `maxFiles` files of about `maxBytes` each, PATH the newest, then PATH.1, PATH.2 …
//
// Written by hand rather than with an npm rotator (rotating-file-stream, file-stream-rotator):
// those are asynchronous streams, and berthd's last lines ("failed to start …", the
// shutdown) come right before process.exit(), which would drop what is still queued.
// A synchronous append of a line that the kernel has in the file before the next
// statement runs is what a daemon's log must be; the rotation is a few renames.

export class RotatingLogFile {
  private fd: number;
  private size: number;

  constructor(readonly path: string, readonly maxBytes: number, readonly maxFiles: number) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }

  /** Appends one line whole; a line that would pass the cap goes to a fresh file. */
  write(line: string): void {
    const data = Buffer.from(line);
    if (this.size > 0 && this.size + data.length > this.maxBytes) this.rotate();
    writeSync(this.fd, data);
    this.size += data.length;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** PATH.(n-1) is dropped, every PATH.i becomes PATH.(i+1), PATH becomes PATH.1. */
  private rotate(): void {
    closeSync(this.fd);
    rmSync(this.rotated(this.maxFiles - 1), { force: true });
    for (let i = this.maxFiles - 2; i >= 1; i--) renameQuietly(this.rotated(i), this.rotated(i + 1));
    if (this.maxFiles > 1) renameSync(this.path, this.rotated(1));
    this.fd = openSync(this.path, this.maxFiles > 1 ? 'a' : 'w', 0o640);
    this.size = 0;
  }

  private rotated(i: number): string {
    return i === 0 ? this.path : `${this.path}.${i}`;
  }
}

function renameQuietly(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // not rotated that far yet
  }
}

/** "10m", "512k", "1g" or bytes (binary units, as dockerd's max-size) → bytes. */
export function parseSize(v: string): number {
  const m = /^(\d+)\s*([kmg]?)i?b?$/i.exec(v.trim());
  if (!m) throw new Error(`"${v}" is not a size (e.g. 10m, 512k, 1g)`);
  const n = Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
  if (n < 1024) throw new Error(`"${v}" is too small for a log file (at least 1k)`);
  return n;
}
