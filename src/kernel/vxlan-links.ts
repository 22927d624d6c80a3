import type { FdbEntry, LinkInfo, NeighbourEntry, VxlanPeer, VxlanSpec } from './types.js';
import { OpError, attempt, fail, quietly } from './failure.js';
import { inNetns } from './netns.js';
import { writeSysctl } from './sysctl.js';
import { where, withSocket } from './sockets.js';
import { unsupported } from './network-links.js';
import { listAddresses } from './netlink/addrs.js';
import { NETLINK_NETFILTER } from './netlink/constants.js';
import { flushConntrackOf } from './netlink/conntrack.js';
import { bytesToIp, ipToBytes } from './netlink/ipbytes.js';
import { deleteLink, getLink, listLinks, setBridgePortLearning, setLinkMaster, setLinkUp } from './netlink/links.js';
import * as neigh from './netlink/neigh.js';
import { NetlinkSocket } from './netlink/socket.js';
import { VXLAN_DEFAULT_TTL, VXLAN_PORT, createVxlan, vxlanMtu } from './netlink/vxlan.js';

// The overlay data path's kernel side (worker thread): a network's VXLAN device and the
// static entries of its remote endpoints, and the conntrack flush of a removed endpoint.

const EEXIST = 17;
const ENODEV = 19;
const EADDRNOTAVAIL = 99;
const EOPNOTSUPP = 95;

function needLink(s: NetlinkSocket, name: string, what: string, kind: string): LinkInfo {
  const link = attempt(what, () => getLink(s, name));
  if (!link) throw new OpError(`${what}: link ${name} not found`, 'ENODEV', ENODEV);
  if (link.kind !== kind) throw new OpError(`${what}: ${name} is not a ${kind} (it is ${link.kind || 'a device without a kind'})`, 'EINVAL', 22);
  return link;
}

const sameIp = (a: string, b: string): boolean => ipToBytes(a).bytes.equals(ipToBytes(b).bytes);

/** The MTU a VXLAN device leaving from `local` can have: that of the interface holding it, less the encapsulation. */
function derivedMtu(s: NetlinkSocket, local: string, what: string): number {
  const links = attempt(what, () => listLinks(s));
  const names = new Map(links.map((l) => [l.index, l.name]));
  const address = attempt(what, () => listAddresses(s, names)).find((a) => sameIp(a.cidr.split('/')[0], local));
  const underlay = address && links.find((l) => l.index === address.index);
  if (!underlay) {
    throw new OpError(`${what}: the local address ${local} is on no interface here (the underlay address must be this host's)`,
      'EADDRNOTAVAIL', EADDRNOTAVAIL);
  }
  return vxlanMtu(underlay.mtu, ipToBytes(local).bytes.length === 16 ? 6 : 4);
}

/**
 * IPv6 on the device or off: on for an overlay with IPv6 (its IPv6 neighbour entries and
 * ND proxy need it), but with no address of its own (addr_gen_mode 1: no link-local, so
 * no DAD, router solicitations or MLD reports of the host's into the overlay).
 */
function setIpv6(name: string, on: boolean): void {
  try {
    writeSysctl(`net/ipv6/conf/${name}/addr_gen_mode`, '1');
    writeSysctl(`net/ipv6/conf/${name}/disable_ipv6`, on ? '0' : '1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || on) throw e; // off on a kernel without IPv6: nothing to do
  }
}

/** Why an existing link is not the device `spec` asks for, or undefined when it is (then it is kept). */
function mismatch(link: LinkInfo, spec: VxlanSpec): string | undefined {
  if (link.kind !== 'vxlan' || !link.vxlan) return `it is a ${link.kind || 'device without a kind'}`;
  const v = link.vxlan;
  if (v.vni !== spec.vni) return `it has VNI ${v.vni}`;
  if (!v.local || !sameIp(v.local, spec.local)) return `it leaves from ${v.local ?? 'any address'}, not ${spec.local}`;
  if (v.port !== (spec.port ?? VXLAN_PORT)) return `it uses port ${v.port}`;
  return undefined;
}

export function ensureVxlan(spec: VxlanSpec, netns?: string): LinkInfo {
  const what = `cannot create VXLAN device ${spec.name} (VNI ${spec.vni})${where(netns)}`;
  return withSocket(netns, (s) => {
    const existing = attempt(what, () => getLink(s, spec.name));
    const differs = existing && mismatch(existing, spec);
    if (differs) throw new OpError(`${what}: a link named ${spec.name} exists and ${differs}`, 'EEXIST', EEXIST);
    const master = spec.master === undefined ? undefined : needLink(s, spec.master, what, 'bridge');
    if (!existing) {
      const mtu = spec.mtu ?? derivedMtu(s, spec.local, what);
      try {
        createVxlan(s, {
          name: spec.name, vni: spec.vni, local: spec.local, port: spec.port ?? VXLAN_PORT,
          ttl: spec.ttl ?? VXLAN_DEFAULT_TTL, mtu, master: master?.index ?? 0,
        });
      } catch (e) {
        if (unsupported(e)) throw new OpError(`${what}: this kernel has no VXLAN support (the vxlan module)`, 'EOPNOTSUPP', EOPNOTSUPP);
        fail(what, e);
      }
    }
    try {
      if (master && existing?.master !== master.index) attempt(what, () => setLinkMaster(s, spec.name, master.index));
      if (master) attempt(`cannot turn learning off on bridge port ${spec.name}`, () => setBridgePortLearning(s, spec.name, false));
      const ipv6 = spec.ipv6 === true;
      attempt(`cannot turn IPv6 ${ipv6 ? 'on' : 'off'} on ${spec.name}${where(netns)}`, () => inNetns(netns, () => setIpv6(spec.name, ipv6)));
      attempt(`cannot bring ${spec.name} up`, () => setLinkUp(s, spec.name));
      const link = attempt(what, () => getLink(s, spec.name));
      if (!link) throw new OpError(`${what}: it vanished while being set up`, 'ENODEV', ENODEV);
      return link;
    } catch (e) {
      if (!existing) quietly(() => deleteLink(s, spec.name));
      throw e;
    }
  });
}

export function setVxlanPeers(dev: string, peers: VxlanPeer[], netns?: string): void {
  withSocket(netns, (s) => {
    const link = needLink(s, dev, `cannot program peers on ${dev}${where(netns)}`, 'vxlan');
    for (const p of peers) {
      attempt(`cannot program peer ${p.mac} at ${p.vtep} on ${dev}${where(netns)}`, () => {
        neigh.replaceFdbVtep(s, link.index, p.mac, p.vtep);
        if (link.master) neigh.replaceFdbPort(s, link.index, p.mac);
        for (const ip of p.ips) neigh.replaceNeighbour(s, link.index, ip, p.mac);
      });
    }
  });
}

export function deleteVxlanEntries(dev: string, entries: { macs?: string[]; ips?: string[] }, netns?: string): void {
  withSocket(netns, (s) => {
    const what = `cannot delete entries on ${dev}${where(netns)}`;
    const link = attempt(what, () => getLink(s, dev));
    if (!link) return; // the device is gone, and its entries with it
    for (const mac of entries.macs ?? []) {
      attempt(`cannot delete the FDB entry of ${mac} on ${dev}${where(netns)}`, () => {
        neigh.deleteFdb(s, link.index, mac, 'self');
        if (link.master) neigh.deleteFdb(s, link.index, mac, 'master');
      });
    }
    for (const ip of entries.ips ?? []) {
      attempt(`cannot delete the neighbour entry of ${ip} on ${dev}${where(netns)}`, () => neigh.deleteNeighbour(s, link.index, ip));
    }
  });
}

export function listFdb(dev: string, netns?: string): FdbEntry[] {
  return withSocket(netns, (s) => {
    const what = `cannot list FDB entries of ${dev}${where(netns)}`;
    const link = attempt(what, () => getLink(s, dev));
    if (!link) throw new OpError(`${what}: link ${dev} not found`, 'ENODEV', ENODEV);
    return attempt(what, () => neigh.listFdb(s, link.index));
  });
}

export function listNeighbours(dev: string, netns?: string): NeighbourEntry[] {
  return withSocket(netns, (s) => {
    const what = `cannot list neighbours of ${dev}${where(netns)}`;
    const link = attempt(what, () => getLink(s, dev));
    if (!link) throw new OpError(`${what}: link ${dev} not found`, 'ENODEV', ENODEV);
    return attempt(what, () => neigh.listNeighbours(s, link.index));
  });
}

export function flushConntrack(ip: string, netns?: string): number {
  const what = `cannot flush conntrack entries of ${bytesToIp(ipToBytes(ip).bytes)}${where(netns)}`;
  const s = inNetns(netns, () => attempt(what, () => NetlinkSocket.open(NETLINK_NETFILTER)));
  try {
    return attempt(what, () => flushConntrackOf(s, ip));
  } finally {
    s.close();
  }
}
