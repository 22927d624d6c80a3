/*
 * The kernel file systems a container sees (container-fs.c): a /proc of its own pid
 * namespace, a minimal /dev, a read-only /sys, and its terminal inside its own devpts.
 */
#ifndef BERTH_CONTAINER_FS_H
#define BERTH_CONTAINER_FS_H

#include <stddef.h>

/* Formats a set-up error into err (as snprintf); returns -1, for `return berth_failf(…)`. */
int berth_failf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Mounts /proc, /dev (with pts, shm, mqueue) and /sys under root ("" = the host's
   root), in the caller's own mount namespace, from inside the container's pid, net and
   ipc namespaces. 0, or -1 with err filled. */
int berth_mount_container_fs(const char *root, char *err, size_t errlen);

/* Covers path (absent: nothing to do) with nothing, as runc masks /proc/kcore: an empty
   read-only tmpfs over a directory, devnull (the container's /dev/null) over anything else
   (a socket, a file). Only CAP_SYS_ADMIN could take it off again. 0, or -1 with err filled. */
int berth_mask_path(const char *path, const char *devnull, char *err, size_t errlen);

/* Makes rootfs (a mount point: the caller bound it on itself) the root of the caller's
   mount namespace and detaches the old root, so nothing of the host's tree is left to
   escape to: a chroot would leave it there, a cd .. away for a process with
   CAP_SYS_CHROOT (which Docker grants). The cwd is the new / afterwards. */
int berth_pivot_root(const char *rootfs, char *err, size_t errlen);

/* Opens a pseudo-terminal of the devpts mounted at ptmx's directory (ptmx: the path of
   its ptmx node): the master, with *slave its peer, opened through the master (no path
   lookup, so it is right even from outside the container's mount namespace). -1 on
   failure; *number is the terminal's number in that devpts. */
int berth_open_pty_at(const char *ptmx, int *slave, int *number);

/* Binds the container's terminal (root/dev/pts/N) on root/dev/console, as Docker does
   for a container with a tty. */
int berth_bind_console(const char *root, int number, char *err, size_t errlen);

/* Sends fd over the unix socket sock (SCM_RIGHTS); receives one (or -1). */
int berth_send_fd(int sock, int fd);
int berth_recv_fd(int sock);

#endif
