import koffi from 'koffi';

// libc through koffi: only the syscalls the kernel worker needs. Every wrapper throws
// SysError with the errno right after the call, before anything else can clobber it.
// These calls block and some act on the calling thread only (setns, unshare): they are
// meant to run on the kernel worker thread, never on the main thread.

const libc = koffi.load('libc.so.6');

const c = {
  socket: libc.func('int socket(int domain, int type, int protocol)'),
  bind: libc.func('int bind(int fd, const void *addr, uint32 len)'),
  listen: libc.func('int listen(int fd, int backlog)'),
  send: libc.func('long send(int fd, const void *buf, size_t len, int flags)'),
  recv: libc.func('long recv(int fd, void *buf, size_t len, int flags)'),
  setsockopt: libc.func('int setsockopt(int fd, int level, int name, const void *val, uint32 len)'),
  close: libc.func('int close(int fd)'),
  setns: libc.func('int setns(int fd, int nstype)'),
  unshare: libc.func('int unshare(int flags)'),
  mount: libc.func('int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const void *data)'),
  umount2: libc.func('int umount2(const char *target, int flags)'),
  fsopen: libc.func('int fsopen(const char *fsname, unsigned int flags)'),
  fsconfig: libc.func('int fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)'),
  fsmount: libc.func('int fsmount(int fd, unsigned int flags, unsigned int attrFlags)'),
  gettid: libc.func('int gettid()'),
  ifNameToIndex: libc.func('unsigned int if_nametoindex(const char *name)'),
  strerror: libc.func('const char *strerror(int errnum)'),
};

export const CLONE_NEWNET = 0x40000000;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 1 << 18;
export const MNT_DETACH = 2;

const errnoNames = new Map<number, string>(
  Object.entries(koffi.os.errno).map(([name, n]) => [n, name] as [number, string]),
);

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

export function strerror(errno: number): string {
  return String(c.strerror(errno));
}

/** A failed syscall (or a netlink error reply): errno plus optional kernel detail (extack). */
export class SysError extends Error {
  readonly code: string;
  constructor(readonly errno: number, readonly detail = '') {
    super(strerror(errno) + (detail ? ` (${detail})` : ''));
    this.code = errnoName(errno);
  }
}

function check(rc: number | bigint): number {
  const n = Number(rc);
  if (n < 0) throw new SysError(koffi.errno());
  return n;
}

export function socket(domain: number, type: number, protocol: number): number {
  return check(c.socket(domain, type, protocol));
}
export function bind(fd: number, addr: Buffer): void {
  check(c.bind(fd, addr, addr.length));
}
export function listen(fd: number, backlog: number): void {
  check(c.listen(fd, backlog));
}
export function send(fd: number, buf: Buffer): number {
  return check(c.send(fd, buf, buf.length, 0));
}
export function recv(fd: number, buf: Buffer): number {
  return check(c.recv(fd, buf, buf.length, 0));
}
export function setsockopt(fd: number, level: number, name: number, val: Buffer): void {
  check(c.setsockopt(fd, level, name, val, val.length));
}
export function close(fd: number): void {
  check(c.close(fd));
}
export function setns(fd: number, nstype: number): void {
  check(c.setns(fd, nstype));
}
export function unshare(flags: number): void {
  check(c.unshare(flags));
}
export function mount(src: string | null, target: string, fstype: string | null, flags: number): void {
  check(c.mount(src, target, fstype, flags, null));
}
export function umount2(target: string, flags: number): void {
  check(c.umount2(target, flags));
}
const FSOPEN_CLOEXEC = 1;
const FSCONFIG_CMD_CREATE = 6;
const FSMOUNT_CLOEXEC = 1;

/** A new superblock of `fstype` as a detached mount: an fd to its root, attached nowhere, gone when closed. */
export function detachedMount(fstype: string): number {
  const fs = check(c.fsopen(fstype, FSOPEN_CLOEXEC));
  try {
    check(c.fsconfig(fs, FSCONFIG_CMD_CREATE, null, null, 0));
    return check(c.fsmount(fs, FSMOUNT_CLOEXEC, 0));
  } finally {
    c.close(fs);
  }
}
/**
 * The ifindex of a link of the calling thread's netns, by an ioctl: no RTM_GETLINK, whose
 * answer for a veth makes the kernel scan every peer netns id (10,000 at 10,000 containers).
 */
export function ifNameToIndex(name: string): number {
  const index = Number(c.ifNameToIndex(name));
  if (index === 0) throw new SysError(koffi.errno());
  return index;
}

export function gettid(): number {
  return check(c.gettid());
}
