import { inNetns } from './netns.js';
import { attempt } from './failure.js';
import { NetlinkSocket } from './netlink/socket.js';

// Which rtnetlink socket talks to which netns. The home socket lives as long as the
// worker; a container netns gets a socket opened inside it (it stays bound there after
// the thread switches home), used for one operation and closed.

let home: NetlinkSocket | undefined;

export function homeSocket(): NetlinkSocket {
  home ??= attempt('cannot open rtnetlink socket', () => NetlinkSocket.open());
  return home;
}

/** Runs fn with a socket in `netns` (home when undefined). */
export function withSocket<T>(netns: string | undefined, fn: (s: NetlinkSocket) => T): T {
  if (netns === undefined) return fn(homeSocket());
  const s = inNetns(netns, () => attempt(`cannot open rtnetlink socket in netns ${netns}`, () => NetlinkSocket.open()));
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

/** " in netns PATH" for messages about a container netns, "" for home. */
export function where(netns: string | undefined): string {
  return netns === undefined ? '' : ` in netns ${netns}`;
}
