import { SysError, errnoName, strerror } from './ffi/libc.js';

// Worker-side failures: every error that leaves the worker names the operation and the
// object ("cannot create veth veth1a2b3c4: File exists") and carries the errno name.

export interface FailureReply {
  message: string;
  code: string;
  errno: number;
}

export class OpError extends Error {
  constructor(message: string, readonly code: string, readonly errno: number) {
    super(message);
  }
}

/** The errno behind a SysError or a Node fs error (whose errno is negative), else 0. */
export function errnoOf(e: unknown): number {
  if (e instanceof SysError) return e.errno;
  const n = (e as { errno?: unknown } | null)?.errno;
  return typeof n === 'number' ? Math.abs(n) : 0;
}

/** Rethrows `e` as an OpError prefixed with what was being done. OpErrors pass through. */
export function fail(what: string, e: unknown): never {
  if (e instanceof OpError) throw e;
  const errno = errnoOf(e);
  if (e instanceof SysError) throw new OpError(`${what}: ${e.message}`, e.code, errno);
  if (errno) throw new OpError(`${what}: ${strerror(errno)}`, errnoName(errno), errno);
  const msg = e instanceof Error ? e.message : String(e);
  throw new OpError(`${what}: ${msg}`, 'EIO', 0);
}

/** Runs fn; any error becomes an OpError about `what`. */
export function attempt<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    fail(what, e);
  }
}

export function toReply(e: unknown): FailureReply {
  if (e instanceof OpError) return { message: e.message, code: e.code, errno: e.errno };
  const msg = e instanceof Error ? e.message : String(e);
  return { message: `kernel worker: ${msg}`, code: 'EIO', errno: errnoOf(e) };
}

/** Runs an undo step whose failure must not hide the error being reported: best effort. */
export function quietly(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // best effort: the original error is the one worth reporting
  }
}
