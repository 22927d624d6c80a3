import type { LinkSpec, SandboxInterface } from './types.js';
import type { NetnsHandle } from './netns.js';
import { OpError } from './failure.js';

// A macvlan sub-interface of a parent in the daemon's netns, born inside the sandbox.

/** Makes the macvlan in the sandbox, named i.ifName; returns how to undo it. */
export function makeMacvlan(_ns: NetnsHandle, i: SandboxInterface, _link: Extract<LinkSpec, { kind: 'macvlan' }>): () => void {
  throw new OpError(`cannot create macvlan ${i.ifName}: not supported yet`, 'EOPNOTSUPP', 95);
}
