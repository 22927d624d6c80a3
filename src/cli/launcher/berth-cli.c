/*
 * berth-cli: starts berth's CLI (bin/berth execs it) from its startup snapshot when there
 * is one for this node, else from the plain bundle.
 *
 * Why: a snapshot (scripts/build-cli-snapshot.mjs) holds the CLI's heap with every module
 * loaded and the command tree built, so a command skips compiling and linking them. But
 * node takes a snapshot only with `--snapshot-blob FILE` on its command line, which a
 * `#!/usr/bin/env node` script cannot give, and a blob is valid only for the very node
 * binary that built it: another one refuses it (exit 14, a message on stderr) before any
 * JavaScript runs, so the CLI could not even fall back. Asking node its version costs a
 * node start. So this program looks for node on PATH (as env does), and names the blob
 * by that file's identity: device, inode, size and mtime (ns) as stat gives them. An
 * upgraded or rebuilt node is a new file (package managers and tar write a new one and
 * rename it into place) or a new mtime: no blob has its name, and the plain bundle runs.
 * (Not ctime: a chmod or a hard link of node changes it, and would fall back for nothing.)
 * Why C: to stat a file and exec, which sh cannot do without running another program.
 *
 * Layout (ROOT: the checkout, found from /proc/self/exe = ROOT/dist/bin/berth-cli, or else
 * from the path bin/berth ran it by):
 *   ROOT/dist/src/cli/main.js                   the plain bundle
 *   ROOT/dist/src/cli/snapshot/IDENTITY.blob     the snapshot built by that node
 * A blob older than the plain bundle is not used either: it holds the CLI of an earlier
 * build (a `tsc` run, or tsc and bundle.mjs without the snapshot step, rewrites the
 * bundle alone), and the bundle is the newer code.
 * The snapshot is not used with BERTH_CLI_SNAPSHOT=0, nor when NODE_OPTIONS is set (node
 * refuses a blob built with other V8 flags, and preloads would run at another point);
 * BERTH_CLI_SNAPSHOT=1 insists on it (an error when there is none: tests use it to know
 * which path they ran).
 * argv for node: NODE_FLAGS [SNAPSHOT_V8_FLAGS --snapshot-blob BLOB --] MAIN ARGS..., so that
 * process.argv has the shape of `node MAIN ARGS...` (node takes what follows `--` as
 * process.argv[1...]). The flags come from scripts/cli-node-flags.mjs (build-shim.mjs
 * defines them at compile time), which says why each one; the V8 ones are those the blob
 * was built with, which node requires of a blob.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef BERTH_NODE_FLAGS
#error "build with -DBERTH_NODE_FLAGS=... (scripts/build-shim.mjs)"
#endif
#ifndef BERTH_SNAPSHOT_V8_FLAGS
#error "build with -DBERTH_SNAPSHOT_V8_FLAGS=... (scripts/build-shim.mjs)"
#endif
static const char *const node_flags[] = {BERTH_NODE_FLAGS};
static const char *const snapshot_v8_flags[] = {BERTH_SNAPSHOT_V8_FLAGS};
#define COUNT(a) (sizeof a / sizeof a[0])

/* node's path on PATH, as execvp would find it (an empty entry is the current directory) */
static int find_node(char *out, size_t size) {
  const char *path = getenv("PATH");
  if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path;; p++) {
    const char *end = strchrnul(p, ':');
    int len = (int)(end - p);
    if (snprintf(out, size, "%.*s%snode", len, p, len ? "/" : "") < (int)size) {
      struct stat st;
      if (access(out, X_OK) == 0 && stat(out, &st) == 0 && S_ISREG(st.st_mode)) return 0;
    }
    if (!*end) return -1;
    p = end;
  }
}

/* ROOT: three levels up from this binary (ROOT/dist/bin/berth-cli); where /proc is not
   mounted, from the path bin/berth ran it by */
static int find_root(char *out, size_t size, const char *argv0) {
  ssize_t n = readlink("/proc/self/exe", out, size - 1);
  if (n > 0) out[n] = '\0';
  else if (size < PATH_MAX || !realpath(argv0, out)) return -1;
  for (int up = 0; up < 3; up++) {
    char *slash = strrchr(out, '/');
    if (!slash || slash == out) return -1;
    *slash = '\0';
  }
  return 0;
}

/* a is not older than b (both exist) */
static int not_older(const struct stat *a, const struct stat *b) {
  return a->st_mtim.tv_sec > b->st_mtim.tv_sec || (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec >= b->st_mtim.tv_nsec);
}

/* BERTH_CLI_SNAPSHOT: 0 never, 1 always (or fail), unset when there is one */
static const char *snapshot_mode(void) {
  const char *mode = getenv("BERTH_CLI_SNAPSHOT");
  return mode && *mode ? mode : "auto";
}

int main(int argc, char **argv) {
  char node[PATH_MAX], root[PATH_MAX], main_js[PATH_MAX], blob[PATH_MAX];
  if (find_node(node, sizeof node) < 0) {
    fprintf(stderr, "berth: node not found on PATH\n");
    return 127;
  }
  if (find_root(root, sizeof root, argv[0]) < 0 || snprintf(main_js, sizeof main_js, "%s/dist/src/cli/main.js", root) >= (int)sizeof main_js) {
    fprintf(stderr, "berth: cannot tell where berth is installed (/proc/self/exe)\n");
    return 127;
  }
  char **args = calloc((size_t)argc + 5 + COUNT(node_flags) + COUNT(snapshot_v8_flags), sizeof *args);
  if (!args) return 127;
  int k = 0;
  args[k++] = "node";
  for (size_t i = 0; i < COUNT(node_flags); i++) args[k++] = (char *)node_flags[i];
  const char *mode = snapshot_mode();
  const char *opts = getenv("NODE_OPTIONS");
  struct stat st, blob_st, main_st;
  const char *why = strcmp(mode, "0") == 0 ? "BERTH_CLI_SNAPSHOT=0" : opts && *opts ? "NODE_OPTIONS is set" : stat(node, &st) != 0 ? strerror(errno) : NULL;
  if (!why) {
    int n = snprintf(blob, sizeof blob, "%s/dist/src/cli/snapshot/%llx-%llx-%llx-%llx.%09ld.blob", root,
                     (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
                     (unsigned long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    if (n >= (int)sizeof blob || stat(blob, &blob_st) != 0 || access(blob, R_OK) != 0) why = "there is none for this node";
    else if (stat(main_js, &main_st) == 0 && !not_older(&blob_st, &main_st)) why = "it is older than dist/src/cli/main.js";
  }
  if (!why) {
    for (size_t i = 0; i < COUNT(snapshot_v8_flags); i++) args[k++] = (char *)snapshot_v8_flags[i];
    args[k++] = "--snapshot-blob";
    args[k++] = blob;
    args[k++] = "--";
  } else if (strcmp(mode, "1") == 0) {
    fprintf(stderr, "berth: BERTH_CLI_SNAPSHOT=1 but no startup snapshot for %s: %s (npm run build makes it)\n", node, why);
    return 127;
  }
  args[k++] = main_js;
  for (int i = 1; i < argc; i++) args[k++] = argv[i];
  args[k] = NULL;
  execv(node, args);
  fprintf(stderr, "berth: cannot run %s: %s\n", node, strerror(errno));
  return 126;
}
