/*
 * berth-shim's entry point, shared with berth-spawner: the spawner is built with
 * berth-shim.c linked in (-DBERTH_SHIM_EMBEDDED drops the shim's own main) and runs a
 * shim in a forked child, with no exec of a second binary.
 */
#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H

/* argv as for the berth-shim binary (argv[0] is ignored); returns the exit code. */
int berth_shim_main(int argc, char **argv);

/* Faults in the memory a shim writes first (its child's stack, its buffers): called by a
   spare child of berth-spawner while it waits, so a start does not pay for it. */
void berth_shim_prepare(void);

#endif
