import { closeSync } from 'node:fs';
import type { LinkInfo, LinkSpec, SandboxInterface } from './types.js';
import { homeNetnsFd, openNetns, type NetnsHandle } from './netns.js';
import { OpError, attempt, fail, quietly } from './failure.js';
import { homeSocket, where, withSocket } from './sockets.js';
import { createVethPair, getLink, moveLink, setLinkAddressMtu, setLinkDown } from './netlink/links.js';
import type { NetlinkSocket } from './netlink/socket.js';

// A link that exists already (a parked end of a point-to-point pair, a plugin's link),
// moved into a sandbox under its sandbox name, and given back on removal when asked.
// A move is one RTM_NEWLINK (IFLA_NET_NS_FD + IFLA_IFNAME); the kernel brings the link
// down and drops its addresses as it crosses. Whatever fails, the link is never lost: it
// is either where it was or back there.

type Existing = Extract<LinkSpec, { kind: 'existing' }>;

const ENODEV = 19;
const EEXIST = 17;

/** Moves link.name from link.netns (or the daemon's) into the sandbox as i.ifName, with i.mac/i.mtu. Returns its undo: give it back. */
export function takeLink(ns: NetnsHandle, i: SandboxInterface, link: Existing): () => void {
  const what = `cannot move ${link.name}${where(link.netns)} into netns ${ns.path} as ${i.ifName}`;
  withSocket(link.netns, (from) => {
    const found = attempt(what, () => getLink(from, link.name) ?? remakePair(from, link));
    if (!found) throw new OpError(`${what}: link ${link.name} not found`, 'ENODEV', ENODEV);
    if (attempt(what, () => getLink(ns.socket, i.ifName))) {
      throw new OpError(`${what}: the sandbox has a link named ${i.ifName} already`, 'EEXIST', EEXIST);
    }
    const arrivesUnderOldName = !attempt(what, () => getLink(ns.socket, link.name));
    // renaming needs the link down; the kernel would bring it down anyway on the move
    attempt(what, () => setLinkDown(from, link.name));
    try {
      moveLink(from, found.index, ns.fd, i.ifName);
    } catch (e) {
      // moved, then the rename failed: it sits in the sandbox under its old name
      if (arrivesUnderOldName && getLinkQuietly(ns.socket, link.name)) rescue(ns.socket, link.name, link);
      fail(what, e);
    }
  });
  const undo = () => quietly(() => giveBackLink(ns, i.ifName, link));
  if (i.mac !== undefined || i.mtu !== undefined) {
    try {
      attempt(`cannot set the MAC/MTU of ${i.ifName} in netns ${ns.path}`, () => setLinkAddressMtu(ns.socket, i.ifName, i.mac, i.mtu));
    } catch (e) {
      undo();
      throw e;
    }
  }
  return undo;
}

/** Moves the sandbox's ifName back to link.netns (or the daemon's) under link.name: down, no addresses. Idempotent. */
export function giveBackLink(ns: NetnsHandle, ifName: string, link: Existing): void {
  const what = `cannot give ${ifName} in netns ${ns.path} back as ${link.name}${where(link.netns)}`;
  const here = attempt(what, () => getLink(ns.socket, ifName));
  if (!here) return;
  withHomeOf(link, (to, fd) => {
    if (attempt(what, () => getLink(to, link.name))) {
      throw new OpError(`${what}: a link named ${link.name} is there already`, 'EEXIST', EEXIST);
    }
    attempt(what, () => setLinkDown(ns.socket, ifName));
    attempt(what, () => moveLink(ns.socket, here.index, fd, link.name));
  });
}

/** The pair `link` is an end of, made again when neither end is left; its end `link.name`, or null. */
function remakePair(s: NetlinkSocket, link: Existing): LinkInfo | null {
  if (link.pair === undefined || getLink(s, link.pair)) return null;
  createVethPair(s, link.name, link.pair);
  return getLink(s, link.name);
}

/** A socket in the link's home netns and an fd to that netns. */
function withHomeOf<T>(link: Existing, fn: (s: NetlinkSocket, fd: number) => T): T {
  if (link.netns === undefined) return fn(homeSocket(), homeNetnsFd());
  const fd = openNetns(link.netns);
  try {
    return withSocket(link.netns, (s) => fn(s, fd));
  } finally {
    closeSync(fd);
  }
}

/** A half-done move: the link goes straight back home under its name. */
function rescue(sandbox: NetlinkSocket, name: string, link: Existing): void {
  try {
    withHomeOf(link, (_s, fd) => {
      const l = getLink(sandbox, name);
      if (l) moveLink(sandbox, l.index, fd, link.name);
    });
  } catch {
    // it stays in the sandbox, which deleting the sandbox would then destroy: nothing better to do
  }
}

function getLinkQuietly(s: NetlinkSocket, name: string): boolean {
  try {
    return getLink(s, name) !== null;
  } catch {
    return false;
  }
}
