// Process sandboxes: how a container's process is started inside its namespaces. The
// network namespace is made beforehand by the engine (bind-mounted under the exec-root);
// the runtime only joins it, and adds fresh UTS and mount namespaces of its own.

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
  /** chroot into this directory; undefined = the host's root filesystem */
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
}

export interface ProcessState {
  /** pid of the container's main process (as `inspect -f '{{.State.Pid}}'` shows) */
  pid: number;
  /** pid of the supervising shim (parent of the container process) */
  shimPid: number;
  startedAt: string;
}

export interface ExitStatus {
  exitCode: number;
  finishedAt: string;
}
