/*
 * A container's capabilities, as Docker sets them (its default set, or what --cap-add,
 * --cap-drop and --privileged make of it), and no_new_privs.
 *
 * Raw capset(2) and prctl(2) rather than libcap: the three calls are all we need, and the
 * shim stays a binary that links libc only (no library to install on a host or in CI).
 *
 * The process is root (uid 0) when it execs, so the kernel gives it its bounding set as
 * permitted and effective caps (capabilities(7): root's file sets count as full): dropping
 * from the bounding set is what limits the command and everything it runs, and the
 * permitted and effective sets are set too, so the same holds before the exec.
 * Inheritable stays empty, as Docker's since 20.10.14 (CVE-2022-24769): with it set, a
 * non-root process inside would gain those caps by running a program that has them as
 * file-inheritable caps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container-fs.h"
#include "container-security.h"


int berth_restrict_capabilities(uint64_t keep, char *err, size_t len) {
  /* PR_CAPBSET_READ fails (EINVAL) past the kernel's last capability */
  for (int cap = 0; cap < 64; cap++) {
    int held = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (held < 0) break;
    if (held && !((keep >> cap) & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
      return berth_failf(err, len, "drop capability %d from the bounding set: %s", cap, strerror(errno));
  }
  /* EINVAL: a kernel before ambient capabilities (4.3), which then has none to clear */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return berth_failf(err, len, "clear the ambient capabilities: %s", strerror(errno));
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  if (syscall(SYS_capget, &hdr, data) != 0) return berth_failf(err, len, "capget: %s", strerror(errno));
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
    uint32_t word = (uint32_t)(keep >> (32 * i));
    data[i].permitted &= word; /* a process can only lose permitted caps, never gain them */
    data[i].effective = data[i].permitted;
    data[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &hdr, data) != 0) return berth_failf(err, len, "capset: %s", strerror(errno));
  return 0;
}

int berth_no_new_privs(char *err, size_t len) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return berth_failf(err, len, "set no_new_privs: %s", strerror(errno));
  return 0;
}
