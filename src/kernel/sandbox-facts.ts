import { attempt } from './failure.js';
import { inNetns, netnsExists } from './netns.js';
import { bindHere } from './netns-sockets.js';
import { NetlinkSocket } from './netlink/socket.js';
import * as addrs from './netlink/addrs.js';
import * as links from './netlink/links.js';
import type { SandboxFacts, SandboxVisit } from './types.js';

// What a daemon restart needs to know of the sandboxes it adopts, read in one visit per
// netns and one worker round trip for many of them: a restart with thousands of running
// containers otherwise waits on thousands of round trips (exists? addresses? each link?
// the resolver's sockets), each entering the netns again.

/** One sandbox's facts; a sandbox that cannot be read says why instead of failing the others. */
export function readSandbox(v: SandboxVisit): SandboxFacts {
  if (!netnsExists(v.netns)) return { netns: v.netns, exists: false, links: [], addresses: [] };
  try {
    return inNetns(v.netns, () => {
      const s = attempt(`cannot open rtnetlink socket in netns ${v.netns}`, () => NetlinkSocket.open());
      try {
        const all = attempt(`cannot list links in netns ${v.netns}`, () => links.listLinks(s));
        const names = new Map(all.map((l) => [l.index, l.name]));
        const addresses = attempt(`cannot list addresses in netns ${v.netns}`, () => addrs.listAddresses(s, names));
        const facts: SandboxFacts = { netns: v.netns, exists: true, links: all, addresses };
        if (v.listen) {
          // a failed bind is left to the caller's own path, which reports it as it always has
          try {
            facts.sockets = bindHere(v.netns, v.listen.address, v.listen.port);
          } catch {
            facts.sockets = undefined;
          }
        }
        return facts;
      } finally {
        s.close();
      }
    });
  } catch (e) {
    return { netns: v.netns, exists: true, links: [], addresses: [], error: (e as Error).message };
  }
}

export function readSandboxes(visits: SandboxVisit[]): SandboxFacts[] {
  return visits.map(readSandbox);
}
