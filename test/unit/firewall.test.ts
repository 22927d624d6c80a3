import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Firewall, linkElements, networkElements, portElements, renderTable, routedEndElements, type DnatEntry } from '../../src/drivers/bridge/firewall.js';
import type { Kernel } from '../../src/kernel/types.js';

const NETWORKS = [
  { bridge: 'berth0', subnet: '172.17.0.0/16', subnet6: 'fd00:17::/64', internal: false, masquerade: true, icc: true },
  { bridge: 'br-0123456789ab', subnet: '172.18.0.0/16', subnet6: 'fd00:18::/64', internal: true, masquerade: true, icc: false },
  // an overlay with routing=direct: its subnet spans hosts, routed between them
  { bridge: 'ov-0123456789ab', subnet: '10.0.0.0/24', internal: false, masquerade: true, icc: true, routed: true },
];
const PORTS: DnatEntry[] = [
  { hostIp: '0.0.0.0', proto: 'tcp', hostPort: 8080, containerIp: '172.17.0.2', containerPort: 80 },
  { hostIp: '127.0.0.1', proto: 'udp', hostPort: 5353, containerIp: '172.17.0.2', containerPort: 53 },
  { hostIp: '::', proto: 'tcp', hostPort: 8080, containerIp: 'fd00:17::2', containerPort: 80 },
  { hostIp: '2001:db8::1', proto: 'udp', hostPort: 5353, containerIp: 'fd00:17::2', containerPort: 53 },
];
const LINKS = [
  { clientIp: '172.17.0.3', serverIp: '172.17.0.2', proto: 'tcp' as const, port: 80 },
  { clientIp: 'fd00:17::3', serverIp: 'fd00:17::2', proto: 'tcp' as const, port: 80 },
];

// Golden: the whole text berth loads at start-up. A change here is a change of behaviour.
const GOLDEN = `
table ip berth {
  set bridges { type ifname; comment "every berth bridge"; }
  set internal_bridges { type ifname; comment "--internal networks: no way in or out"; }
  set masquerade_subnets { type ipv4_addr; flags interval; comment "subnets whose egress leaves with the host address"; }
  set icc { type ifname . ifname; flags interval; comment "bridges whose containers may talk to each other"; }
  set subnet_bridges { type ipv4_addr . ifname; flags interval; comment "each container subnet with the bridge it lives on"; }
  set guarded_subnets { type ipv4_addr; flags interval; comment "subnets only their own bridge may address (NAT and internal networks)"; }
  set links { type ipv4_addr . ipv4_addr . inet_proto . inet_service; comment "--link: client . server . proto . exposed port"; }
  set routed_subnets { type ipv4_addr . ipv4_addr; flags interval; comment "subnets routed between hosts (overlay routing=direct): subnet . subnet"; }
  map published { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; comment "published on one host address: host ip . proto . port -> container ip . port"; }
  map published_any { type inet_proto . inet_service : ipv4_addr . inet_service; comment "published on 0.0.0.0: proto . port -> container ip . port"; }
  chain raw_prerouting {
    type filter hook prerouting priority raw; policy accept;
    iifname != "lo" ip daddr 127.0.0.0/8 drop comment "LOOPBACK: 127.0.0.0/8 only from the host itself (moby#41872)"
  }
  chain guard_prerouting {
    type filter hook prerouting priority mangle; policy accept;
    ip saddr . ip daddr @routed_subnets iifname != @bridges fib saddr . iif oif exists accept comment "ROUTED: from the network's containers on other hosts (strict reverse path)"
    ip daddr @guarded_subnets ip daddr . iifname != @subnet_bridges fib daddr type != local ct direction original drop comment "DIRECT ACCESS: container addresses only from their own bridge (replies to DNATed flows pass)"
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr != 127.0.0.0/8 jump published comment "loopback bindings are for the host only"
  }
  chain output {
    type nat hook output priority -100; policy accept;
    jump published comment "from the host itself, 127.0.0.1 included"
  }
  chain published {
    meta l4proto { tcp, udp } dnat ip to ip daddr . meta l4proto . th dport map @published comment "PUBLISHED: one host address"
    meta l4proto { tcp, udp } fib daddr type local dnat ip to meta l4proto . th dport map @published_any comment "PUBLISHED: any local address"
  }
  chain mark_published {
    type filter hook prerouting priority dstnat + 10; policy accept;
    ct status dnat meta mark set meta mark | 0x00200000 comment "PUBLISHED: tells the bridge table this flow was DNATed"
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    oifname @bridges ct state established,related accept comment "replies to containers"
    iifname . oifname @icc accept comment "ICC: same network"
    ip saddr . ip daddr @routed_subnets ip saddr . iifname @subnet_bridges accept comment "ROUTED: to the network's containers on other hosts"
    ip saddr . ip daddr @routed_subnets ip daddr . oifname @subnet_bridges fib saddr . iif oif exists accept comment "ROUTED: from the network's containers on other hosts (strict reverse path)"
    iifname @internal_bridges drop comment "INTERNAL: no egress"
    oifname @internal_bridges drop comment "INTERNAL: no ingress"
    oifname @bridges ct status dnat accept comment "PUBLISHED: DNATed to a published port"
    meta l4proto { tcp, udp } ip saddr . ip daddr . meta l4proto . th dport @links accept comment "LINK: to the linked container's exposed port"
    iifname @bridges oifname @bridges drop comment "ISOLATION: networks cannot reach each other"
    iifname @bridges accept comment "EGRESS"
    oifname @bridges drop comment "NO DIRECT ACCESS: container addresses are not reachable from outside"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr . ip daddr @routed_subnets accept comment "ROUTED: between the network's containers across hosts, addresses kept"
    ip saddr @masquerade_subnets oifname != @bridges masquerade comment "MASQUERADE: egress with the host address"
    oifname @bridges ip saddr 127.0.0.0/8 masquerade comment "LOOPBACK: host 127.0.0.1 -> container, answered via the gateway"
    oifname @bridges ct status dnat ip saddr . oifname @subnet_bridges masquerade comment "HAIRPIN: a container reaching its own network through a published port"
  }
}
table ip6 berth {
  set bridges { type ifname; comment "every berth bridge"; }
  set internal_bridges { type ifname; comment "--internal networks: no way in or out"; }
  set masquerade_subnets { type ipv6_addr; flags interval; comment "subnets whose egress leaves with the host address"; }
  set icc { type ifname . ifname; flags interval; comment "bridges whose containers may talk to each other"; }
  set subnet_bridges { type ipv6_addr . ifname; flags interval; comment "each container subnet with the bridge it lives on"; }
  set guarded_subnets { type ipv6_addr; flags interval; comment "subnets only their own bridge may address (NAT and internal networks)"; }
  set links { type ipv6_addr . ipv6_addr . inet_proto . inet_service; comment "--link: client . server . proto . exposed port"; }
  set routed_subnets { type ipv6_addr . ipv6_addr; flags interval; comment "subnets routed between hosts (overlay routing=direct): subnet . subnet"; }
  map published { type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service; comment "published on one host address: host ip . proto . port -> container ip . port"; }
  map published_any { type inet_proto . inet_service : ipv6_addr . inet_service; comment "published on [::]: proto . port -> container ip . port"; }
  chain guard_prerouting {
    type filter hook prerouting priority mangle; policy accept;
    ip6 saddr . ip6 daddr @routed_subnets iifname != @bridges fib saddr . iif oif exists accept comment "ROUTED: from the network's containers on other hosts (strict reverse path)"
    ip6 daddr @guarded_subnets ip6 daddr . iifname != @subnet_bridges fib daddr type != local ct direction original drop comment "DIRECT ACCESS: container addresses only from their own bridge (replies to DNATed flows pass)"
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip6 daddr != ::1 jump published comment "loopback bindings are for the host only"
  }
  chain output {
    type nat hook output priority -100; policy accept;
    ip6 daddr != ::1 jump published comment "from the host itself; ::1 is relayed by berthd (the kernel cannot NAT IPv6 loopback into a container)"
  }
  chain published {
    meta l4proto { tcp, udp } dnat ip6 to ip6 daddr . meta l4proto . th dport map @published comment "PUBLISHED: one host address"
    meta l4proto { tcp, udp } fib daddr type local dnat ip6 to meta l4proto . th dport map @published_any comment "PUBLISHED: any local address"
  }
  chain mark_published {
    type filter hook prerouting priority dstnat + 10; policy accept;
    ct status dnat meta mark set meta mark | 0x00200000 comment "PUBLISHED: tells the bridge table this flow was DNATed"
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    oifname @bridges ct state established,related accept comment "replies to containers"
    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept comment "neighbour discovery (bridged under br_netfilter)"
    iifname . oifname @icc accept comment "ICC: same network"
    ip6 saddr . ip6 daddr @routed_subnets ip6 saddr . iifname @subnet_bridges accept comment "ROUTED: to the network's containers on other hosts"
    ip6 saddr . ip6 daddr @routed_subnets ip6 daddr . oifname @subnet_bridges fib saddr . iif oif exists accept comment "ROUTED: from the network's containers on other hosts (strict reverse path)"
    iifname @internal_bridges drop comment "INTERNAL: no egress"
    oifname @internal_bridges drop comment "INTERNAL: no ingress"
    oifname @bridges ct status dnat accept comment "PUBLISHED: DNATed to a published port"
    meta l4proto { tcp, udp } ip6 saddr . ip6 daddr . meta l4proto . th dport @links accept comment "LINK: to the linked container's exposed port"
    iifname @bridges oifname @bridges drop comment "ISOLATION: networks cannot reach each other"
    iifname @bridges accept comment "EGRESS"
    oifname @bridges drop comment "NO DIRECT ACCESS: container addresses are not reachable from outside"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip6 saddr . ip6 daddr @routed_subnets accept comment "ROUTED: between the network's containers across hosts, addresses kept"
    ip6 saddr @masquerade_subnets oifname != @bridges masquerade comment "MASQUERADE: egress with the host address"
    oifname @bridges ct status dnat ip6 saddr . oifname @subnet_bridges masquerade comment "HAIRPIN: a container reaching its own network through a published port"
  }
}
table bridge berth {
  set no_icc_subnets { type ipv4_addr; flags interval; comment "subnets of bridges with enable_icc=false"; }
  set no_icc_subnets6 { type ipv6_addr; flags interval; comment "IPv6 subnets of bridges with enable_icc=false"; }
  set links { type ipv4_addr . ipv4_addr . inet_proto . inet_service; comment "--link: client . server . proto . exposed port"; }
  set links6 { type ipv6_addr . ipv6_addr . inet_proto . inet_service; comment "--link over IPv6: client . server . proto . exposed port"; }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ether type != { ip, ip6 } accept comment "ARP and the rest pass"
    ip daddr != @no_icc_subnets accept comment "ICC: on"
    ip6 daddr != @no_icc_subnets6 accept comment "ICC: on (IPv6)"
    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept comment "IPv6 neighbour discovery passes, as ARP does"
    meta mark & 0x00200000 == 0x00200000 accept comment "PUBLISHED: re-bridged after a DNAT (br_netfilter)"
    meta l4proto { tcp, udp } ip saddr . ip daddr . meta l4proto . th dport @links accept comment "LINK: to the linked container's exposed port"
    meta l4proto { tcp, udp } ip daddr . ip saddr . meta l4proto . th sport @links accept comment "LINK: replies"
    meta l4proto { tcp, udp } ip6 saddr . ip6 daddr . meta l4proto . th dport @links6 accept comment "LINK: to the linked container's exposed port"
    meta l4proto { tcp, udp } ip6 daddr . ip6 saddr . meta l4proto . th sport @links6 accept comment "LINK: replies"
    drop comment "NO ICC: containers on this bridge cannot reach each other"
  }
}
add element ip berth bridges { "berth0" }
add element ip berth icc { "berth0" . "berth0" }
add element ip berth subnet_bridges { 172.17.0.0/16 . "berth0" }
add element ip berth guarded_subnets { 172.17.0.0/16 }
add element ip berth masquerade_subnets { 172.17.0.0/16 }
add element ip6 berth bridges { "berth0" }
add element ip6 berth icc { "berth0" . "berth0" }
add element ip6 berth subnet_bridges { fd00:17::/64 . "berth0" }
add element ip6 berth guarded_subnets { fd00:17::/64 }
add element ip6 berth masquerade_subnets { fd00:17::/64 }
add element ip berth bridges { "br-0123456789ab" }
add element ip berth internal_bridges { "br-0123456789ab" }
add element ip berth subnet_bridges { 172.18.0.0/16 . "br-0123456789ab" }
add element ip berth guarded_subnets { 172.18.0.0/16 }
add element ip6 berth bridges { "br-0123456789ab" }
add element ip6 berth internal_bridges { "br-0123456789ab" }
add element ip6 berth subnet_bridges { fd00:18::/64 . "br-0123456789ab" }
add element ip6 berth guarded_subnets { fd00:18::/64 }
add element bridge berth no_icc_subnets { 172.18.0.0/16 }
add element bridge berth no_icc_subnets6 { fd00:18::/64 }
add element ip berth bridges { "ov-0123456789ab" }
add element ip berth icc { "ov-0123456789ab" . "ov-0123456789ab" }
add element ip berth subnet_bridges { 10.0.0.0/24 . "ov-0123456789ab" }
add element ip berth guarded_subnets { 10.0.0.0/24 }
add element ip berth masquerade_subnets { 10.0.0.0/24 }
add element ip berth routed_subnets { 10.0.0.0/24 . 10.0.0.0/24 }
add element ip6 berth bridges { "ov-0123456789ab" }
add element ip6 berth icc { "ov-0123456789ab" . "ov-0123456789ab" }
add element ip berth published { 127.0.0.1 . udp . 5353 : 172.17.0.2 . 53 }
add element ip berth published_any { tcp . 8080 : 172.17.0.2 . 80 }
add element ip6 berth published { 2001:db8::1 . udp . 5353 : fd00:17::2 . 53 }
add element ip6 berth published_any { tcp . 8080 : fd00:17::2 . 80 }
add element ip berth links { 172.17.0.3 . 172.17.0.2 . tcp . 80 }
add element bridge berth links { 172.17.0.3 . 172.17.0.2 . tcp . 80 }
add element ip6 berth links { fd00:17::3 . fd00:17::2 . tcp . 80 }
add element bridge berth links6 { fd00:17::3 . fd00:17::2 . tcp . 80 }`;

test('the rendered tables match the golden text, rule for rule and element for element', () => {
  assert.equal(renderTable(NETWORKS, { ports: PORTS, links: LINKS }), GOLDEN.slice(1));
});

test('rules do not grow with networks, ports or links: only element lines differ', () => {
  const rules = (t: string) => t.split('\n').filter((l) => !l.startsWith('add element'));
  assert.deepEqual(rules(renderTable(NETWORKS, { ports: PORTS, links: LINKS })), rules(renderTable([])));
});

test('a network is a handful of element updates; internal ones are never masqueraded, no-icc ones go to the bridge table', () => {
  const text = networkElements('add', NETWORKS[1]!);
  assert.match(text, /add element ip berth internal_bridges \{ "br-0123456789ab" \}/);
  assert.match(text, /add element bridge berth no_icc_subnets \{ 172\.18\.0\.0\/16 \}/);
  assert.doesNotMatch(text, /masquerade_subnets/);
  assert.doesNotMatch(text, /icc \{ "br-0123456789ab"/);
  assert.equal(networkElements('delete', NETWORKS[1]!), text.replaceAll('add element', 'delete element'));
});

test('published ports are map elements of their family\'s table: 0.0.0.0 and :: in published_any, one address in published; deletes name only the key', () => {
  assert.equal(portElements('add', PORTS), [
    'add element ip berth published { 127.0.0.1 . udp . 5353 : 172.17.0.2 . 53 }',
    'add element ip berth published_any { tcp . 8080 : 172.17.0.2 . 80 }',
    'add element ip6 berth published { 2001:db8::1 . udp . 5353 : fd00:17::2 . 53 }',
    'add element ip6 berth published_any { tcp . 8080 : fd00:17::2 . 80 }',
  ].join('\n'));
  assert.equal(portElements('delete', PORTS), [
    'delete element ip berth published { 127.0.0.1 . udp . 5353 }',
    'delete element ip berth published_any { tcp . 8080 }',
    'delete element ip6 berth published { 2001:db8::1 . udp . 5353 }',
    'delete element ip6 berth published_any { tcp . 8080 }',
  ].join('\n'));
  assert.equal(portElements('add', [{ ...PORTS[3]!, hostIp: '::1' }]), '', '[::1] has no element: berthd relays it');
  assert.throws(() => portElements('add', [{ ...PORTS[2]!, containerIp: '172.17.0.2' }]), /172\.17\.0\.2 is not an IPv6 address/, 'a v6 binding never DNATs to a v4 address');
  assert.equal(portElements('add', []), '');
});

test('a link is one element in its family\'s table and one in the bridge table', () => {
  assert.equal(linkElements('add', LINKS), [
    'add element ip berth links { 172.17.0.3 . 172.17.0.2 . tcp . 80 }',
    'add element bridge berth links { 172.17.0.3 . 172.17.0.2 . tcp . 80 }',
    'add element ip6 berth links { fd00:17::3 . fd00:17::2 . tcp . 80 }',
    'add element bridge berth links6 { fd00:17::3 . fd00:17::2 . tcp . 80 }',
  ].join('\n'));
});

test('names, addresses and ports are validated before they reach nft', () => {
  assert.throws(() => renderTable([{ bridge: 'x"; flush ruleset', subnet: '10.0.0.0/8', internal: false, masquerade: true, icc: true }]));
  assert.throws(() => networkElements('add', { ...NETWORKS[0]!, subnet: '10.0.0.0/8 }; flush ruleset; {' }));
  assert.throws(() => portElements('add', [{ ...PORTS[0]!, containerIp: '1.2.3.4 } ; flush ruleset' }]));
  assert.throws(() => portElements('add', [{ ...PORTS[0]!, hostPort: 70000 }]));
  assert.throws(() => linkElements('add', [{ ...LINKS[0]!, port: 0 }]));
});

function recordingKernel(log: string[]): Kernel {
  return {
    nft: async (cmds: string) => { log.push(cmds); return ''; },
    writeSysctl: async (key: string, value: string) => { log.push(`sysctl ${key}=${value}`); },
  } as unknown as Kernel;
}

test('each firewall operation is one nft transaction; --iptables=false touches nothing', async () => {
  const log: string[] = [];
  const fw = new Firewall(recordingKernel(log), true);
  await fw.publish(PORTS);
  await fw.unpublish(PORTS);
  await fw.publish([]);
  await fw.addNetwork(NETWORKS[0]!);
  assert.equal(log.length, 4);
  assert.equal(log[3], 'sysctl net/ipv4/conf/berth0/route_localnet=1');
  const off: string[] = [];
  const disabled = new Firewall(recordingKernel(off), false);
  await disabled.reset(NETWORKS, { ports: PORTS });
  await disabled.publish(PORTS);
  await disabled.addNetwork(NETWORKS[0]!);
  assert.deepEqual(off, []);
});

test('--ip6tables=false: no ip6 table, no IPv6 elements, IPv6 links left out; the IPv4 side unchanged', async () => {
  const log: string[] = [];
  const fw = new Firewall(recordingKernel(log), true, false);
  await fw.reset(NETWORKS, { links: LINKS });
  assert.match(log[0]!, /^delete table ip6 berth$/m, 'a former run\'s ip6 table goes');
  assert.doesNotMatch(log[0]!, /^table ip6|element ip6|element bridge berth (links6|no_icc_subnets6)/m);
  assert.match(log[0]!, /add element bridge berth links \{ 172\.17\.0\.3/);
  await fw.addNetwork(NETWORKS[1]!);
  assert.equal(log[1], networkElements('add', NETWORKS[1]!).split('\n').filter((l) => !/ip6|6 \{/.test(l)).join('\n'));
  await fw.addLinks(LINKS.slice(1));
  assert.equal(log.length, 3, 'an IPv6 link alone is no transaction (the sysctl was the third entry)');
});

test('a dual-stack network: the interface verdicts in both tables, its IPv6 subnet masqueraded; IPv6-only: no IPv4 subnet elements', () => {
  const dual = networkElements('add', { bridge: 'br-dual00000000', subnet: '172.30.0.0/16', subnet6: 'fd00:30::/64', internal: false, masquerade: true, icc: true });
  assert.match(dual, /^add element ip6 berth bridges \{ "br-dual00000000" \}$/m);
  assert.match(dual, /^add element ip6 berth icc \{ "br-dual00000000" \. "br-dual00000000" \}$/m);
  assert.match(dual, /^add element ip6 berth masquerade_subnets \{ fd00:30::\/64 \}$/m);
  const only6 = networkElements('add', { bridge: 'br-only6000000', subnet6: 'fd00:31::/64', internal: true, masquerade: true, icc: true });
  assert.doesNotMatch(only6, /element ip berth (subnet_bridges|guarded_subnets)|no_icc_subnets /);
  assert.doesNotMatch(only6, /masquerade_subnets/, 'an internal network has no egress to masquerade');
  assert.match(only6, /^add element ip6 berth internal_bridges \{ "br-only6000000" \}$/m);
  assert.throws(() => networkElements('add', { bridge: 'br-bad', subnet6: 'fd00::/64 }; flush ruleset; {', internal: false, masquerade: true, icc: true }), /invalid IPv6 subnet/);
});

test('a routed network: its host ends\' wildcard in the interval sets, each host end by name in the interface sets', () => {
  const routed = { bridge: 'rt0123ab*', subnet: '172.31.0.0/16', subnet6: 'fd00:31::/64', internal: true, masquerade: true, icc: true };
  const net = networkElements('add', routed);
  assert.match(net, /^add element ip berth icc \{ "rt0123ab\*" \. "rt0123ab\*" \}$/m);
  assert.match(net, /^add element ip berth subnet_bridges \{ 172\.31\.0\.0\/16 \. "rt0123ab\*" \}$/m);
  assert.match(net, /^add element ip6 berth subnet_bridges \{ fd00:31::\/64 \. "rt0123ab\*" \}$/m);
  assert.doesNotMatch(net, /berth (bridges|internal_bridges) /, 'a wildcard never goes into a one-field set (libnftables 1.0.6 cannot delete it there)');
  assert.equal(routedEndElements('add', { name: 'rt0123ab4567890', internal: true }), [
    'add element ip berth bridges { "rt0123ab4567890" }',
    'add element ip berth internal_bridges { "rt0123ab4567890" }',
    'add element ip6 berth bridges { "rt0123ab4567890" }',
    'add element ip6 berth internal_bridges { "rt0123ab4567890" }',
  ].join('\n'));
  assert.equal(routedEndElements('add', { name: 'rt0123ab4567890', internal: false }, { ip6: false }), 'add element ip berth bridges { "rt0123ab4567890" }');
  assert.match(renderTable([routed], { routedEnds: [{ name: 'rt0123ab4567890', internal: true }] }), /^add element ip6 berth internal_bridges \{ "rt0123ab4567890" \}$/m);
  assert.throws(() => networkElements('add', { ...routed, bridge: 'rt"; flush ruleset*' }), /invalid/);
});
