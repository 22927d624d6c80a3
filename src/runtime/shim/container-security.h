/*
 * What a container process may do (container-security.c): Docker's capability sets and
 * no_new_privs, set on the process last, once its namespaces and mounts are in place.
 */
#ifndef BERTH_CONTAINER_SECURITY_H
#define BERTH_CONTAINER_SECURITY_H

#include <stddef.h>
#include <stdint.h>

/* Keeps only the capabilities whose bits are set in keep (bit N = capability N), in the
   bounding, permitted and effective sets; clears the inheritable and ambient sets. 0, or -1
   with err filled. */
int berth_restrict_capabilities(uint64_t keep, char *err, size_t errlen);

/* PR_SET_NO_NEW_PRIVS: no exec (setuid, setgid, file capabilities) gains a privilege. */
int berth_no_new_privs(char *err, size_t errlen);

#endif
