import type { LinkSpec, NetnsSockets, SandboxInterface, SandboxOptions } from './types.js';
import { bindHere } from './netns-sockets.js';
import { close, ifNameToIndex } from './ffi/libc.js';
import { OpError, attempt, quietly } from './failure.js';
import { closeNetnsHandle, createNetnsHandle, deleteNetns, inNetns, netnsExists, openNetnsHandle, type NetnsHandle } from './netns.js';
import { homeSocket, withSocket } from './sockets.js';
import { addAddress } from './netlink/addrs.js';
import { AF_INET, AF_INET6 } from './netlink/constants.js';
import { createVeth, deleteLink, getLink, setBridgePortHairpin, setLinkUp } from './netlink/links.js';
import { deleteDefaultRoute, replaceRoute } from './netlink/routes.js';
import type { NetlinkSocket } from './netlink/socket.js';
import { inOwnProc, writeSysctl } from './sysctl.js';
import { makeMacvlan } from './macvlan.js';
import { giveBackLink, takeLink } from './moved-link.js';

// A sandbox's interfaces, whatever made them: each LinkSpec says how its link comes to be
// (a veth peer born in the sandbox, a macvlan born there, an existing link moved in), then
// every interface is configured the same way through a socket bound inside the sandbox
// (CNI's ConfigureIface; libnetwork's osl). A whole new sandbox is one worker call.

/** Undoes the making of one link (delete it, or give it back). */
type Undo = () => void;

/** Bridge ifindex by name: a GET per attachment is a round trip the hot path can skip. */
const bridgeIndex = new Map<string, number>();

/** The bridge was (re)made or deleted: its index must be looked up again. */
export function forgetBridge(name: string): void {
  bridgeIndex.delete(name);
}

function lookUpBridge(host: NetlinkSocket, hostName: string, bridge: string): number {
  const link = attempt(`cannot create veth ${hostName}`, () => getLink(host, bridge));
  if (!link) throw new OpError(`cannot create veth ${hostName}: bridge ${bridge} not found`, 'ENODEV', 19);
  bridgeIndex.set(bridge, link.index);
  return link.index;
}

function makeVeth(ns: NetnsHandle, i: SandboxInterface, link: Extract<LinkSpec, { kind: 'veth' }>): Undo {
  const host = homeSocket();
  const make = (master: number) => attempt(`cannot create veth ${link.hostName}`, () =>
    createVeth(host, { hostName: link.hostName, master, mtu: i.mtu ?? 1500, peerName: i.ifName, peerMac: i.mac!, peerNsFd: ns.fd }));
  const cached = bridgeIndex.get(link.master);
  if (cached === undefined) make(lookUpBridge(host, link.hostName, link.master));
  else {
    try {
      make(cached);
    } catch (e) {
      // the bridge may have been re-made behind berth's back: retry once with a fresh index
      if (lookUpBridge(host, link.hostName, link.master) === cached) throw e;
      make(bridgeIndex.get(link.master)!);
    }
  }
  const undo = () => quietly(() => deleteLink(host, link.hostName));
  try {
    attempt(`cannot turn IPv6 off on ${link.hostName}`, () => disableIpv6(link.hostName));
    attempt(`cannot bring ${link.hostName} up`, () => setLinkUp(host, link.hostName));
    if (link.hairpin) attempt(`cannot set hairpin mode on ${link.hostName}`, () => setBridgePortHairpin(host, link.hostName));
  } catch (e) {
    undo();
    throw e;
  }
  return undo;
}

/**
 * The host end of a routed network's veth is the container's gateway: it holds each
 * family's gateway address (the same /32 or /128 on every host end of the network; the
 * kernel keeps a local address while any interface has it) and the host route to each of
 * the container's addresses, so the host routes between the containers of one subnet. The
 * sandbox reaches its subnet through that gateway too (noPrefixRoute): no proxy ARP or
 * proxy NDP, whose IPv6 form needs an entry per address on every host end (N² at 5,000
 * containers). route_localnet: a host process's 127.0.0.1:PORT is DNATed out of this
 * interface (see the bridge firewall's header).
 */
function makeRoutedVeth(ns: NetnsHandle, i: SandboxInterface, link: Extract<LinkSpec, { kind: 'routed-veth' }>): Undo {
  const host = homeSocket();
  attempt(`cannot create veth ${link.hostName}`, () =>
    createVeth(host, { hostName: link.hostName, mtu: i.mtu ?? 1500, peerName: i.ifName, peerMac: i.mac!, peerNsFd: ns.fd }));
  const undo = () => quietly(() => deleteLink(host, link.hostName));
  try {
    const name = link.hostName;
    const ipv6 = link.gateways.some((g) => g.includes(':'));
    attempt(`cannot set up ${name}`, () => {
      writeSysctl(`net/ipv4/conf/${name}/route_localnet`, '1');
      if (ipv6) {
        // its addresses are berth's: no DAD (usable at once), no router advertisements taken
        writeSysctl(`net/ipv6/conf/${name}/accept_dad`, '0');
        writeSysctl(`net/ipv6/conf/${name}/accept_ra`, '0');
        writeSysctl(`net/ipv6/conf/${name}/disable_ipv6`, '0');
      } else disableIpv6(name);
    });
    attempt(`cannot bring ${name} up`, () => setLinkUp(host, name));
    const index = attempt(`cannot find ${name}`, () => ifNameToIndex(name));
    for (const gw of link.gateways) attempt(`cannot add address ${gw} to ${name}`, () => addAddress(host, index, gw));
    for (const dst of link.routes) {
      const src = link.gateways.find((g) => g.includes(':') === dst.includes(':'))?.split('/')[0];
      attempt(`cannot add route ${dst} to ${name}`, () => replaceRoute(host, { dst, oif: index, src }));
    }
  } catch (e) {
    undo();
    throw e;
  }
  return undo;
}

/**
 * The host end of a veth needs no IPv6; left on, each new one sends DAD and MLD packets
 * the bridge floods to every other port (measured: the set-up of the 1,000th container
 * 7.8 → 5.5 ms, 1,000 created in 19.8 → 16.8 s). Done while it is down.
 */
function disableIpv6(ifName: string): void {
  try {
    writeSysctl(`net/ipv6/conf/${ifName}/disable_ipv6`, '1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // a kernel without IPv6
  }
}

function makeLink(ns: NetnsHandle, i: SandboxInterface): Undo {
  const link = i.link;
  switch (link.kind) {
    case 'veth': return makeVeth(ns, i, link);
    case 'routed-veth': return makeRoutedVeth(ns, i, link);
    case 'macvlan': return makeMacvlan(ns, i, link);
    case 'existing': return takeLink(ns, i, link);
  }
}

/** Addresses, up, routes: the same for every kind of link. */
function configure(ns: NetnsHandle, i: SandboxInterface): void {
  const at = `${i.ifName} in netns ${ns.path}`;
  const link = attempt(`cannot find ${at}`, () => getLink(ns.socket, i.ifName));
  if (!link) throw new OpError(`cannot find ${at}: No such device`, 'ENODEV', 19);
  if (i.addresses.some((cidr) => cidr.includes(':'))) {
    // no DAD for its link-local address either (made from its MAC, unique as its addresses
    // are): nothing on the interface is left "tentative" when the start returns. No router
    // advertisements: its addresses and routes are berth's alone, not a SLAAC address and a
    // default route a neighbour with CAP_NET_RAW advertised; and so no router solicitations
    // either (nobody on the bridge is to answer them: three fewer packets per container)
    attempt(`cannot turn IPv6 on for ${at}`, () => inNetns(ns.path, () => inOwnProc((proc) => {
      writeSysctl(`net/ipv6/conf/${i.ifName}/accept_dad`, '0', proc);
      writeSysctl(`net/ipv6/conf/${i.ifName}/accept_ra`, '0', proc);
      writeSysctl(`net/ipv6/conf/${i.ifName}/router_solicitations`, '0', proc);
      writeSysctl(`net/ipv6/conf/${i.ifName}/disable_ipv6`, '0', proc);
    })));
  }
  attempt(`cannot bring ${at} up`, () => setLinkUp(ns.socket, i.ifName));
  for (const cidr of i.addresses) attempt(`cannot add address ${cidr} to ${at}`, () => addAddress(ns.socket, link.index, cidr, i.noPrefixRoute));
  for (const r of i.routes) {
    const what = r.dst === 'default' ? `default route via ${r.via}` : `route ${r.dst}`;
    attempt(`cannot add ${what} to ${at}`, () => replaceRoute(ns.socket, { dst: r.dst, gateway: r.via, oif: link.index }));
  }
}

/**
 * Makes (create) or opens the netns at `netns`, puts every interface in it and, when
 * asked, binds sockets inside it (the embedded resolver's). On failure nothing of this
 * call is left: links undone in reverse order, a netns made is removed.
 */
export function applySandbox(netns: string, ifaces: SandboxInterface[], opts: SandboxOptions): { sockets?: NetnsSockets } {
  const made = opts.create && !netnsExists(netns);
  let sockets: NetnsSockets | undefined;
  // bound while the thread is inside the netns for the handle anyway: no switch of its own
  const listen = opts.listen;
  const bind = listen ? () => void (sockets = bindHere(netns, listen.address, listen.port)) : undefined;
  const undo: Undo[] = [() => sockets && [sockets.udp, sockets.tcp].forEach((fd) => close(fd))];
  let ns: NetnsHandle | undefined;
  try {
    ns = opts.create ? createNetnsHandle(netns, bind) : openNetnsHandle(netns, bind);
    for (const i of ifaces) {
      undo.push(makeLink(ns, i));
      configure(ns, i);
    }
    return { sockets };
  } catch (e) {
    for (const u of undo.reverse()) u();
    if (made) deleteNetns(netns);
    throw e;
  } finally {
    if (ns) closeNetnsHandle(ns);
  }
}

/** Deletes a sandbox interface (a veth's host end goes with it), or gives it back. Idempotent. */
export function removeInterface(netns: string, iface: Pick<SandboxInterface, 'ifName' | 'link'>): void {
  if (!netnsExists(netns)) return;
  const link = iface.link;
  if (link.kind === 'existing' && link.giveBack) {
    const ns = openNetnsHandle(netns);
    try {
      giveBackLink(ns, iface.ifName, link);
    } finally {
      closeNetnsHandle(ns);
    }
    return;
  }
  withSocket(netns, (s) => attempt(`cannot delete ${iface.ifName} in netns ${netns}`, () => deleteLink(s, iface.ifName)));
}

export function setDefaultRoute(netns: string, gateway: string, dev: string): void {
  withSocket(netns, (s) => {
    const what = `cannot set the default route via ${gateway} on ${dev} in netns ${netns}`;
    const link = attempt(what, () => getLink(s, dev));
    if (!link) throw new OpError(`${what}: No such device`, 'ENODEV', 19);
    attempt(what, () => replaceRoute(s, { dst: 'default', gateway, oif: link.index }));
  });
}

export function removeDefaultRoute(netns: string, family: 4 | 6): void {
  withSocket(netns, (s) => attempt(`cannot delete the IPv${family} default route in netns ${netns}`, () => deleteDefaultRoute(s, family === 4 ? AF_INET : AF_INET6)));
}
