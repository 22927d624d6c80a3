import type { LinkSpec, SandboxInterface } from './types.js';
import type { NetnsHandle } from './netns.js';
import { OpError, attempt, fail, quietly } from './failure.js';
import { homeSocket } from './sockets.js';
import { createMacvlan, deleteLink, getLink, setLinkUp } from './netlink/links.js';
import { unsupported } from './network-links.js';

// A macvlan sub-interface of a parent in the daemon's netns, born inside the sandbox: one
// RTM_NEWLINK from the home socket, as the veth peer is (no window in which it sits in
// the daemon's netns under a temporary name).

const ENODEV = 19;
const EINVAL = 22;
const EADDRINUSE = 98;

/** Makes the macvlan in the sandbox, named i.ifName; returns how to undo it. */
export function makeMacvlan(ns: NetnsHandle, i: SandboxInterface, link: Extract<LinkSpec, { kind: 'macvlan' }>): () => void {
  const what = `cannot create macvlan ${i.ifName} on ${link.parent}`;
  const host = homeSocket();
  const parent = attempt(what, () => getLink(host, link.parent));
  if (!parent) throw new OpError(`${what}: parent interface ${link.parent} not found`, 'ENODEV', ENODEV);
  try {
    createMacvlan(host, { name: i.ifName, parent: parent.index, mode: link.mode, mac: i.mac, mtu: i.mtu, nsFd: ns.fd });
  } catch (e) {
    explain(what, e, link, parent.mtu, i.mtu);
  }
  const undo = () => quietly(() => deleteLink(ns.socket, i.ifName));
  // Up here rather than in configure: a MAC that another macvlan of the parent holds
  // (a sandbox deleted without its interfaces, torn down lazily by the kernel) only shows then.
  try {
    setLinkUp(ns.socket, i.ifName);
  } catch (e) {
    undo();
    if ((e as { errno?: number }).errno === EADDRINUSE) {
      throw new OpError(`${what}: MAC address ${i.mac} is in use by another macvlan on ${link.parent}`, 'EADDRINUSE', EADDRINUSE);
    }
    fail(`cannot bring macvlan ${i.ifName} up in netns ${ns.path}`, e);
  }
  return undo;
}

/** The kernel's bare errno, said in the words of what the user asked for. */
function explain(what: string, e: unknown, link: Extract<LinkSpec, { kind: 'macvlan' }>, parentMtu: number, mtu?: number): never {
  const errno = (e as { errno?: number }).errno;
  if (unsupported(e)) throw new OpError(`${what}: this kernel has no macvlan support (the macvlan module)`, 'EOPNOTSUPP', 95);
  if (errno === EINVAL && mtu !== undefined && mtu > parentMtu) {
    throw new OpError(`${what}: MTU ${mtu} is larger than the parent's (${parentMtu})`, 'EINVAL', EINVAL);
  }
  if (errno === EINVAL && link.mode === 'passthru') {
    throw new OpError(`${what}: a passthru macvlan must be the only macvlan on its parent`, 'EINVAL', EINVAL);
  }
  fail(what, e);
}
