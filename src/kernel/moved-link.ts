import type { LinkSpec, SandboxInterface } from './types.js';
import type { NetnsHandle } from './netns.js';
import { OpError } from './failure.js';

// A link that exists already (a parked end of a point-to-point pair, a plugin's link),
// moved into a sandbox under its sandbox name, and given back on removal when asked.

export function takeLink(_ns: NetnsHandle, i: SandboxInterface, _link: Extract<LinkSpec, { kind: 'existing' }>): () => void {
  throw new OpError(`cannot move link into ${i.ifName}: not supported yet`, 'EOPNOTSUPP', 95);
}

export function giveBackLink(_ns: NetnsHandle, ifName: string, _link: Extract<LinkSpec, { kind: 'existing' }>): void {
  throw new OpError(`cannot give ${ifName} back: not supported yet`, 'EOPNOTSUPP', 95);
}
