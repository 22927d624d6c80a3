/*
 * The kernel file systems every image expects, made as Docker (runc) makes them:
 *   /proc        a procfs of the container's own pid namespace (ps, top, kill 1 see only it)
 *   /dev         a small tmpfs: null zero full random urandom tty, ptmx -> pts/ptmx, a devpts
 *                instance of its own at /dev/pts (no host terminal is visible), shm (tmpfs),
 *                mqueue (of its ipc namespace), fd stdin stdout stderr -> /proc/self/fd...
 *   /sys         sysfs of the container's netns (its own interfaces), read-only
 * Mounted from the container child, after it entered its namespaces and before its root
 * changes: procfs shows the pid namespace of whoever mounts it, sysfs the netns, mqueue the
 * ipc ns. Also here: masking berth's own paths, and the switch to an image's root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "container-fs.h"

int berth_failf(char *err, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, len, fmt, ap);
  va_end(ap);
  return -1;
}

/* A mount point under root; made when a small image has none. */
static int mount_under(const char *root, const char *dir, const char *src, const char *type,
                       unsigned long flags, const char *data, char *err, size_t len) {
  char target[4096];
  snprintf(target, sizeof target, "%s%s", root, dir);
  if (mkdir(target, 0755) != 0 && errno != EEXIST) return berth_failf(err, len, "mkdir %s: %s", target, strerror(errno));
  if (mount(src, target, type, flags, data) != 0) return berth_failf(err, len, "mount %s on %s: %s", type, dir, strerror(errno));
  return 0;
}

static const struct { const char *name; unsigned major, minor; } DEVICES[] = {
  {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct { const char *name, *to; } LINKS[] = {
  {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
  {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
};

static int fill_dev(const char *root, char *err, size_t len) {
  char path[4096];
  for (size_t i = 0; i < sizeof DEVICES / sizeof DEVICES[0]; i++) {
    snprintf(path, sizeof path, "%s/dev/%s", root, DEVICES[i].name);
    /* chmod after: mknod's mode is cut by the umask the daemon happened to have */
    if (mknod(path, S_IFCHR | 0666, makedev(DEVICES[i].major, DEVICES[i].minor)) != 0 || chmod(path, 0666) != 0)
      return berth_failf(err, len, "mknod /dev/%s: %s", DEVICES[i].name, strerror(errno));
  }
  for (size_t i = 0; i < sizeof LINKS / sizeof LINKS[0]; i++) {
    snprintf(path, sizeof path, "%s/dev/%s", root, LINKS[i].name);
    if (symlink(LINKS[i].to, path) != 0) return berth_failf(err, len, "symlink /dev/%s: %s", LINKS[i].name, strerror(errno));
  }
  return 0;
}

/*
 * Read-only as a mount, not as a superblock: the sysfs of a netns is one superblock, which
 * the host may have mounted read-write already (host networking). On the host's own
 * filesystem it is even mounted right here, and the kernel refuses the same file system on
 * itself (EBUSY): then a bind of it (without what is mounted below it) does instead.
 */
static int mount_sys(const char *root, unsigned long sealed, char *err, size_t len) {
  char sys[4096];
  snprintf(sys, sizeof sys, "%s/sys", root);
  if (mkdir(sys, 0755) != 0 && errno != EEXIST) return berth_failf(err, len, "mkdir %s: %s", sys, strerror(errno));
  if (mount("sysfs", sys, "sysfs", sealed, NULL) != 0 && (errno != EBUSY || mount(sys, sys, NULL, MS_BIND, NULL) != 0))
    return berth_failf(err, len, "mount sysfs on /sys: %s", strerror(errno));
  if (mount(NULL, sys, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | sealed, NULL) != 0)
    return berth_failf(err, len, "read-only remount of /sys: %s", strerror(errno));
  return 0;
}

int berth_mount_container_fs(const char *root, char *err, size_t len) {
  const unsigned long sealed = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (mount_under(root, "/proc", "proc", "proc", sealed, NULL, err, len) != 0) return -1;
  if (mount_under(root, "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", err, len) != 0) return -1;
  if (fill_dev(root, err, len) != 0) return -1;
  if (mount_under(root, "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5", err, len) != 0) return -1;
  if (mount_under(root, "/dev/shm", "shm", "tmpfs", sealed, "mode=1777,size=65536k", err, len) != 0) return -1;
  if (mount_under(root, "/dev/mqueue", "mqueue", "mqueue", sealed, NULL, err, len) != 0) return -1;
  return mount_sys(root, sealed, err, len);
}

int berth_mask_path(const char *path, const char *devnull, char *err, size_t len) {
  struct stat st;
  if (stat(path, &st) != 0) return errno == ENOENT ? 0 : berth_failf(err, len, "stat %s: %s", path, strerror(errno));
  const unsigned long sealed = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", path, "tmpfs", sealed, "size=0,mode=0755") != 0) return berth_failf(err, len, "mask %s: %s", path, strerror(errno));
  } else if (mount(devnull, path, NULL, MS_BIND, NULL) != 0 || mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | sealed, NULL) != 0) {
    return berth_failf(err, len, "mask %s: %s", path, strerror(errno));
  }
  return 0;
}

int berth_pivot_root(const char *rootfs, char *err, size_t len) {
  if (chdir(rootfs) != 0) return berth_failf(err, len, "chdir %s: %s", rootfs, strerror(errno));
  /* pivot_root(".", "."): the old root ends up stacked on the new one, at "." (no
     directory for it inside the image), and the umount takes it off */
  if (syscall(SYS_pivot_root, ".", ".") != 0) return berth_failf(err, len, "pivot_root %s: %s", rootfs, strerror(errno));
  if (umount2(".", MNT_DETACH) != 0) return berth_failf(err, len, "detach the old root: %s", strerror(errno));
  if (chdir("/") != 0) return berth_failf(err, len, "chdir / in the new root: %s", strerror(errno));
  return 0;
}

int berth_open_pty_at(const char *ptmx, int *slave, int *number) {
  int m = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return -1;
  unsigned n = 0;
  int unlock = 0;
  if (ioctl(m, TIOCSPTLCK, &unlock) != 0 || ioctl(m, TIOCGPTN, &n) != 0) { close(m); return -1; }
  *slave = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*slave < 0) { close(m); return -1; }
  struct winsize ws = {.ws_row = 24, .ws_col = 80};
  ioctl(m, TIOCSWINSZ, &ws);
  *number = (int)n;
  return m;
}

int berth_bind_console(const char *root, int number, char *err, size_t len) {
  char pts[4096], console[4096];
  snprintf(pts, sizeof pts, "%s/dev/pts/%d", root, number);
  snprintf(console, sizeof console, "%s/dev/console", root);
  int fd = open(console, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return berth_failf(err, len, "create /dev/console: %s", strerror(errno));
  close(fd);
  if (mount(pts, console, NULL, MS_BIND, NULL) != 0) return berth_failf(err, len, "bind /dev/console: %s", strerror(errno));
  return 0;
}

int berth_send_fd(int sock, int fd) {
  char byte = 0, ctl[CMSG_SPACE(sizeof(int))];
  memset(ctl, 0, sizeof ctl);
  struct iovec iov = {&byte, 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

int berth_recv_fd(int sock) {
  char byte, ctl[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {&byte, 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  if (recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return fd;
}
