// Process sandboxes: how a container's process is started inside its namespaces. The
// network namespace is made beforehand by the engine (bind-mounted under the exec-root);
// the runtime only joins it, and adds fresh UTS, mount, ipc and (by default) pid
// namespaces of its own, with a fresh /proc, a minimal /dev and a read-only /sys; it runs
// with Docker's capabilities and no_new_privs (privileges.ts), berth's own paths masked.

import type { ProcessPrivileges } from './privileges.js';

/**
 * The container's pid namespace: 'private', a new one whose pid 1 is argv (Docker's
 * default: when it ends, the kernel ends every process of the container); 'host', the
 * daemon's; or another container's, named by the host pid of that container's process.
 */
export type PidNamespace = 'private' | 'host' | { sharedWith: number };

export interface BindMount {
  source: string;
  target: string;
  readonly?: boolean;
}

export interface ProcessSpec {
  /** container id (64 hex) */
  id: string;
  /** netns file to join; null = the daemon's own netns (host mode) */
  netns: string | null;
  /** hostname set in the container's own UTS namespace; undefined = keep the host's (host mode without -h) */
  hostname?: string;
  /** default 'private' */
  pidns?: PidNamespace;
  /** the container's root (pivot_root into it); undefined = the host's root filesystem */
  rootfs?: string;
  /** files bind-mounted into the container's private mount namespace (/etc/hosts, /etc/hostname, /etc/resolv.conf) */
  binds: BindMount[];
  argv: string[];
  /** "K=V" entries; the container gets exactly these (plus PATH/HOSTNAME defaults when absent) */
  env: string[];
  workdir?: string;
  /** keep stdin open (-i) and allocate a pseudo-terminal (-t) */
  interactive: boolean;
  tty: boolean;
  /** per-container runtime directory (logs, exit status, fifos) under the exec-root */
  stateDir: string;
  /** default: Docker's default capabilities, with no_new_privs */
  privileges?: ProcessPrivileges;
  /** berth's own paths (API sockets, data-root, exec-root), masked inside a container on the host's filesystem */
  hiddenPaths?: string[];
}

export interface ProcessState {
  /** pid of the container's main process (as `inspect -f '{{.State.Pid}}'` shows) */
  pid: number;
  /** pid of the supervising shim (parent of the container process) */
  shimPid: number;
  startedAt: string;
  /** starttime field of /proc/PID/stat ('' when the process was already gone): tells our
   *  process from a later one that reuses its pid, after a daemon restart */
  pidStartTime: string;
}

/** `docker exec`: a command run inside a running container's namespaces and root. */
export interface ExecSpec {
  argv: string[];
  /** "K=V" entries added to (or overriding) the container process's own environment */
  env?: string[];
  tty: boolean;
  interactive: boolean;
  /** default: the container process's current directory */
  workdir?: string;
  /** ExecConfig.Privileged: every capability */
  privileged?: boolean;
  /** the container's (the engine passes them); default: Docker's default capabilities, with no_new_privs */
  privileges?: ProcessPrivileges;
}

/** What `docker logs` asks for. */
export interface LogOptions {
  /** keep streaming new output until the container exits */
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  /** only the last N lines (counted over both streams); undefined, 'all' = everything */
  tail?: number | string;
  /** TTY containers: payload only, without the 8-byte frame headers (Docker's raw stream) */
  raw?: boolean;
  /** follow ends (after a last read) when this settles, as well as when the container exits */
  until?: Promise<unknown>;
}

export interface ExitStatus {
  exitCode: number;
  finishedAt: string;
}
