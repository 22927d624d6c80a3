import type { Kernel } from '../../kernel/types.js';
import { assertIfName } from '../../kernel/validate.js';
import { isIPv6 } from 'node:net';
import { isIPv4 } from '../../util/ip.js';
import { InvalidParameterError } from '../../util/errors.js';

// berth's firewall lives in its own nftables tables and nowhere else: `ip berth` (filter,
// NAT, published ports, links), its IPv6 twin `ip6 berth` (made from the same template)
// and `bridge berth` (inter-container traffic on one bridge, both families). Rules
// are fixed at table creation; every per-network, per-port and per-link change is a
// set/map element update inside one transaction, so its cost does not grow with the
// number of networks, containers or published ports.
//
// br_netfilter note: when it is loaded (bridge-nf-call-iptables=1, the default in every
// netns once the module is in), frames bridged between two ports of a bridge also walk
// the `ip` hooks with iif = oif = the bridge, and a DNAT back onto the same bridge is
// re-bridged rather than routed. The rules below give the same verdicts with and without
// it; the one thing they cannot do is send a frame back out the port it came in on
// (a container reaching itself through its own published port with br_netfilter on):
// that needs hairpin mode on the container's bridge port, as Docker sets without its proxy.
//
// Sysctls: net.ipv4.conf.<bridge>.route_localnet=1 on every bridge (addNetwork), because
// a host process connecting to 127.0.0.1:PORT is DNATed to a container, and the kernel
// refuses to route a packet with a 127.0.0.0/8 source out of a non-loopback device unless
// route_localnet is on for that device; the LOOPBACK masquerade below then gives it the
// gateway address, so the container's answer finds its way back.

export const TABLE = 'berth';

/** What the firewall needs to know about one bridge network (a plain value). */
export interface NetworkPolicy {
  /**
   * the network's interface: its bridge, or on a routed network the wildcard of its
   * host ends ("rt0123ab*"), which stands for all of them in the interval sets (icc,
   * subnet_bridges); the hash sets `bridges` and `internal_bridges` take each host end
   * by name (routedEndElements) — libnftables 1.0.6 cannot delete a wildcard from a
   * one-field interval set, and a concatenation of two fields it can
   */
  bridge: string;
  /** the IPv4 subnet (absent on an IPv6-only network) */
  subnet?: string;
  /** the IPv6 subnet of a dual-stack or IPv6-only network */
  subnet6?: string;
  internal: boolean;
  /** masquerade traffic leaving the host (com.docker.network.bridge.enable_ip_masquerade) */
  masquerade: boolean;
  /** inter-container communication on the bridge (com.docker.network.bridge.enable_icc) */
  icc: boolean;
  /**
   * The subnet spans hosts and is routed between them over the underlay (an overlay with
   * routing=direct): traffic between two of its addresses may cross a non-bridge
   * interface, and keeps its addresses (no masquerade). See ROUTED below.
   */
  routed?: boolean;
}

export type PortProto = 'tcp' | 'udp';

/** One published port: hostIp '0.0.0.0' means every local address. */
export interface DnatEntry {
  hostIp: string;
  proto: PortProto;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

/** `--link`: `clientIp` may reach `serverIp` on proto/port (an exposed port), and the replies come back. */
export interface LinkEntry {
  clientIp: string;
  serverIp: string;
  proto: PortProto;
  port: number;
}

/** The host end of a routed network's veth (see NetworkPolicy.bridge). */
export interface RoutedEnd {
  name: string;
  internal: boolean;
}

export interface FirewallState {
  ports?: DnatEntry[];
  links?: LinkEntry[];
  routedEnds?: RoutedEnd[];
}

export const ANY_IP = '0.0.0.0';
export const ANY_IP6 = '::';
const LOOPBACK6 = '::1';

/** The packet-mark bit berth sets on DNATed flows (see the bridge table). */
export const DNAT_MARK = '0x00200000';

/** What differs between the IPv4 and the IPv6 table: names, address types, the loopback. */
interface Family {
  table: 'ip' | 'ip6';
  /** the nft payload keyword and address type */
  ip: 'ip' | 'ip6';
  addr: 'ipv4_addr' | 'ipv6_addr';
  any: string;
  loopback: string;
}

const IPV4: Family = { table: 'ip', ip: 'ip', addr: 'ipv4_addr', any: ANY_IP, loopback: '127.0.0.0/8' };
const IPV6: Family = { table: 'ip6', ip: 'ip6', addr: 'ipv6_addr', any: ANY_IP6, loopback: '::1' };

// ROUTED (overlay routing=direct): a container on another host reaches one here by plain
// routing, its packet arriving on the underlay with its own address as the source. Such a
// packet is accepted only when source and destination are both in the routed subnet and
// the source passes a strict reverse-path check (fib saddr . iif): this host's route to
// the source leads back out the interface the packet came in on, i.e. berth routed that
// address to another host of the network. Anything else on the underlay or beyond (a
// host outside the cluster, the cluster's hosts themselves, an address of the subnet no
// other host holds) is still dropped by DIRECT ACCESS and NO DIRECT ACCESS.

// One table per family, from one template: the same sets, maps, chains and verdicts, so
// what holds for IPv4 (isolation, internal, published ports, links, hairpin, masquerade)
// holds for IPv6 by construction. The differences are the kernel's, around loopback:
// IPv4 needs the LOOPBACK drop (route_localnet lets 127.0.0.0/8 in from outside,
// moby#41872) and reaches containers from 127.0.0.1 by DNAT plus a masquerade; IPv6 drops
// ::1 from outside by itself (RFC 4291 2.5.3) but cannot NAT ::1 into a container at all,
// so the ip6 table leaves ::1 to berthd's relay (portmap/loopback-relay.ts).
function addressTable(f: Family): string[] {
  const { ip, addr } = f;
  return [
    `table ${f.table} ${TABLE} {`,
    '  set bridges { type ifname; comment "every berth bridge"; }',
    '  set internal_bridges { type ifname; comment "--internal networks: no way in or out"; }',
    `  set masquerade_subnets { type ${addr}; flags interval; comment "subnets whose egress leaves with the host address"; }`,
    '  set icc { type ifname . ifname; flags interval; comment "bridges whose containers may talk to each other"; }',
    `  set subnet_bridges { type ${addr} . ifname; flags interval; comment "each container subnet with the bridge it lives on"; }`,
    `  set guarded_subnets { type ${addr}; flags interval; comment "subnets only their own bridge may address (NAT and internal networks)"; }`,
    `  set links { type ${addr} . ${addr} . inet_proto . inet_service; comment "--link: client . server . proto . exposed port"; }`,
    `  set routed_subnets { type ${addr} . ${addr}; flags interval; comment "subnets routed between hosts (overlay routing=direct): subnet . subnet"; }`,
    `  map published { type ${addr} . inet_proto . inet_service : ${addr} . inet_service; comment "published on one host address: host ip . proto . port -> container ip . port"; }`,
    `  map published_any { type inet_proto . inet_service : ${addr} . inet_service; comment "published on ${f.table === 'ip' ? f.any : `[${f.any}]`}: proto . port -> container ip . port"; }`,
    ...(f.table === 'ip' ? [
      '  chain raw_prerouting {',
      '    type filter hook prerouting priority raw; policy accept;',
      '    iifname != "lo" ip daddr 127.0.0.0/8 drop comment "LOOPBACK: 127.0.0.0/8 only from the host itself (moby#41872)"',
      '  }',
    ] : []),
    '  chain guard_prerouting {',
    '    type filter hook prerouting priority mangle; policy accept;',
    `    ${ip} saddr . ${ip} daddr @routed_subnets iifname != @bridges fib saddr . iif oif exists accept comment "ROUTED: from the network's containers on other hosts (strict reverse path)"`,
    `    ${ip} daddr @guarded_subnets ${ip} daddr . iifname != @subnet_bridges fib daddr type != local ct direction original drop comment "DIRECT ACCESS: container addresses only from their own bridge (replies to DNATed flows pass)"`,
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    `    ${ip} daddr != ${f.loopback} jump published comment "loopback bindings are for the host only"`,
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    f.table === 'ip'
      ? '    jump published comment "from the host itself, 127.0.0.1 included"'
      : '    ip6 daddr != ::1 jump published comment "from the host itself; ::1 is relayed by berthd (the kernel cannot NAT IPv6 loopback into a container)"',
    '  }',
    '  chain published {',
    `    meta l4proto { tcp, udp } dnat ${ip} to ${ip} daddr . meta l4proto . th dport map @published comment "PUBLISHED: one host address"`,
    `    meta l4proto { tcp, udp } fib daddr type local dnat ${ip} to meta l4proto . th dport map @published_any comment "PUBLISHED: any local address"`,
    '  }',
    '  chain mark_published {',
    '    type filter hook prerouting priority dstnat + 10; policy accept;',
    `    ct status dnat meta mark set meta mark | ${DNAT_MARK} comment "PUBLISHED: tells the bridge table this flow was DNATed"`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    oifname @bridges ct state established,related accept comment "replies to containers"',
    // neighbour discovery is never routed; it reaches this hook only bridged (br_netfilter),
    // and an icc=false bridge must still let its links resolve their servers
    ...(f.table === 'ip6' ? ['    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept comment "neighbour discovery (bridged under br_netfilter)"'] : []),
    '    iifname . oifname @icc accept comment "ICC: same network"',
    `    ${ip} saddr . ${ip} daddr @routed_subnets ${ip} saddr . iifname @subnet_bridges accept comment "ROUTED: to the network's containers on other hosts"`,
    `    ${ip} saddr . ${ip} daddr @routed_subnets ${ip} daddr . oifname @subnet_bridges fib saddr . iif oif exists accept comment "ROUTED: from the network's containers on other hosts (strict reverse path)"`,
    '    iifname @internal_bridges drop comment "INTERNAL: no egress"',
    '    oifname @internal_bridges drop comment "INTERNAL: no ingress"',
    '    oifname @bridges ct status dnat accept comment "PUBLISHED: DNATed to a published port"',
    `    meta l4proto { tcp, udp } ${ip} saddr . ${ip} daddr . meta l4proto . th dport @links accept comment "LINK: to the linked container's exposed port"`,
    '    iifname @bridges oifname @bridges drop comment "ISOLATION: networks cannot reach each other"',
    '    iifname @bridges accept comment "EGRESS"',
    '    oifname @bridges drop comment "NO DIRECT ACCESS: container addresses are not reachable from outside"',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ${ip} saddr . ${ip} daddr @routed_subnets accept comment "ROUTED: between the network's containers across hosts, addresses kept"`,
    `    ${ip} saddr @masquerade_subnets oifname != @bridges masquerade comment "MASQUERADE: egress with the host address"`,
    ...(f.table === 'ip' ? ['    oifname @bridges ip saddr 127.0.0.0/8 masquerade comment "LOOPBACK: host 127.0.0.1 -> container, answered via the gateway"'] : []),
    `    oifname @bridges ct status dnat ${ip} saddr . oifname @subnet_bridges masquerade comment "HAIRPIN: a container reaching its own network through a published port"`,
    '  }',
    '}',
  ];
}

// Frames between two ports of one bridge never reach the ip hooks without br_netfilter:
// icc=false is enforced here, at the bridge layer, by destination subnet (kernels may lack
// bridge meta keys and bridge conntrack, so neither is used). With br_netfilter, a DNAT back
// onto the same bridge is re-bridged: DNAT_MARK (set in the ip table) lets it through.
// IPv6 neighbour discovery passes as ARP does (a unicast neighbour advertisement is
// addressed inside the subnet; without it a link could not even resolve its server).
const BRIDGE_TABLE = [
  `table bridge ${TABLE} {`,
  '  set no_icc_subnets { type ipv4_addr; flags interval; comment "subnets of bridges with enable_icc=false"; }',
  '  set no_icc_subnets6 { type ipv6_addr; flags interval; comment "IPv6 subnets of bridges with enable_icc=false"; }',
  '  set links { type ipv4_addr . ipv4_addr . inet_proto . inet_service; comment "--link: client . server . proto . exposed port"; }',
  '  set links6 { type ipv6_addr . ipv6_addr . inet_proto . inet_service; comment "--link over IPv6: client . server . proto . exposed port"; }',
  '  chain forward {',
  '    type filter hook forward priority filter; policy accept;',
  '    ether type != { ip, ip6 } accept comment "ARP and the rest pass"',
  '    ip daddr != @no_icc_subnets accept comment "ICC: on"',
  '    ip6 daddr != @no_icc_subnets6 accept comment "ICC: on (IPv6)"',
  '    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept comment "IPv6 neighbour discovery passes, as ARP does"',
  `    meta mark & ${DNAT_MARK} == ${DNAT_MARK} accept comment "PUBLISHED: re-bridged after a DNAT (br_netfilter)"`,
  '    meta l4proto { tcp, udp } ip saddr . ip daddr . meta l4proto . th dport @links accept comment "LINK: to the linked container\'s exposed port"',
  '    meta l4proto { tcp, udp } ip daddr . ip saddr . meta l4proto . th sport @links accept comment "LINK: replies"',
  '    meta l4proto { tcp, udp } ip6 saddr . ip6 daddr . meta l4proto . th dport @links6 accept comment "LINK: to the linked container\'s exposed port"',
  '    meta l4proto { tcp, udp } ip6 daddr . ip6 saddr . meta l4proto . th sport @links6 accept comment "LINK: replies"',
  '    drop comment "NO ICC: containers on this bridge cannot reach each other"',
  '  }',
  '}',
];

/** Which tables berth programs: `ip6: false` is `--ip6tables=false` (IPv6 left unfiltered, Docker's meaning). */
export interface TableChoice {
  ip6: boolean;
}

const ALL_TABLES: TableChoice = { ip6: true };

/** The full tables: used at start-up (atomic replace) and golden-tested without root. */
export function renderTable(policies: NetworkPolicy[], state: FirewallState = {}, tables: TableChoice = ALL_TABLES): string {
  return [
    ...addressTable(IPV4),
    ...(tables.ip6 ? addressTable(IPV6) : []),
    ...BRIDGE_TABLE,
    ...policies.map((p) => networkElements('add', p, tables)),
    portElements('add', state.ports ?? []),
    linkElements('add', state.links ?? []),
    ...(state.routedEnds ?? []).map((e) => routedEndElements('add', e, tables)),
  ].filter((s) => s.length > 0).join('\n');
}

export function networkElements(verb: 'add' | 'delete', p: NetworkPolicy, tables: TableChoice = ALL_TABLES): string {
  const wildcard = p.bridge.endsWith('*');
  assertIfName(wildcard ? p.bridge.slice(0, -1) : p.bridge);
  const b = JSON.stringify(p.bridge);
  const el = (set: string, value: string, family: string) => `${verb} element ${family} ${TABLE} ${set} { ${value} }`;
  const lines: string[] = [];
  const subnets: [Family, string | undefined][] = [[IPV4, p.subnet && assertSubnet(p.subnet)], [IPV6, p.subnet6 && assertSubnet6(p.subnet6)]];
  for (const [f, subnet] of subnets) {
    if (f === IPV6 && !tables.ip6) continue;
    // the interface verdicts, in both families' tables whatever the network's families
    if (!wildcard) lines.push(el('bridges', b, f.table));
    if (p.internal && !wildcard) lines.push(el('internal_bridges', b, f.table));
    if (p.icc) lines.push(el('icc', `${b} . ${b}`, f.table));
    if (!subnet) continue;
    lines.push(el('subnet_bridges', `${subnet} . ${b}`, f.table));
    if (p.internal || p.masquerade) lines.push(el('guarded_subnets', subnet, f.table));
    if (p.masquerade && !p.internal) lines.push(el('masquerade_subnets', subnet, f.table));
    if (p.routed) lines.push(el('routed_subnets', `${subnet} . ${subnet}`, f.table));
  }
  if (!p.icc && p.subnet) lines.push(el('no_icc_subnets', p.subnet, 'bridge'));
  if (!p.icc && p.subnet6 && tables.ip6) lines.push(el('no_icc_subnets6', p.subnet6, 'bridge'));
  return lines.join('\n');
}

/** A routed network's host end as a berth interface (and an internal one), in both families' tables. */
export function routedEndElements(verb: 'add' | 'delete', e: RoutedEnd, tables: TableChoice = ALL_TABLES): string {
  assertIfName(e.name);
  const lines: string[] = [];
  for (const f of tables.ip6 ? [IPV4, IPV6] : [IPV4]) {
    lines.push(`${verb} element ${f.table} ${TABLE} bridges { ${JSON.stringify(e.name)} }`);
    if (e.internal) lines.push(`${verb} element ${f.table} ${TABLE} internal_bridges { ${JSON.stringify(e.name)} }`);
  }
  return lines.join('\n');
}

export function portElements(verb: 'add' | 'delete', ports: DnatEntry[]): string {
  const lines: string[] = [];
  for (const f of [IPV4, IPV6]) {
    const one: string[] = [];
    const any: string[] = [];
    for (const p of ports) {
      // [::1] gets no element: the kernel cannot NAT it, berthd relays it (portmap/loopback-relay.ts)
      if (familyOfIp(p.hostIp) !== f || p.hostIp === LOOPBACK6) continue;
      assertIp(p.containerIp, f);
      const value = `${p.proto} . ${assertPort(p.hostPort)}`;
      const target = verb === 'add' ? ` : ${p.containerIp} . ${assertPort(p.containerPort)}` : '';
      if (p.hostIp === f.any) any.push(value + target);
      else one.push(`${p.hostIp} . ${value}${target}`);
    }
    if (one.length) lines.push(`${verb} element ${f.table} ${TABLE} published { ${one.join(', ')} }`);
    if (any.length) lines.push(`${verb} element ${f.table} ${TABLE} published_any { ${any.join(', ')} }`);
  }
  return lines.join('\n');
}

export function linkElements(verb: 'add' | 'delete', links: LinkEntry[]): string {
  const lines: string[] = [];
  for (const f of [IPV4, IPV6]) {
    const values = links
      .filter((l) => familyOfIp(l.clientIp) === f)
      .map((l) => `${assertIp(l.clientIp, f)} . ${assertIp(l.serverIp, f)} . ${l.proto} . ${assertPort(l.port)}`);
    if (!values.length) continue;
    lines.push(`${verb} element ${f.table} ${TABLE} links { ${values.join(', ')} }`);
    lines.push(`${verb} element bridge ${TABLE} ${f === IPV4 ? 'links' : 'links6'} { ${values.join(', ')} }`);
  }
  return lines.join('\n');
}

function familyOfIp(ip: string): Family {
  if (isIPv4(ip)) return IPV4;
  if (isIPv6(ip)) return IPV6;
  throw new InvalidParameterError(`firewall: invalid address ${JSON.stringify(ip)}`);
}

function assertIp(ip: string, f: Family): string {
  if (familyOfIp(ip) !== f) throw new InvalidParameterError(`firewall: ${ip} is not an ${f === IPV4 ? 'IPv4' : 'IPv6'} address`);
  return ip;
}

function assertPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidParameterError(`firewall: invalid port ${port}`);
  return port;
}

function assertSubnet(cidr: string): string {
  const [ip, prefix, ...rest] = cidr.split('/');
  if (rest.length || !isIPv4(ip ?? '') || !/^\d{1,2}$/.test(prefix ?? '') || Number(prefix) > 32) {
    throw new InvalidParameterError(`firewall: invalid subnet ${JSON.stringify(cidr)}`);
  }
  return cidr;
}

function assertSubnet6(cidr: string): string {
  const [ip, prefix, ...rest] = cidr.split('/');
  if (rest.length || !isIPv6(ip ?? '') || !/^\d{1,3}$/.test(prefix ?? '') || Number(prefix) > 128) {
    throw new InvalidParameterError(`firewall: invalid IPv6 subnet ${JSON.stringify(cidr)}`);
  }
  return cidr;
}

/**
 * The firewall handle the bridge driver and the port mapper use. `enabled: false` is
 * `--iptables=false` (no tables at all); `ip6: false` is `--ip6tables=false`.
 */
export class Firewall {
  private readonly tables: TableChoice;

  constructor(private readonly kernel: Kernel, readonly enabled: boolean, ip6 = true) {
    this.tables = { ip6 };
  }

  /** False with --ip6tables=false: nothing is published on IPv6 then. */
  get ip6(): boolean {
    return this.tables.ip6;
  }

  /** Replaces berth's tables atomically with ones holding exactly these networks, ports and links. */
  async reset(policies: NetworkPolicy[], state: FirewallState = {}): Promise<void> {
    if (!this.enabled) return;
    const links = this.programmable(state.links ?? []);
    await this.kernel.nft([
      `add table ip ${TABLE}`, `delete table ip ${TABLE}`,
      // --ip6tables=false: a table a former run made goes too
      `add table ip6 ${TABLE}`, `delete table ip6 ${TABLE}`,
      `add table bridge ${TABLE}`, `delete table bridge ${TABLE}`,
      renderTable(policies, { ports: state.ports, links, routedEnds: state.routedEnds }, this.tables),
    ].join('\n'));
  }

  async addNetwork(p: NetworkPolicy): Promise<void> {
    if (!this.enabled) return;
    await this.kernel.nft(networkElements('add', p, this.tables));
    // Why: see the header (127.0.0.1 -> container needs route_localnet on the bridge; a
    // routed network's host ends get it when they are made)
    if (!p.bridge.endsWith('*')) await this.kernel.writeSysctl(`net/ipv4/conf/${p.bridge}/route_localnet`, '1').catch(() => undefined);
  }

  /** A routed network's host end, as it joins (idempotent: an element there is no error). */
  async addRoutedEnd(e: RoutedEnd): Promise<void> {
    if (this.enabled) await this.kernel.nft(routedEndElements('add', e, this.tables));
  }

  /** Idempotent, as removeNetwork. */
  async removeRoutedEnd(e: RoutedEnd): Promise<void> {
    if (this.enabled) await this.kernel.nft(`${routedEndElements('add', e, this.tables)}\n${routedEndElements('delete', e, this.tables)}`);
  }

  /**
   * Idempotent (a removal finished after a crash finds the table reset without them):
   * libnftables 1.0.6 has no "destroy element", and "add" of an element that is there is
   * no error, so each is added, then deleted, in one transaction.
   */
  async removeNetwork(p: NetworkPolicy): Promise<void> {
    if (this.enabled) await this.kernel.nft(`${networkElements('add', p, this.tables)}\n${networkElements('delete', p, this.tables)}`);
  }

  /** Adds published ports: one transaction whatever their number. */
  async publish(ports: DnatEntry[]): Promise<void> {
    if (this.enabled && ports.length) await this.kernel.nft(portElements('add', ports));
  }

  async unpublish(ports: DnatEntry[]): Promise<void> {
    if (this.enabled && ports.length) await this.kernel.nft(portElements('delete', ports));
  }

  async addLinks(links: LinkEntry[]): Promise<void> {
    const mine = this.programmable(links);
    if (this.enabled && mine.length) await this.kernel.nft(linkElements('add', mine));
  }

  async removeLinks(links: LinkEntry[]): Promise<void> {
    const mine = this.programmable(links);
    if (this.enabled && mine.length) await this.kernel.nft(linkElements('delete', mine));
  }

  /** IPv6 links are left out with --ip6tables=false (nothing filters IPv6 then). */
  private programmable(links: LinkEntry[]): LinkEntry[] {
    return this.tables.ip6 ? links : links.filter((l) => !isIPv6(l.clientIp));
  }

  /** Every berth table as nft prints it, for a person to read. */
  async describe(): Promise<string> {
    if (!this.enabled) return '';
    // one list per call: libnftables 1.0.6 fails (ENOENT) on two `list table` in one buffer
    const ip = await this.kernel.nft(`list table ip ${TABLE}`);
    const ip6 = this.tables.ip6 ? await this.kernel.nft(`list table ip6 ${TABLE}`) : '';
    const bridge = await this.kernel.nft(`list table bridge ${TABLE}`);
    return ip + ip6 + bridge;
  }
}
