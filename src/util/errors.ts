// Errors carry their HTTP status so the API layer maps them without string matching
// (Docker's httpstatus.FromError: NotFound→404, InvalidParameter→400, Conflict→409,
// Forbidden→403, Unavailable→503). The message is the one line a user sees.

export class BerthError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the request itself is wrong (bad name, bad CIDR, gateway outside subnet…). */
export class InvalidParameterError extends BerthError {
  constructor(message: string) { super(message, 400); }
}

/** 403: the operation is not allowed on this object (predefined network, active endpoints). */
export class ForbiddenError extends BerthError {
  constructor(message: string) { super(message, 403); }
}

/** 404: no such network / container / endpoint. */
export class NotFoundError extends BerthError {
  constructor(message: string) { super(message, 404); }
}

/** 409: the request conflicts with existing state (duplicate name, IP in use, pool overlap). */
export class ConflictError extends BerthError {
  constructor(message: string) { super(message, 409); }
}

/** 503: the daemon cannot serve this here (swarm endpoints of a node outside any swarm). */
export class UnavailableError extends BerthError {
  constructor(message: string) { super(message, 503); }
}

/** 500 from the kernel layer; `code` is the errno name (EEXIST, ENODEV, …) when known. */
export class KernelError extends BerthError {
  constructor(message: string, readonly code: string = 'EIO', readonly errno = 0) {
    super(message, 500);
  }
}

export function statusOf(err: unknown): number {
  return err instanceof BerthError ? err.status : 500;
}
