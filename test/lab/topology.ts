// The lab's wiring: a "host" netns (where berthd runs) with an uplink to an "internet" netns.
// Both speak IPv4 and IPv6 (documentation prefixes; addresses without DAD, usable at once).
//
//   host ns                         internet ns
//   uplink0 198.51.100.2/24 ─veth─ wan0 198.51.100.1/24
//           2001:db8:100::2/64              2001:db8:100::1/64
//   default via 198.51.100.1        lo 203.0.113.10/32, 2001:db8:203::10/128 (echo server)
//   default via 2001:db8:100::1
//
// The internet ns has no route to any container subnet of either family, so a container's
// packet gets an answer only when the host masqueraded it to its uplink address.
import { runOk } from './exec.js';

export const HOST_UPLINK_ADDR = '198.51.100.2';
export const INTERNET_GATEWAY_ADDR = '198.51.100.1';
export const INTERNET_ADDR = '203.0.113.10';
export const HOST_UPLINK_ADDR6 = '2001:db8:100::2';
export const INTERNET_GATEWAY_ADDR6 = '2001:db8:100::1';
export const INTERNET_ADDR6 = '2001:db8:203::10';
export const UPLINK_IF = 'uplink0';
export const INTERNET_IF = 'wan0';

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

/** Runs ip commands in the named netns (the caller's own when undefined). */
async function batchIn(nsName: string | undefined, lines: string[]): Promise<void> {
  const where = nsName === undefined ? [] : ['-n', nsName];
  await runOk(['ip', ...where, '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

/** Creates both namespaces and the uplink between them. */
export async function wireLab(hostName: string, internetName: string): Promise<void> {
  await runOk(['ip', 'netns', 'add', hostName]);
  await runOk(['ip', 'netns', 'add', internetName]);
  await batchIn(hostName, [
    'link set lo up',
    `link add ${UPLINK_IF} type veth peer name ${INTERNET_IF} netns ${internetName}`,
    `addr add ${HOST_UPLINK_ADDR}/24 dev ${UPLINK_IF}`,
    `addr add ${HOST_UPLINK_ADDR6}/64 dev ${UPLINK_IF} nodad`,
    `link set ${UPLINK_IF} up`,
    `route add default via ${INTERNET_GATEWAY_ADDR}`,
    `route add ::/0 via ${INTERNET_GATEWAY_ADDR6} dev ${UPLINK_IF}`,
  ]);
  await batchIn(internetName, [
    'link set lo up',
    `addr add ${INTERNET_ADDR}/32 dev lo`,
    `addr add ${INTERNET_ADDR6}/128 dev lo`,
    `addr add ${INTERNET_GATEWAY_ADDR}/24 dev ${INTERNET_IF}`,
    `addr add ${INTERNET_GATEWAY_ADDR6}/64 dev ${INTERNET_IF} nodad`,
    `link set ${INTERNET_IF} up`,
  ]);
}

// The optional "lan": a bridge lan0 in the lab host, with lan hosts (own netns each) on it.
//   host ns lan0 198.18.0.1/24      ── lan hosts 198.18.0.2, .3, … (default route via .1)
//                2001:db8:18::1/64  ──           2001:db8:18::2, ::3, … (default via ::1)
export const LAN_BRIDGE = 'lan0';
export const LAN_HOST_ADDR = '198.18.0.1';
export const LAN_HOST_ADDR6 = '2001:db8:18::1';
const LAN_PREFIX = '198.18.0';
const LAN_PREFIX6 = '2001:db8:18:';

export async function wireLanBridge(hostName: string): Promise<void> {
  await batchIn(hostName, [
    `link add ${LAN_BRIDGE} type bridge`,
    `addr add ${LAN_HOST_ADDR}/24 dev ${LAN_BRIDGE}`,
    `addr add ${LAN_HOST_ADDR6}/64 dev ${LAN_BRIDGE} nodad`,
    `link set ${LAN_BRIDGE} up`,
  ]);
}

/** One host's addresses, IPv4 and IPv6. */
export interface WiredHost {
  addr: string;
  addr6: string;
}

/** Adds lan host number n (2..254) in netns nsName; returns its addresses. */
export async function wireLanHost(hostName: string, nsName: string, n: number): Promise<WiredHost> {
  const host = { addr: `${LAN_PREFIX}.${n}`, addr6: `${LAN_PREFIX6}:${n.toString(16)}` };
  await wireHostOn(hostName, LAN_BRIDGE, `lanh${n}`, nsName, host, { addr: LAN_HOST_ADDR, addr6: LAN_HOST_ADDR6 });
  return host;
}

/**
 * A host in its own netns nsName, by a veth from `port` on `bridge` (in switchNs), with
 * addr/24 and addr6/64 and default routes via the router's two addresses.
 */
async function wireHostOn(switchNs: string, bridge: string, port: string, nsName: string, host: WiredHost, router: WiredHost, mtu = 1500): Promise<void> {
  await runOk(['ip', 'netns', 'add', nsName]);
  await batchIn(switchNs, [
    `link add ${port} mtu ${mtu} type veth peer name eth0 mtu ${mtu} netns ${nsName}`,
    `link set ${port} master ${bridge}`,
    `link set ${port} up`,
  ]);
  await batchIn(nsName, [
    'link set lo up',
    `addr add ${host.addr}/24 dev eth0`,
    `addr add ${host.addr6}/64 dev eth0 nodad`,
    'link set eth0 up',
    `route add default via ${router.addr}`,
    `route add ::/0 via ${router.addr6} dev eth0`,
  ]);
}

// The optional "switched LAN": a network the lab host is a plain member of, as a machine
// is of its office LAN, for drivers whose containers sit on that LAN themselves (macvlan).
// A switch (bridge) and the LAN's router live in a netns of their own; the lab host's
// eth1, one end of a veth into that switch, is the parent a macvlan network is made on.
//
//   host ns                         lan ns                       lan hosts (own netns each)
//   eth1 198.18.1.250/24 ─veth─ up0 ┐
//                                   sw0 198.18.1.1/24 (router)
//                                   lh2 ──────────────veth──── eth0 198.18.1.2/24
//                                   lh3 ──────────────veth──── eth0 198.18.1.3/24 …
//   (and IPv6 2001:db8:18:1::/64: eth1 ::fa, the router ::1, host n ::n)
export const LAN_PARENT_IF = 'eth1';
export const LAN_SUBNET = '198.18.1.0/24';
export const LAN_ROUTER_ADDR = '198.18.1.1';
export const LAN_HOST_SIDE_ADDR = '198.18.1.250';
const SWITCH = 'sw0';
const SWITCHED_PREFIX = '198.18.1';
export const LAN_SUBNET6 = '2001:db8:18:1::/64';
export const LAN_ROUTER_ADDR6 = '2001:db8:18:1::1';
export const LAN_HOST_SIDE_ADDR6 = '2001:db8:18:1::fa';
const SWITCHED_PREFIX6 = '2001:db8:18:1:';

/**
 * Makes the lan netns with its switch and router, and the parent (eth1 unless named) in
 * the lab host (hostName; the caller's own netns when undefined, as the kernel tests use).
 */
export async function wireSwitchedLan(hostName: string | undefined, lanName: string, parent = LAN_PARENT_IF): Promise<void> {
  await runOk(['ip', 'netns', 'add', lanName]);
  await batchIn(lanName, [
    'link set lo up',
    `link add ${SWITCH} type bridge`,
    `addr add ${LAN_ROUTER_ADDR}/24 dev ${SWITCH}`,
    `addr add ${LAN_ROUTER_ADDR6}/64 dev ${SWITCH} nodad`,
    `link set ${SWITCH} up`,
  ]);
  await batchIn(hostName, [
    `link add ${parent} type veth peer name up0 netns ${lanName}`,
    `addr add ${LAN_HOST_SIDE_ADDR}/24 dev ${parent}`,
    `addr add ${LAN_HOST_SIDE_ADDR6}/64 dev ${parent} nodad`,
    `link set ${parent} up`,
  ]);
  await batchIn(lanName, [`link set up0 master ${SWITCH}`, 'link set up0 up']);
}

/** Adds host number n (2..249) on the switched LAN in netns nsName; returns its addresses. */
export async function wireSwitchedHost(lanName: string, nsName: string, n: number): Promise<WiredHost> {
  const host = { addr: `${SWITCHED_PREFIX}.${n}`, addr6: `${SWITCHED_PREFIX6}:${n.toString(16)}` };
  await wireHostOn(lanName, SWITCH, `lh${n}`, nsName, host, { addr: LAN_ROUTER_ADDR, addr6: LAN_ROUTER_ADDR6 });
  return host;
}

// The "underlay" of a multi-host lab (cluster.ts): hosts, each its own netns, on one L2
// segment, as machines on a data-centre network, with a router to an internet.
//
//   switch ns: bridge ul0 ── rt ─────── router ns eth0 10.99.0.1/24, 2001:db8:99::1/64
//                        │               uplink0 198.51.100.2 ─veth─ internet wan0 198.51.100.1
//                        ├─ etcd ─────── etcd ns eth0 10.99.0.2            (the cluster store)
//                        ├─ h1 ──────── host 1 ns eth0 10.99.0.11/24, 2001:db8:99::11/64
//                        └─ h2, h3 … ── host n: 10.99.0.(10+n), 2001:db8:99::(10+n)
//   every member's default routes go via the router, which forwards without NAT; the
//   internet (INTERNET_ADDR, echo and DNS servers) routes the underlay prefixes back via the
//   router, so it answers a host's own address, never a container's unless masqueraded.
export const UNDERLAY_SUBNET = '10.99.0.0/24';
export const UNDERLAY_SUBNET6 = '2001:db8:99::/64';
export const UNDERLAY_ROUTER: WiredHost = { addr: '10.99.0.1', addr6: '2001:db8:99::1' };
export const UNDERLAY_ETCD: WiredHost = { addr: '10.99.0.2', addr6: '2001:db8:99::2' };
const UNDERLAY_SWITCH = 'ul0';
export const UNDERLAY_IF = 'eth0';

/** Host n's (1..200) addresses on the underlay. */
export function underlayHost(n: number): WiredHost {
  return { addr: `10.99.0.${10 + n}`, addr6: `2001:db8:99::${10 + n}` };
}

/** The switch port of host n: deleting it unplugs the host (both veth ends go). */
export function underlayPort(n: number): string {
  return `h${n}`;
}

/**
 * Makes the switch (netns switchName), the router (routerName) and the internet
 * (internetName; wired as a lab's: wireLab), every link at `mtu`.
 */
export async function wireUnderlay(switchName: string, routerName: string, internetName: string, mtu = 1500): Promise<void> {
  await runOk(['ip', 'netns', 'add', switchName]);
  await batchIn(switchName, ['link set lo up', `link add ${UNDERLAY_SWITCH} type bridge`, `link set ${UNDERLAY_SWITCH} up`]);
  await wireLab(routerName, internetName);
  await batchIn(switchName, [
    `link add rt mtu ${mtu} type veth peer name ${UNDERLAY_IF} mtu ${mtu} netns ${routerName}`,
    `link set rt master ${UNDERLAY_SWITCH}`,
    'link set rt up',
  ]);
  await batchIn(routerName, [
    `addr add ${UNDERLAY_ROUTER.addr}/24 dev ${UNDERLAY_IF}`,
    `addr add ${UNDERLAY_ROUTER.addr6}/64 dev ${UNDERLAY_IF} nodad`,
    `link set ${UNDERLAY_IF} up`,
  ]);
  // a fresh netns forwards nothing; the router must, in both families
  await runOk(['nsenter', `--net=${netnsPath(routerName)}`, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  await batchIn(internetName, [
    `route add ${UNDERLAY_SUBNET} via ${HOST_UPLINK_ADDR}`,
    `route add ${UNDERLAY_SUBNET6} via ${HOST_UPLINK_ADDR6} dev ${INTERNET_IF}`,
  ]);
}

/** Puts a member (netns nsName, made here) on the underlay by switch port `port`. */
export async function wireUnderlayMember(switchName: string, port: string, nsName: string, member: WiredHost, mtu = 1500): Promise<void> {
  await wireHostOn(switchName, UNDERLAY_SWITCH, port, nsName, member, UNDERLAY_ROUTER, mtu);
}
