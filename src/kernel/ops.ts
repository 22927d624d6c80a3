import type { AddressInfo, LinkInfo, RouteInfo, RouteLookup } from './types.js';
import { OpError, attempt, fail } from './failure.js';
import { applySandbox, forgetBridge, removeDefaultRoute, removeInterface, setDefaultRoute } from './sandbox.js';
import { createNetns, deleteNetns, inNetns, netnsExists } from './netns.js';
import { bindInNetns } from './netns-sockets.js';
import { readSandboxes } from './sandbox-facts.js';
import { runNft } from './nftables.js';
import { inOwnProc, readSysctl, writeSysctl } from './sysctl.js';
import { homeSocket, where, withSocket } from './sockets.js';
import * as addrs from './netlink/addrs.js';
import * as links from './netlink/links.js';
import { deleteRoute, listRoutes, lookupRoute, replaceRoute } from './netlink/routes.js';
import { createVethPair, ensureLinkToNowhere, ensureMacvlanShim, ensureVlan, setPromisc } from './network-links.js';
import type { NetlinkSocket } from './netlink/socket.js';
import { deleteVxlanEntries, ensureVxlan, flushConntrack, listFdb, listNeighbours, setVxlanPeers } from './vxlan-links.js';

// The worker-side implementation of every Kernel operation: synchronous, arguments
// already validated by the client. The worker dispatches requests here by name.

const EEXIST = 17;
const ENODEV = 19;

function indexOf(s: NetlinkSocket, name: string, what: string): number {
  const link = attempt(what, () => links.getLink(s, name));
  if (!link) throw new OpError(`${what}: link ${name} not found`, 'ENODEV', ENODEV);
  return link.index;
}

function linkNames(s: NetlinkSocket): Map<number, string> {
  return new Map(links.listLinks(s).map((l) => [l.index, l.name]));
}

function ensureBridge(name: string, mtu?: number): LinkInfo {
  forgetBridge(name);
  const s = homeSocket();
  const what = `cannot create bridge ${name}`;
  let link = attempt(what, () => links.getLink(s, name));
  if (!link) {
    attempt(what, () => {
      try {
        links.createBridge(s, name, mtu);
      } catch (e) {
        if ((e as { errno?: number }).errno !== EEXIST) throw e; // lost a race: fine
      }
    });
    link = attempt(what, () => links.getLink(s, name));
  }
  if (!link || link.kind !== 'bridge') {
    throw new OpError(`${what}: a link named ${name} exists and is not a bridge`, 'EEXIST', EEXIST);
  }
  if (mtu !== undefined && link.mtu !== mtu) attempt(`cannot set MTU ${mtu} on ${name}`, () => links.setLinkMtu(s, name, mtu));
  attempt(`cannot turn router advertisements off on ${name}`, () => refuseRouterAdvertisements(name));
  if (!link.up) attempt(`cannot bring ${name} up`, () => links.setLinkUp(s, name));
  return attempt(what, () => links.getLink(s, name)) ?? link;
}

/**
 * A bridge's ports are containers: with accept_ra on (the kernel's default while IPv6
 * forwarding is off), one sending a router advertisement, which CAP_NET_RAW allows even
 * without IPv6 on its eth0, becomes the host's IPv6 router (CVE-2020-13401; dockerd
 * turns it off on its bridges too).
 */
function refuseRouterAdvertisements(name: string): void {
  try {
    writeSysctl(`net/ipv6/conf/${name}/accept_ra`, '0');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // a kernel without IPv6
  }
}

export const ops = {
  createNetns: (path: string): void => createNetns(path),
  deleteNetns: (path: string): void => deleteNetns(path),
  netnsExists: (path: string): boolean => netnsExists(path),
  bindInNetns,
  readSandboxes,

  listLinks: (netns?: string): LinkInfo[] =>
    withSocket(netns, (s) => attempt(`cannot list links${where(netns)}`, () => links.listLinks(s))),
  getLink: (name: string, netns?: string): LinkInfo | null =>
    withSocket(netns, (s) => attempt(`cannot get link ${name}${where(netns)}`, () => links.getLink(s, name))),
  ensureBridge,
  deleteLink: (name: string, netns?: string): void => {
    if (netns === undefined) forgetBridge(name);
    withSocket(netns, (s) => void attempt(`cannot delete link ${name}${where(netns)}`, () => links.deleteLink(s, name)));
  },
  setLinkUp: (name: string, netns?: string): void =>
    withSocket(netns, (s) => attempt(`cannot bring ${name} up${where(netns)}`, () => links.setLinkUp(s, name))),

  applySandbox,
  removeInterface,
  setDefaultRoute,
  deleteDefaultRoute: removeDefaultRoute,

  listAddresses: (netns?: string): AddressInfo[] =>
    withSocket(netns, (s) => attempt(`cannot list addresses${where(netns)}`, () => addrs.listAddresses(s, linkNames(s)))),
  addAddress: (ifname: string, cidr: string, netns?: string): void =>
    withSocket(netns, (s) => {
      const what = `cannot add address ${cidr} to ${ifname}${where(netns)}`;
      const index = indexOf(s, ifname, what);
      attempt(what, () => addrs.addAddress(s, index, cidr));
    }),
  deleteAddress: (ifname: string, cidr: string, netns?: string): void =>
    withSocket(netns, (s) => {
      const what = `cannot delete address ${cidr} from ${ifname}${where(netns)}`;
      const link = attempt(what, () => links.getLink(s, ifname));
      if (link) attempt(what, () => addrs.deleteAddress(s, link.index, cidr));
    }),

  listRoutes: (netns?: string): RouteInfo[] =>
    withSocket(netns, (s) => attempt(`cannot list routes${where(netns)}`, () => listRoutes(s, linkNames(s)))),
  addRoute: (r: { dst: string; gateway?: string; dev?: string; protocol?: number }, netns?: string): void =>
    withSocket(netns, (s) => {
      const what = `cannot add route ${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${where(netns)}`;
      const oif = r.dev ? indexOf(s, r.dev, what) : 0;
      const spec = { dst: r.dst, gateway: r.gateway, oif, protocol: r.protocol };
      if (r.protocol === undefined) return attempt(what, () => replaceRoute(s, spec));
      // an owner's route: made if absent, replaced only when it is the owner's already
      try {
        replaceRoute(s, spec, true);
      } catch (e) {
        if ((e as { errno?: number }).errno !== EEXIST) fail(what, e);
        const existing = attempt(what, () => listRoutes(s, new Map())).find((x) => x.dst === r.dst && x.family === 4);
        if (existing && existing.protocol !== r.protocol) {
          throw new OpError(`${what}: a route to ${r.dst} made by someone else (protocol ${existing.protocol}) is there, and is left as it is`, 'EEXIST', EEXIST);
        }
        attempt(what, () => replaceRoute(s, spec));
      }
    }),

  deleteRoute: (dst: string, netns?: string, protocol?: number): void =>
    withSocket(netns, (s) => void attempt(`cannot delete route ${dst}${where(netns)}`, () => deleteRoute(s, dst, protocol))),
  lookupRoute: (ip: string, netns?: string): RouteLookup =>
    withSocket(netns, (s) => attempt(`cannot look up the route to ${ip}${where(netns)}`, () => lookupRoute(s, ip, linkNames(s)))),

  createVethPair,
  ensureVlan,
  ensureLinkToNowhere,
  ensureMacvlanShim,
  setPromisc,

  ensureVxlan,
  setVxlanPeers,
  deleteVxlanEntries,
  listFdb,
  listNeighbours,
  flushConntrack,

  // a container netns's through a procfs of its own (see sysctl.ts), the host's through /proc
  readSysctl: (key: string, netns?: string): string =>
    inNetns(netns, () => attempt(`cannot read sysctl ${key}${where(netns)}`, () => (netns ? inOwnProc((proc) => readSysctl(key, proc)) : readSysctl(key)))),
  writeSysctl: (key: string, value: string, netns?: string): void =>
    inNetns(netns, () => attempt(`cannot write sysctl ${key}${where(netns)}`, () => (netns ? inOwnProc((proc) => writeSysctl(key, value, proc)) : writeSysctl(key, value)))),

  nft: (commands: string, json?: boolean, handles?: boolean): string => runNft(commands, json, handles),
};

export type Ops = typeof ops;
export type OpName = keyof Ops;
