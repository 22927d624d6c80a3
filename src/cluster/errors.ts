import { BerthError, UnavailableError } from '../util/errors.js';

// What a cluster store call can end in, as the API maps it: an etcd that cannot be reached
// in time is a 503 naming the store; any other failure of the store a 500 naming it too.

/** etcd did not answer within the call's deadline, refused, or is gone. */
export class ClusterStoreUnavailableError extends UnavailableError {}

/** etcd answered with an error (not a conflict: those are ConflictError, claims.ts). */
export class ClusterStoreError extends BerthError {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, 500);
    if (opts) this.cause = opts.cause;
  }
}

/** A watch asked for a revision etcd has compacted away: the watcher must re-list. */
export class ClusterStoreCompactedError extends ClusterStoreError {}
