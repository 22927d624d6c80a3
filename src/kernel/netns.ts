import { closeSync, mkdirSync, openSync, statfsSync, unlinkSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import * as libc from './ffi/libc.js';
import { CLONE_NEWNET, MNT_DETACH, MS_BIND, MS_PRIVATE, MS_REC } from './ffi/libc.js';
import { attempt, errnoOf } from './failure.js';
import { NetlinkSocket } from './netlink/socket.js';
import { setLinkUp } from './netlink/links.js';
import { inOwnProc, writeSysctl } from './sysctl.js';

// Network namespaces as bind-mounted files, and the per-thread switch into them. Worker
// thread only: setns/unshare move the calling thread, and the discipline is always
// switch → synchronous syscalls → switch home in `finally`.

const NSFS_MAGIC = 0x6e736673;
const EINVAL = 22;
const ENOENT = 2;

let homeFd = -1;
const privateDirs = new Set<string>();

/** Remembers the thread's netns at start-up: every switch returns here. */
export function initHomeNetns(): void {
  if (homeFd < 0) homeFd = openSync('/proc/thread-self/ns/net', 'r');
}

/** An fd to the daemon's own netns (for IFLA_NET_NS_FD when a link goes home). */
export function homeNetnsFd(): number {
  return homeFd;
}

function goHome(): void {
  libc.setns(homeFd, CLONE_NEWNET);
}

/** Opens a netns file (an fd for setns or IFLA_NET_NS_FD). */
export function openNetns(path: string): number {
  return attempt(`cannot open netns ${path}`, () => openSync(path, 'r'));
}

/** Runs fn inside the netns at `path` (or at home when undefined), then switches back. */
export function inNetns<T>(path: string | undefined, fn: () => T): T {
  if (path === undefined) return fn();
  const fd = openNetns(path);
  try {
    attempt(`cannot enter netns ${path}`, () => libc.setns(fd, CLONE_NEWNET));
    try {
      return fn();
    } finally {
      goHome();
    }
  } finally {
    closeSync(fd);
  }
}

export function netnsExists(path: string): boolean {
  try {
    return statfsSync(path).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Makes `dir` a private mount of its own (as `ip netns` does for /run/netns), so netns
 * bind mounts under it neither propagate elsewhere nor get refused. Once per dir.
 */
function ensurePrivateDir(dir: string): void {
  if (privateDirs.has(dir)) return;
  attempt(`cannot prepare netns directory ${dir}`, () => {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    try {
      libc.mount(null, dir, null, MS_PRIVATE | MS_REC);
    } catch (e) {
      if (errnoOf(e) !== EINVAL) throw e; // EINVAL: not a mount point yet
      libc.mount(dir, dir, null, MS_BIND | MS_REC);
      libc.mount(null, dir, null, MS_PRIVATE | MS_REC);
    }
  });
  privateDirs.add(dir);
}

/**
 * A container netns held open by the worker during one operation: an rtnetlink socket
 * bound inside it (no setns per request) and an fd to it (for IFLA_NET_NS_FD).
 */
export interface NetnsHandle {
  path: string;
  socket: NetlinkSocket;
  fd: number;
}

export function closeNetnsHandle(h: NetnsHandle): void {
  h.socket.close();
  closeSync(h.fd);
}

/** Opens a handle on the existing netns at `path`; `inside` runs while the thread is in it. */
export function openNetnsHandle(path: string, inside?: () => void): NetnsHandle {
  const fd = openNetns(path);
  try {
    const socket = inNetns(path, () => {
      inside?.();
      return attempt(`cannot open rtnetlink socket in netns ${path}`, () => NetlinkSocket.open());
    });
    return { path, socket, fd };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * Makes a netns bind-mounted at `path`, with lo up, and returns a handle on it, opened
 * while the thread is still inside (so the new netns costs no extra switches; `inside`
 * runs there too, after lo is up). When a netns is already mounted there, returns a
 * handle on that one.
 */
export function createNetnsHandle(path: string, inside?: () => void): NetnsHandle {
  if (netnsExists(path)) return openNetnsHandle(path, inside);
  ensurePrivateDir(dirname(path));
  const created = !existsSync(path);
  if (created) attempt(`cannot create netns file ${path}`, () => closeSync(openSync(path, 'wx', 0o444)));
  try {
    attempt(`cannot create netns ${path}`, () => libc.unshare(CLONE_NEWNET));
    try {
      attempt(`cannot mount netns ${path}`, () => libc.mount('/proc/thread-self/ns/net', path, null, MS_BIND));
      attempt(`cannot turn IPv6 off in netns ${path}`, disableIpv6OnNewLinks);
      const handle = handleFromInside(path);
      try {
        inside?.();
      } catch (e) {
        closeNetnsHandle(handle);
        throw e;
      }
      return handle;
    } finally {
      goHome();
    }
  } catch (e) {
    if (created) removeNetns(path);
    throw e;
  }
}

/** The thread is inside the new netns: an fd to it, a socket bound in it, lo up. */
function handleFromInside(path: string): NetnsHandle {
  let fd: number | undefined;
  let socket: NetlinkSocket | undefined;
  try {
    fd = attempt(`cannot open netns ${path}`, () => openSync('/proc/thread-self/ns/net', 'r'));
    const s = (socket = attempt(`cannot open rtnetlink socket in netns ${path}`, () => NetlinkSocket.open()));
    attempt(`cannot bring lo up in netns ${path}`, () => setLinkUp(s, 'lo'));
    return { path, socket: s, fd };
  } catch (e) {
    socket?.close();
    if (fd !== undefined) closeSync(fd);
    throw e;
  }
}

/**
 * berth's networks are IPv4-only: interfaces made in a container netns get no IPv6 (as
 * Docker 27+ does on IPv4-only networks; lo keeps ::1). It also keeps each new
 * container's IPv6 chatter (DAD, router and MLD solicitations) off bridges that flood it
 * to hundreds of other containers. A kernel without IPv6 has no such file: fine.
 */
function disableIpv6OnNewLinks(): void {
  try {
    inOwnProc((proc) => writeSysctl('net/ipv6/conf/default/disable_ipv6', '1', proc));
  } catch (e) {
    if (errnoOf(e) !== ENOENT) throw e;
  }
}

export function createNetns(path: string): void {
  closeNetnsHandle(createNetnsHandle(path));
}

/** Detaches every mount on `path` and unlinks it; a missing or unmounted file is fine. */
function removeNetns(path: string): void {
  for (let i = 0; i < 8; i++) {
    try {
      libc.umount2(path, MNT_DETACH);
    } catch (e) {
      const errno = errnoOf(e);
      if (errno === EINVAL || errno === ENOENT) break;
      throw e;
    }
  }
  try {
    unlinkSync(path);
  } catch (e) {
    if (errnoOf(e) !== ENOENT) throw e;
  }
}

export function deleteNetns(path: string): void {
  attempt(`cannot delete netns ${path}`, () => removeNetns(path));
}
