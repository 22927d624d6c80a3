// The flags dist/bin/berth-cli gives node (build-shim.mjs compiles them into it), in one
// place because a startup snapshot is valid only with the V8 flags it was built with
// (node refuses another set: exit 14): build-cli-snapshot.mjs builds with SNAPSHOT_V8_FLAGS.
// Measured on `berth ps` from the snapshot (bench/results/cli.md, README "A CLI command"):

/**
 * With the snapshot only. --no-sparkplug: V8's baseline compiler otherwise compiles the
 * functions the build's warm-up already ran (their budgets spent) in the first
 * milliseconds of every command, ~1.5 ms of CPU for nothing in a 25 ms process. Not for
 * the plain bundle: a flag node was not built with makes it refuse its own code cache.
 */
export const SNAPSHOT_V8_FLAGS = ['--no-sparkplug'];

/**
 * Either way. --v8-pool-size=1: one V8 worker thread instead of four; a command's heap is
 * a few MB, its garbage collections (if any) small, and starting and joining three more
 * threads is ~0.7 ms of a start. Not a V8 flag: no part of a blob's validity.
 */
export const NODE_FLAGS = ['--v8-pool-size=1'];

/** The flags as C string literals, for -D: "--a", "--b" */
export const cList = (flags) => flags.map((f) => JSON.stringify(f)).join(', ');
