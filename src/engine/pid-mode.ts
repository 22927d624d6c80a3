import type { PidNamespace } from '../runtime/types.js';
import type { ContainerRecord } from '../store/records.js';
import { ConflictError, InvalidParameterError, NotFoundError } from '../util/errors.js';
import type { State } from './state.js';

// HostConfig.PidMode, as dockerd reads it: '' (a pid namespace of the container's own),
// 'host', or 'container:NAME|ID' (another container's; kept as container:<full id>, as
// dockerd keeps it). The other container must exist at create and run at start.

const CONTAINER = 'container:';

/** The mode to keep for a create request; a 400 with dockerd's words for a bad one. */
export function checkPidMode(mode: string | undefined, state: State): string {
  if (!mode) return '';
  if (mode === 'host') return mode;
  if (!mode.startsWith(CONTAINER) || mode.length === CONTAINER.length) throw new InvalidParameterError(`invalid PID mode: ${mode}`);
  try {
    return CONTAINER + state.findContainer(mode.slice(CONTAINER.length)).id;
  } catch (err) {
    // dockerd answers a missing one at create with 400, not 404
    if (err instanceof NotFoundError) throw new InvalidParameterError(err.message);
    throw err;
  }
}

/** What the runtime gets at start; the target of container: must run (by our record). */
export function pidNamespaceOf(c: ContainerRecord, state: State, isRunning: (t: ContainerRecord) => boolean): PidNamespace {
  const mode = c.hostConfig.pidMode ?? '';
  if (mode === 'host') return 'host';
  if (!mode.startsWith(CONTAINER)) return 'private';
  const id = mode.slice(CONTAINER.length);
  const target = state.containers.get(id);
  if (!target) throw new ConflictError(`cannot join PID of a non running container: ${id}: No such container: ${id}`);
  if (target.state.status !== 'running' || !isRunning(target)) throw new ConflictError(`container ${target.id} is not running`);
  return { sharedWith: target.state.pid };
}
