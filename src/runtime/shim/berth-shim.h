/*
 * berth-shim's entry point, shared with berth-spawner: the spawner is built with
 * berth-shim.c linked in (-DBERTH_SHIM_EMBEDDED drops the shim's own main) and runs a
 * shim in a forked child, with no exec of a second binary.
 */
#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H

/* argv as for the berth-shim binary (argv[0] is ignored); returns the exit code. */
int berth_shim_main(int argc, char **argv);

#include <stddef.h>
#include <sys/types.h>

/* Called by the spawner: a mount namespace like its own without the netns mounts of
   netns_dir (made by a child; the caller stays where it is); an fd on it, or -1. */
int berth_make_template(const char *netns_dir);

/* Called by a spare child of berth-spawner while it waits, so a start does not pay for it:
   moves into the template mount namespace (template_fd, closed here; -1: none), host being
   the spawner; faults in the memory a shim writes first. */
void berth_shim_prepare(pid_t host, int template_fd);

/* The directory holding the netns file (it must be named "netns"): 0, or -1 when not. */
int berth_netns_dir(const char *netns, char *dir, size_t len);

#endif
