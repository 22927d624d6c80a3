// systemd socket activation (sd_listen_fds(3)): systemd opens the API socket of the
// berthd.socket unit, with its path, mode and group, and starts berthd with it as fd 3,
// saying so in LISTEN_PID (this process) and LISTEN_FDS (how many). berthd takes exactly one.

const SD_LISTEN_FDS_START = 3;

/** The listening fd systemd passed; throws when it passed none (or not to this process). */
export function systemdListenFd(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number {
  const forUs = env.LISTEN_PID !== undefined && Number(env.LISTEN_PID) === pid;
  const count = Number(env.LISTEN_FDS ?? 0);
  if (!forUs || !Number.isInteger(count) || count < 1) {
    throw new Error('-H fd:// but no socket was passed by systemd (LISTEN_PID/LISTEN_FDS unset): start berthd through berthd.socket, or give -H unix:///path');
  }
  if (count > 1) throw new Error(`-H fd:// takes one socket; systemd passed ${count} (one ListenStream= in berthd.socket)`);
  // children (the spawner, shims) must not believe the socket is theirs
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  return SD_LISTEN_FDS_START;
}
