import { MADE_BY_BERTH_ALIAS, type LinkInfo } from './types.js';
import { OpError, attempt, fail, quietly } from './failure.js';
import { homeSocket, where, withSocket } from './sockets.js';
import { addAddress } from './netlink/addrs.js';
import {
  createMacvlan, createVethPair as newVethPair, createVlan, deleteLink, getLink, setLinkAlias, setLinkPromisc, setLinkUp,
} from './netlink/links.js';
import type { NetlinkSocket } from './netlink/socket.js';
import { closeNetnsHandle, createNetnsHandle, deleteNetns, netnsExists } from './netns.js';
import { writeSysctl } from './sysctl.js';

// Links a network owns outside any sandbox: a point-to-point pair parked in a netns of its
// own between joins, a VLAN sub-interface or a link to nowhere made to be a macvlan
// parent, the host's macvlan "shim" (its way to its own macvlan children), a parent in
// promiscuous mode.

const EEXIST = 17;
const ENODEV = 19;
const EOPNOTSUPP = 95;
/** the kernel-internal ENOTSUPP some drivers leak */
const ENOTSUPP = 524;

/** A link kind the kernel has no driver for: one error naming the missing feature. */
export function unsupported(e: unknown): boolean {
  const err = e as { errno?: number; message?: string };
  return err.errno === EOPNOTSUPP || err.errno === ENOTSUPP || /Unknown device type/i.test(err.message ?? '');
}

function needParent(s: NetlinkSocket, what: string, parent: string): LinkInfo {
  const link = attempt(what, () => getLink(s, parent));
  if (!link) throw new OpError(`${what}: parent interface ${parent} not found`, 'ENODEV', ENODEV);
  return link;
}

/**
 * A veth pair `name`/`peer` with both ends (down) in `netns`. Idempotent: when either end
 * is there the pair exists (a veth's ends live and die together; the other may be in a
 * sandbox), and nothing is done.
 */
export function createVethPair(name: string, peer: string, netns?: string, mtu?: number): void {
  const what = `cannot create veth pair ${name}/${peer}${where(netns)}`;
  withSocket(netns, (s) => {
    for (const end of [name, peer]) {
      const l = attempt(what, () => getLink(s, end));
      if (!l) continue;
      if (l.kind !== 'veth') throw new OpError(`${what}: a link named ${end} exists and is not a veth`, 'EEXIST', EEXIST);
      return;
    }
    attempt(what, () => newVethPair(s, name, peer, mtu));
  });
}

/**
 * The 802.1q sub-interface `parent.id` in the daemon's netns, up. Made (and marked with
 * MADE_BY_BERTH_ALIAS) when missing; true when this call made it. A kernel without 8021q:
 * EOPNOTSUPP, said so.
 */
export function ensureVlan(parent: string, id: number): boolean {
  const name = `${parent}.${id}`;
  const what = `cannot create VLAN interface ${name}`;
  const s = homeSocket();
  const existing = attempt(what, () => getLink(s, name));
  if (existing) {
    if (existing.kind !== 'vlan') throw new OpError(`${what}: a link named ${name} exists and is not a VLAN`, 'EEXIST', EEXIST);
    if (!existing.up) attempt(`cannot bring ${name} up`, () => setLinkUp(s, name));
    return false;
  }
  const lower = needParent(s, what, parent);
  try {
    createVlan(s, name, lower.index, id);
  } catch (e) {
    if (unsupported(e)) {
      throw new OpError(`${what}: this kernel has no 802.1q VLAN support (the 8021q module)`, 'EOPNOTSUPP', EOPNOTSUPP);
    }
    fail(what, e);
  }
  try {
    attempt(what, () => setLinkAlias(s, name, MADE_BY_BERTH_ALIAS));
    attempt(`cannot bring ${name} up`, () => setLinkUp(s, name));
  } catch (e) {
    quietly(() => deleteLink(s, name));
    throw e;
  }
  return true;
}

/**
 * `name`, a veth end in the daemon's netns, up, whose peer (eth0, up) is alone in the netns
 * `deadEnd`: a NIC on a wire that leads nowhere. The parent of a macvlan network given
 * no parent, whose containers then reach each other and nothing else. Docker uses a
 * dummy link for this; a veth works on kernels without dummy links too. Idempotent; on
 * failure what this call made is removed.
 */
export function ensureLinkToNowhere(name: string, deadEnd: string): void {
  const what = `cannot create ${name}, a link to nowhere`;
  const s = homeSocket();
  const made = !netnsExists(deadEnd);
  const ns = createNetnsHandle(deadEnd);
  try {
    const existing = attempt(what, () => getLink(s, name));
    if (existing && existing.kind !== 'veth') throw new OpError(`${what}: a link named ${name} exists and is not a veth`, 'EEXIST', EEXIST);
    if (!existing) attempt(what, () => newVethPair(s, name, 'eth0', undefined, ns.fd));
    try {
      attempt(`cannot turn IPv6 off on ${name}`, () => disableIpv6(name));
      attempt(`cannot bring ${name} up`, () => setLinkUp(s, name));
      attempt(`cannot bring eth0 up in netns ${deadEnd}`, () => setLinkUp(ns.socket, 'eth0'));
    } catch (e) {
      if (!existing) quietly(() => deleteLink(s, name));
      throw e;
    }
  } catch (e) {
    closeNetnsHandle(ns);
    if (made) deleteNetns(deadEnd);
    throw e;
  }
  closeNetnsHandle(ns);
}

/** No IPv6 chatter (DAD, router solicitations) from a link that carries none. */
function disableIpv6(ifName: string): void {
  try {
    writeSysctl(`net/ipv6/conf/${ifName}/disable_ipv6`, '1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // a kernel without IPv6
  }
}

/**
 * The host's macvlan shim: `name`, a bridge-mode macvlan on `parent` in the daemon's
 * netns with address `cidr`, up. A macvlan's frames never reach its own parent, so the
 * host talks to its macvlan children only through a sibling like this (routes to them
 * via the shim are the caller's). Idempotent; on failure a shim this call made is removed.
 */
export function ensureMacvlanShim(name: string, parent: string, cidr: string): void {
  const what = `cannot create macvlan shim ${name} on ${parent}`;
  const s = homeSocket();
  let link = attempt(what, () => getLink(s, name));
  if (link && link.kind !== 'macvlan') throw new OpError(`${what}: a link named ${name} exists and is not a macvlan`, 'EEXIST', EEXIST);
  const made = !link;
  if (!link) {
    const lower = needParent(s, what, parent);
    try {
      createMacvlan(s, { name, parent: lower.index, mode: 'bridge' });
    } catch (e) {
      if (unsupported(e)) throw new OpError(`${what}: this kernel has no macvlan support (the macvlan module)`, 'EOPNOTSUPP', EOPNOTSUPP);
      fail(what, e);
    }
    link = attempt(what, () => getLink(s, name));
  }
  try {
    const index = link?.index ?? 0;
    attempt(`cannot add address ${cidr} to ${name}`, () => addAddress(s, index, cidr));
    // IPv4 only: no link-local or SLAAC address of the host's on the LAN through the shim
    attempt(`cannot turn IPv6 off on ${name}`, () => disableIpv6(name));
    attempt(`cannot bring ${name} up`, () => setLinkUp(s, name));
  } catch (e) {
    if (made) quietly(() => deleteLink(s, name));
    throw e;
  }
}

export function setPromisc(name: string, on: boolean, netns?: string): void {
  withSocket(netns, (s) => attempt(`cannot turn promiscuous mode ${on ? 'on' : 'off'} on ${name}${where(netns)}`, () => setLinkPromisc(s, name, on)));
}
