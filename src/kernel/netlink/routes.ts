import type { RouteInfo, RouteLookup } from '../types.js';
import {
  AF_INET, AF_INET6, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, RTA_DST, RTA_GATEWAY, RTA_OIF, RTA_PREFSRC, RTA_TABLE, RTMSG_LEN,
  RTM_DELROUTE, RTM_GETROUTE, RTM_NEWROUTE, RTN_LOCAL, RTN_UNICAST, RTPROT_BOOT, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN,
} from './constants.js';
import { bytesToIp, ipToBytes } from './ipbytes.js';
import { attr, attrU32, parseAttrs, u32Attr } from './message.js';
import type { NetlinkSocket } from './socket.js';

// Routes of the main table over rtnetlink, both families.

/** struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags. */
function rtmsg(family: number, dstLen: number, scope: number, protocol = RTPROT_BOOT): Buffer {
  const b = Buffer.alloc(RTMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeUInt8(dstLen, 1);
  b.writeUInt8(RT_TABLE_MAIN, 4);
  b.writeUInt8(protocol, 5);
  b.writeUInt8(scope, 6);
  b.writeUInt8(RTN_UNICAST, 7);
  return b;
}

export interface RouteSpec {
  dst: string;
  gateway?: string;
  /** output ifindex, 0 when the kernel should find it from the gateway */
  oif: number;
  /** rtm_protocol, the route's origin (default RTPROT_BOOT, as `ip route add` gives) */
  protocol?: number;
  /** the source address the host picks for traffic on this route (RTA_PREFSRC) */
  src?: string;
}

/**
 * Adds or replaces (NLM_F_CREATE|NLM_F_REPLACE) one route. The family follows the
 * gateway or destination, so an IPv6 default route works too. `exclusive`: only adds
 * (NLM_F_EXCL), EEXIST when the main table has a route to dst already.
 */
export function replaceRoute(s: NetlinkSocket, r: RouteSpec, exclusive = false): void {
  const isDefault = r.dst === 'default';
  const [ip, len] = isDefault ? [r.gateway ?? '0.0.0.0', 0] : [r.dst.split('/')[0], Number(r.dst.split('/')[1])];
  const dst = ipToBytes(ip);
  const body = [rtmsg(dst.family, len, r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK, r.protocol)];
  if (!isDefault) body.push(attr(RTA_DST, dst.bytes));
  if (r.gateway) body.push(attr(RTA_GATEWAY, ipToBytes(r.gateway).bytes));
  if (r.oif) body.push(u32Attr(RTA_OIF, r.oif));
  if (r.src) body.push(attr(RTA_PREFSRC, ipToBytes(r.src).bytes));
  s.request(RTM_NEWROUTE, NLM_F_CREATE | (exclusive ? NLM_F_EXCL : NLM_F_REPLACE), body);
}

/** Deletes the main table's default route of one family (AF_INET or AF_INET6); false when there was none. */
export function deleteDefaultRoute(s: NetlinkSocket, family: number): boolean {
  try {
    s.request(RTM_DELROUTE, 0, [rtmsg(family, 0, RT_SCOPE_UNIVERSE)]);
    return true;
  } catch (e) {
    if ((e as { errno?: number }).errno === ESRCH) return false;
    throw e;
  }
}

const ESRCH = 3;
const RT_SCOPE_NOWHERE = 255;

/**
 * Deletes the main table's route to `dst` (a CIDR); false when there was none. With
 * `protocol`, only a route of that origin goes (the kernel matches rtm_protocol when it
 * is not 0): a route someone else made to the same destination stays.
 */
export function deleteRoute(s: NetlinkSocket, dst: string, protocol = 0): boolean {
  const [ip, len] = dst.split('/');
  const d = ipToBytes(ip);
  // scope "nowhere" and protocol 0 match a route of any scope and origin (as `ip route del` does)
  const msg = rtmsg(d.family, Number(len), RT_SCOPE_NOWHERE, protocol);
  try {
    s.request(RTM_DELROUTE, 0, [msg, attr(RTA_DST, d.bytes)]);
    return true;
  } catch (e) {
    if ((e as { errno?: number }).errno === ESRCH) return false;
    throw e;
  }
}

/** Main-table routes of both families, IPv4 first; `names` maps ifindex → name. */
export function listRoutes(s: NetlinkSocket, names: Map<number, string>): RouteInfo[] {
  return [...familyRoutes(s, AF_INET, names), ...familyRoutes(s, AF_INET6, names)];
}

const EAFNOSUPPORT = 97;

function familyRoutes(s: NetlinkSocket, family: number, names: Map<number, string>): RouteInfo[] {
  let replies;
  try {
    replies = s.dump(RTM_GETROUTE, [rtmsg(family, 0, 0)]);
  } catch (e) {
    // a kernel booted with ipv6.disable=1 has no IPv6 routes to list
    if (family === AF_INET6 && (e as { errno?: number }).errno === EAFNOSUPPORT) return [];
    throw e;
  }
  const out: RouteInfo[] = [];
  for (const m of replies) {
    if (m.type !== RTM_NEWROUTE) continue;
    const a = parseAttrs(m.payload, RTMSG_LEN);
    const table = a.has(RTA_TABLE) ? attrU32(a.get(RTA_TABLE)) : m.payload.readUInt8(4);
    if (table !== RT_TABLE_MAIN) continue;
    const dstLen = m.payload.readUInt8(1);
    const dst = a.get(RTA_DST);
    const route: RouteInfo = {
      family: family === AF_INET6 ? 6 : 4,
      dst: dst && dstLen > 0 ? `${bytesToIp(dst)}/${dstLen}` : 'default',
      table,
      protocol: m.payload.readUInt8(5),
    };
    const gw = a.get(RTA_GATEWAY);
    if (gw) route.gateway = bytesToIp(gw);
    const oif = attrU32(a.get(RTA_OIF));
    if (oif && names.has(oif)) route.dev = names.get(oif);
    out.push(route);
  }
  return out;
}

const RTN_NAMES: Record<number, RouteLookup['type']> = { [RTN_UNICAST]: 'unicast', [RTN_LOCAL]: 'local' };

/**
 * The route the kernel would take to `ip` (`ip route get`): policy rules and every table
 * included. A gateway in the answer means `ip` is not on-link. No route: ENETUNREACH.
 */
export function lookupRoute(s: NetlinkSocket, ip: string, names: Map<number, string>): RouteLookup {
  const d = ipToBytes(ip);
  const msg = Buffer.alloc(RTMSG_LEN);
  msg.writeUInt8(d.family, 0);
  msg.writeUInt8(d.bytes.length * 8, 1);
  const [reply] = s.get(RTM_GETROUTE, [msg, attr(RTA_DST, d.bytes)]).filter((m) => m.type === RTM_NEWROUTE);
  if (!reply) return { type: 'other' };
  const a = parseAttrs(reply.payload, RTMSG_LEN);
  const out: RouteLookup = { type: RTN_NAMES[reply.payload.readUInt8(7)] ?? 'other' };
  const gw = a.get(RTA_GATEWAY);
  if (gw) out.gateway = bytesToIp(gw);
  const oif = attrU32(a.get(RTA_OIF));
  if (oif && names.has(oif)) out.dev = names.get(oif);
  const src = a.get(RTA_PREFSRC);
  if (src) out.prefsrc = bytesToIp(src);
  return out;
}
