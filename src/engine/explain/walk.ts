import type { ChainRun, NatAction, Packet, RuleEvent } from './nft-eval.js';
import type { RouteLookup } from '../../kernel/types.js';
import { listenersOn, takes } from './listeners.js';
import { World, type Iface } from './world.js';

// The packet's way through this host, hook by hook, as the kernel takes it (see
// README "Why can A not reach B"): the sender's route; a bridge's hooks for a frame between
// two of its ports, and the ip hooks with them under br_netfilter (iif = oif = the bridge;
// a DNAT back onto the same bridge is re-bridged); a frame to the bridge's own address
// goes up to the host's routing; NAT chains run only on a flow's first packet and at
// most once per kind (destination at prerouting/output, source at postrouting/input); the
// reply runs with the flow's conntrack entry, which undoes the NAT. At every hook each
// base chain of every table (berth's and anyone else's) is evaluated in priority order.

export interface Hop {
  /** where the packet is: "c2 eth0", "ip prerouting (in br-…)", … */
  where: string;
  /** what happened there */
  decided: string;
  /** the nftables rules that matched there, in order, as the kernel's trace lists them */
  rules?: RuleEvent[];
}

export interface Block {
  reason: string;
  /** the kind of obstacle, for the advice */
  kind: 'rule' | 'policy' | 'route' | 'forwarding' | 'address' | 'listener' | 'stopped' | 'macvlan-parent';
  rule?: RuleEvent;
  chain?: ChainRun;
  /** the container the packet was for, or came from */
  iface?: Iface;
}

/** Where a packet ended: delivered to a socket on the host or in a container, left the host, or blocked. */
export type Arrival =
  | { at: 'host' }
  | { at: 'container'; iface: Iface }
  | { at: 'outside'; dev: string; via?: string }
  | { at: 'remote'; host: string; name: string }
  | { at: 'blocked'; block: Block };

/** What conntrack remembers of the flow: its NAT, undone on the reply. */
export interface Flow {
  dnat?: { fromAddr: string; fromPort: number };
  snat?: { fromAddr: string };
  /** the NAT kinds conntrack has bound for the flow (at its first nat hook of each kind, NAT or not) */
  bound?: { dst?: boolean; src?: boolean };
}

type HookFamily = 'ip' | 'ip6' | 'bridge';

export class Walker {
  readonly hops: Hop[] = [];
  readonly notes: string[] = [];

  /** `fixedSource`: the sender chose its source address (host:IP); else routing gives it */
  constructor(private readonly world: World, readonly flow: Flow, private readonly reply: boolean, private readonly fixedSource = false) {}

  private fam(p: Packet): 'ip' | 'ip6' {
    return p.family === 4 ? 'ip' : 'ip6';
  }

  hostRoute(ip: string): Promise<RouteLookup> {
    return this.world.route(ip);
  }

  hop(where: string, decided: string, rules?: RuleEvent[]): void {
    this.hops.push({ where, decided, ...(rules && rules.length ? { rules } : {}) });
  }

  /**
   * Runs every base chain of one hook. NAT chains run for a new flow only, until one
   * binds; on the reply the flow's NAT is undone where conntrack does it (destination
   * at NF_IP_PRI_NAT_DST -100, source at NF_IP_PRI_NAT_SRC 100). A drop ends the walk.
   */
  async hook(family: HookFamily, hook: string, pkt: Packet, label: string): Promise<Block | undefined> {
    const chains = this.world.ruleset.chainsAt(family, hook);
    const dstHook = hook === 'prerouting' || hook === 'output';
    const natPrio = dstHook ? -100 : 100;
    const undoPending = this.reply && family !== 'bridge' && (dstHook ? !!this.flow.snat : !!this.flow.dnat) && hook !== 'forward';
    let undone = false;
    const rules: RuleEvent[] = [];
    const said: string[] = [];
    const undo = () => {
      if (!undoPending || undone) return;
      undone = true;
      if (dstHook && this.flow.snat) {
        said.push(`conntrack undoes the source NAT: to ${this.flow.snat.fromAddr}`);
        pkt.daddr = this.flow.snat.fromAddr;
      } else if (!dstHook && this.flow.dnat) {
        said.push(`conntrack undoes the DNAT: from ${this.flow.dnat.fromAddr}:${this.flow.dnat.fromPort}`);
        pkt.saddr = this.flow.dnat.fromAddr;
        pkt.sport = this.flow.dnat.fromPort;
      }
    };
    // the kind of NAT this hook binds; once bound (a null binding included) conntrack never asks again
    const manip = dstHook ? 'dst' : hook === 'postrouting' || hook === 'input' ? 'src' : undefined;
    let natBound = false;
    for (const chain of chains) {
      if (chain.prio >= natPrio) undo();
      if (chain.type === 'nat' && (this.reply || !manip || natBound || this.flow.bound?.[manip])) continue;
      const run = await this.world.ruleset.run(chain, pkt, this.world.facts);
      rules.push(...run.events);
      for (const u of run.unknown) this.notes.push(`could not evaluate ${u}: taken as not matching`);
      const name = `${chain.family} ${chain.table} ${chain.name}`;
      if (run.verdict === 'drop') {
        const by = run.decidedBy;
        said.push(by ? `dropped by ${name}: ${by.comment ?? by.text ?? `rule ${by.handle}`}` : `dropped by the policy of ${name}`);
        this.hop(label, said.join('; '), rules);
        return { kind: by ? 'rule' : 'policy', reason: by ? ruleName(by) : `the drop policy of ${name}`, ...(by ? { rule: by } : {}), chain: run };
      }
      if (run.nat) {
        natBound = true;
        said.push(await this.applyNat(run.nat, pkt, run));
      } else if (run.decidedBy && run.decidedBy.table !== 'berth') {
        said.push(`accepted by ${name}: ${run.decidedBy.comment ?? run.decidedBy.text ?? `rule ${run.decidedBy.handle}`}`);
      } else if (run.decidedBy) {
        said.push(`${run.decidedBy.comment ?? 'accepted'} (${name})`);
      }
    }
    undo();
    if (manip && family !== 'bridge' && !this.reply && chains.some((c) => c.type === 'nat')) this.flow.bound = { ...this.flow.bound, [manip]: true };
    if (chains.length || said.length) this.hop(label, said.length ? said.join('; ') : 'no rule stops it', rules);
    return undefined;
  }

  private async applyNat(nat: NatAction, pkt: Packet, run: ChainRun): Promise<string> {
    const by = run.decidedBy?.comment ? ` (${run.decidedBy.comment})` : '';
    if (nat.kind === 'dnat') {
      this.flow.dnat = { fromAddr: pkt.daddr, fromPort: pkt.dport };
      pkt.daddr = nat.addr;
      if (nat.port !== undefined) pkt.dport = nat.port;
      pkt.ct.status.add('dnat');
      return `DNAT to ${hostPort(pkt.daddr, pkt.dport)}${by}`;
    }
    const to = nat.kind === 'snat' ? nat.addr : (await this.world.route(pkt.daddr)).prefsrc ?? pkt.saddr;
    this.flow.snat = { fromAddr: pkt.saddr };
    pkt.saddr = to;
    pkt.ct.status.add('snat');
    return `${nat.kind === 'masquerade' ? 'masquerade' : 'SNAT'}: source becomes ${to}${by}`;
  }

  /** A packet a container sends, from its netns. */
  async fromContainer(pkt: Packet, sender: Iface[], label: string): Promise<Arrival> {
    const first = sender[0]!;
    const netns = first.lastKnown ? undefined : first.container.sandboxKey;
    let out: Iface | undefined;
    let via: string | undefined;
    if (netns) {
      const r = await this.world.route(pkt.daddr, netns);
      if (r.type === 'local') {
        this.hop(`${label}`, `${pkt.daddr} is its own address: delivered over its loopback, no host hook sees it`);
        return { at: 'container', iface: sender.find((i) => i.addresses.includes(pkt.daddr)) ?? first };
      }
      out = sender.find((i) => i.ifName === r.dev);
      via = r.gateway;
      if (!out) {
        const internal = sender.every((i) => i.network.internal) ? `: its networks (${sender.map((i) => i.network.name).join(', ')}) are --internal, with no gateway and no way out` : '';
        return this.blocked(label, { kind: 'route', iface: first, reason: `${label} has no route to ${pkt.daddr}${internal}` });
      }
      if (!this.reply && r.prefsrc && !this.fixedSource) pkt.saddr = r.prefsrc;
    } else {
      // a stopped container: its last known interfaces, on-link first, else its first network's gateway
      out = sender.find((i) => World.onLink(i.cidrs, pkt.daddr)) ?? sender.find((i) => gatewayOf(i, pkt.family));
      via = out && !World.onLink(out.cidrs, pkt.daddr) ? gatewayOf(out, pkt.family) : undefined;
      if (!out) return this.blocked(label, { kind: 'route', reason: `${label} had no route to ${pkt.daddr}` });
    }
    const src = out.addresses.find((a) => (a.includes(':') ? 6 : 4) === pkt.family);
    if (!this.reply && !netns && src) pkt.saddr = src;
    this.hop(`${label} ${out.ifName}`, `route to ${pkt.daddr}: ${via ? `via ${via}` : 'on-link'} dev ${out.ifName}, source ${pkt.saddr}`);
    return this.fromLink(pkt, out, via ?? pkt.daddr);
  }

  /** A frame leaving a container's interface toward next hop `neighbour`. */
  private async fromLink(pkt: Packet, out: Iface, neighbour: string): Promise<Arrival> {
    const driver = out.network.driver;
    const netName = out.network.name;
    if (driver === 'macvlan') {
      const where = `macvlan on ${out.parent ?? '?'} (network ${netName})`;
      const peer = this.world.ifaceWithAddress(neighbour);
      if (peer && peer.network.id === out.network.id) {
        this.hop(where, `switched inside the kernel to ${peer.container.name} ${peer.ifName}: no host firewall hook sees macvlan-to-macvlan frames`);
        return this.inside(pkt, peer);
      }
      if (this.world.isHostAddress(neighbour)) {
        const shim = this.world.macvlanShim(out.network);
        const own = shim && this.world.hostAddresses.get(neighbour) === shim;
        if (shim && (own || (pkt.family === 4 && (await this.world.answersArpForAll(shim))))) {
          this.hop(where, `to the host's own macvlan ${shim} (berth.host_access), a sibling on the same parent${own ? '' : ` that answers ARP for every address of the host (arp_ignore=0)`}`);
          return this.ipIn(pkt, shim);
        }
        return this.blocked(where, { kind: 'macvlan-parent', iface: out, reason: `the kernel never passes frames between a macvlan and its parent ${out.parent ?? ''}: the host's ${neighbour} is out of reach over ${netName}` });
      }
      this.hop(where, `leaves by ${out.parent ?? 'the parent'} onto its LAN toward ${neighbour}; this host's IP stack and firewall do not see it`);
      return { at: 'outside', dev: out.parent ?? '', via: neighbour };
    }
    if (driver === 'ptp') {
      const peer = this.world.ifaces.find((i) => i.network.id === out.network.id && i.container.id !== out.container.id);
      if (!peer || !peer.addresses.includes(neighbour)) {
        return this.blocked(`ptp link (network ${netName})`, { kind: 'address', reason: `the other end of ${netName}${peer ? ` (${peer.container.name})` : ''} does not have the address ${neighbour}` });
      }
      this.hop(`ptp link (network ${netName})`, `a veth pair straight into ${peer.container.name} ${peer.ifName}: no host hook sees it`);
      return this.inside(pkt, peer);
    }
    if (out.routedPrefix && out.hostLink) {
      // a routed network: the host end is the container's gateway, the host routes from there
      this.hop(`${out.ifName} → ${out.hostLink} (routed network ${netName})`, `up into the host's IP stack (next hop ${neighbour}, the gateway on the host end)`);
      return this.ipPrerouting(pkt, out.hostLink);
    }
    if (!out.device) {
      this.hop(`${out.ifName} (network ${netName}, driver ${driver})`, `its datapath is the ${driver} driver's: not explained past ${out.container.name}`);
      this.notes.push(`network ${netName} (driver ${driver}): berth cannot see its datapath beyond the container's interface`);
      return { at: 'outside', dev: out.ifName, via: neighbour };
    }
    const bridge = out.device;
    const inPort = out.hostLink || `(veth of ${out.container.name})`;
    this.hop(`${out.ifName} → ${inPort} → bridge ${bridge} (network ${netName})`, `frame for ${neighbour}`);
    if (this.world.isHostAddress(neighbour)) return this.toBridgeHost(pkt, bridge, inPort);
    const peer = this.world.ifaceWithAddress(neighbour);
    if (peer && peer.device === bridge) return this.bridged(pkt, bridge, inPort, peer);
    const remote = this.world.remoteWithAddress(neighbour);
    if (remote && out.vxlan) {
      const dropped = await this.hookedBridging(pkt, bridge, inPort, out.vxlan);
      if (dropped) return dropped;
      this.hop(`VXLAN ${out.vxlan}`, `tunnelled to host ${remote.vtep}, where ${remote.names[0] ?? remote.ip} runs; that host's firewall decides there`);
      return { at: 'remote', host: remote.vtep, name: remote.names[0] ?? remote.ip };
    }
    if (remote) {
      this.hop(`bridge ${bridge}`, `${remote.names[0] ?? remote.ip} runs on host ${remote.vtep}: the host routes to it over the underlay (overlay routing=direct); that host's firewall decides there`);
      this.notes.push('the hooks of a routed overlay hop are not walked here: berth explain on the other host shows its side');
      return { at: 'remote', host: remote.vtep, name: remote.names[0] ?? remote.ip };
    }
    return this.blocked(`bridge ${bridge}`, { kind: 'address', reason: `no container on network ${netName} has the address ${neighbour} (nothing answers ARP/ND for it)` });
  }

  /** The bridge hooks (and br_netfilter's ip hooks) of a frame between two ports; the blocked arrival when one drops it. */
  private async hookedBridging(pkt: Packet, bridge: string, inPort: string, outPort: string, skipPrerouting = false): Promise<Arrival | undefined> {
    const nf = this.world.brNetfilter[pkt.family];
    const f = this.fam(pkt);
    const steps: [HookFamily, string, string | undefined, string | undefined, string, boolean][] = [
      ['bridge', 'prerouting', inPort, undefined, `bridge prerouting (in ${inPort})`, !skipPrerouting],
      ['bridge', 'forward', inPort, outPort, `bridge forward (${inPort} → ${outPort})`, true],
      [f, 'forward', bridge, bridge, `${f} forward (br_netfilter: ${bridge} → ${bridge})`, nf],
      ['bridge', 'postrouting', undefined, outPort, `bridge postrouting (out ${outPort})`, true],
      [f, 'postrouting', undefined, bridge, `${f} postrouting (br_netfilter: out ${bridge})`, nf],
    ];
    for (const [family, hook, iif, oif, label, runs] of steps) {
      if (!runs) continue;
      Object.assign(pkt, { iif, oif });
      const b = await this.hook(family, hook, pkt, label);
      if (b) return { at: 'blocked', block: b };
    }
    return undefined;
  }

  /**
   * A frame entering a bridge by inPort: the bridge's prerouting, and under br_netfilter the
   * ip prerouting with it (iif = the bridge). Decided (undefined to go on) when it is dropped
   * there or a DNAT sent it elsewhere.
   */
  private async bridgeIngress(pkt: Packet, bridge: string, inPort: string): Promise<Arrival | undefined> {
    Object.assign(pkt, { iif: inPort, oif: undefined });
    const pre = await this.hook('bridge', 'prerouting', pkt, `bridge prerouting (in ${inPort})`);
    if (pre) return { at: 'blocked', block: pre };
    if (!this.world.brNetfilter[pkt.family]) return undefined;
    const before = pkt.daddr;
    Object.assign(pkt, { iif: bridge, oif: undefined });
    const b = await this.hook(this.fam(pkt), 'prerouting', pkt, `${this.fam(pkt)} prerouting (br_netfilter: in ${bridge})`);
    if (b) return { at: 'blocked', block: b };
    return pkt.daddr !== before ? this.afterBridgeDnat(pkt, bridge, inPort) : undefined;
  }

  /** A frame from one port of a bridge to another (same network). */
  private async bridged(pkt: Packet, bridge: string, inPort: string, peer: Iface): Promise<Arrival> {
    const decided = await this.bridgeIngress(pkt, bridge, inPort);
    if (decided) return decided;
    const outPort = peer.hostLink || `(veth of ${peer.container.name})`;
    return (await this.hookedBridging(pkt, bridge, inPort, outPort, true)) ?? this.inside(pkt, peer);
  }

  /** br_netfilter changed the destination at the bridge's prerouting: re-bridged when it stays on this bridge, else routed. */
  private async afterBridgeDnat(pkt: Packet, bridge: string, inPort: string): Promise<Arrival> {
    const r = await this.world.route(pkt.daddr);
    const peer = this.world.ifaceWithAddress(pkt.daddr);
    if (r.dev === bridge && peer && peer.device === bridge) {
      this.hop(`bridge ${bridge}`, `the new destination ${pkt.daddr} is on the same bridge: re-bridged (br_netfilter), not routed`);
      const outPort = peer.hostLink || `(veth of ${peer.container.name})`;
      return (await this.hookedBridging(pkt, bridge, inPort, outPort, true)) ?? this.inside(pkt, peer);
    }
    Object.assign(pkt, { iif: inPort, oif: undefined });
    const input = await this.hook('bridge', 'input', pkt, `bridge input (in ${inPort})`);
    if (input) return { at: 'blocked', block: input };
    return this.route(pkt, bridge);
  }

  /** A frame to the bridge's own address: up into the host's IP stack, iif = the bridge. */
  private async toBridgeHost(pkt: Packet, bridge: string, inPort: string): Promise<Arrival> {
    const nf = this.world.brNetfilter[pkt.family];
    const decided = await this.bridgeIngress(pkt, bridge, inPort);
    if (decided) return decided;
    Object.assign(pkt, { iif: inPort, oif: undefined });
    const input = await this.hook('bridge', 'input', pkt, `bridge input (in ${inPort})`);
    if (input) return { at: 'blocked', block: input };
    return nf ? this.route(pkt, bridge) : this.ipPrerouting(pkt, bridge);
  }

  /** A LAN or internet host's packet: straight to a macvlan container on the LAN, else into this host by iif. */
  async fromOutside(pkt: Packet, iif: string, label: string): Promise<Arrival> {
    const peer = this.world.ifaceWithAddress(pkt.daddr);
    if (peer?.network.driver === 'macvlan') {
      this.hop(label, `on ${peer.parent}'s LAN the frame goes straight to ${peer.container.name}'s macvlan: this host's IP stack and firewall do not see it`);
      return this.inside(pkt, peer);
    }
    this.hop(label, `its packet arrives on ${iif}`);
    return this.ipIn(pkt, iif);
  }

  /** A packet arriving in the host on iif from outside (a frame on a bridge of the host, a LAN bridge, meets the bridge's hooks first). */
  async ipIn(pkt: Packet, iif: string): Promise<Arrival> {
    if (this.world.bridges.has(iif)) return this.toBridgeHost(pkt, iif, `(a port of ${iif})`);
    return this.ipPrerouting(pkt, iif);
  }

  private async ipPrerouting(pkt: Packet, iif: string): Promise<Arrival> {
    Object.assign(pkt, { iif, oif: undefined });
    const b = await this.hook(this.fam(pkt), 'prerouting', pkt, `${this.fam(pkt)} prerouting (in ${iif})`);
    if (b) return { at: 'blocked', block: b };
    return this.route(pkt, iif);
  }

  /** The host's routing decision for a packet that came in on iif, and what follows it. */
  private async route(pkt: Packet, iif: string): Promise<Arrival> {
    const f = this.fam(pkt);
    const r = await this.world.route(pkt.daddr);
    if (r.type === 'local' || this.world.isHostAddress(pkt.daddr)) {
      this.hop('host routing', `${pkt.daddr} is an address of the host: local delivery`);
      Object.assign(pkt, { iif, oif: undefined });
      const b = await this.hook(f, 'input', pkt, `${f} input (in ${iif})`);
      if (b) return { at: 'blocked', block: b };
      return this.onHost(pkt);
    }
    if (r.type !== 'unicast' || !r.dev) return this.blocked('host routing', { kind: 'route', reason: `the host has no route to ${pkt.daddr}` });
    this.hop('host routing', `to ${pkt.daddr}: ${r.gateway ? `via ${r.gateway} ` : ''}dev ${r.dev} (forwarded)`);
    if (!this.world.forwarding[pkt.family]) {
      const key = pkt.family === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding';
      return this.blocked('host routing', { kind: 'forwarding', reason: `the host does not forward ${pkt.family === 4 ? 'IPv4' : 'IPv6'} (${key}=0)` });
    }
    Object.assign(pkt, { iif, oif: r.dev });
    const fwd = await this.hook(f, 'forward', pkt, `${f} forward (${iif} → ${r.dev})`);
    if (fwd) return { at: 'blocked', block: fwd };
    return this.postroute(pkt, r.dev, r.gateway);
  }

  private async postroute(pkt: Packet, dev: string, gateway: string | undefined, iif?: string): Promise<Arrival> {
    const f = this.fam(pkt);
    Object.assign(pkt, { iif, oif: dev });
    const post = await this.hook(f, 'postrouting', pkt, `${f} postrouting (out ${dev})`);
    if (post) return { at: 'blocked', block: post };
    return this.egress(pkt, dev, gateway ?? pkt.daddr);
  }

  /** The packet leaves the host's IP stack by dev toward neighbour. */
  private async egress(pkt: Packet, dev: string, neighbour: string): Promise<Arrival> {
    const peer = this.world.ifaceWithAddress(neighbour);
    if (peer?.network.driver === 'macvlan') {
      if (dev === this.world.macvlanShim(peer.network)) {
        this.hop(`${dev} → ${peer.container.name} ${peer.ifName}`, `the host's own macvlan (berth.host_access) reaches its sibling on ${peer.parent}`);
        return this.inside(pkt, peer);
      }
      if (dev === peer.parent) {
        return this.blocked(`leaves by ${dev}`, { kind: 'macvlan-parent', iface: peer, reason: `the kernel never passes frames between a parent and its macvlans: the host cannot reach ${peer.container.name} over ${dev}` });
      }
    }
    if (peer && peer.hostLink === dev && !peer.device) {
      this.hop(`${dev} → ${peer.container.name} ${peer.ifName}`, `the host end of ${peer.container.name}'s link (${peer.network.driver})`);
      return this.inside(pkt, peer);
    }
    if (this.world.bridges.has(dev)) {
      const net = this.world.networkOfDevice(dev);
      const onBridge = peer && peer.device === dev ? peer : undefined;
      const remote = this.world.remoteWithAddress(neighbour);
      const outPort = onBridge ? onBridge.hostLink || `(veth of ${onBridge.container.name})` : remote ? this.vxlanOf(dev) : undefined;
      if (!outPort) {
        if (net) return this.blocked(`bridge ${dev}`, { kind: 'address', reason: `no container on network ${net.name} has the address ${neighbour} (nothing answers ARP/ND for it)` });
        this.hop(`bridge ${dev}`, `leaves the host onto ${dev} toward ${neighbour}; beyond the host is not explained`);
        return { at: 'outside', dev, via: neighbour };
      }
      Object.assign(pkt, { iif: undefined, oif: outPort });
      const o = await this.hook('bridge', 'output', pkt, `bridge output (out ${outPort})`);
      if (o) return { at: 'blocked', block: o };
      const p = await this.hook('bridge', 'postrouting', pkt, `bridge postrouting (out ${outPort})`);
      if (p) return { at: 'blocked', block: p };
      if (onBridge) return this.inside(pkt, onBridge);
      this.hop(`VXLAN ${outPort}`, `tunnelled to host ${remote!.vtep}, where ${remote!.names[0] ?? remote!.ip} runs; that host's firewall decides there`);
      return { at: 'remote', host: remote!.vtep, name: remote!.names[0] ?? remote!.ip };
    }
    this.hop(`leaves the host by ${dev}`, `toward ${neighbour}${neighbour !== pkt.daddr ? ` (next hop for ${pkt.daddr})` : ''}, source ${pkt.saddr}; what lies beyond ${dev} is not this host's to check`);
    return { at: 'outside', dev, via: neighbour };
  }

  private vxlanOf(bridge: string): string | undefined {
    return this.world.ifaces.find((i) => i.device === bridge && i.vxlan)?.vxlan;
  }

  /** A packet the host itself sends (a host process), to pkt.daddr. */
  async fromHost(pkt: Packet): Promise<Arrival> {
    const f = this.fam(pkt);
    let r = await this.world.route(pkt.daddr);
    const local = () => r.type === 'local' || this.world.isHostAddress(pkt.daddr);
    if (!local() && (r.type !== 'unicast' || !r.dev)) return this.blocked('host routing', { kind: 'route', reason: `the host has no route to ${pkt.daddr}` });
    // the kernel's choice (for a local destination: that address itself, 127.0.0.1 for 127.0.0.1)
    if (!this.reply && !this.fixedSource) pkt.saddr = r.prefsrc ?? (local() ? pkt.daddr : pkt.saddr);
    this.hop('host', `route to ${pkt.daddr}: ${local() ? 'local, over lo' : `${r.gateway ? `via ${r.gateway} ` : ''}dev ${r.dev}`}, source ${pkt.saddr}`);
    Object.assign(pkt, { iif: undefined, oif: local() ? 'lo' : r.dev });
    const before = pkt.daddr;
    const out = await this.hook(f, 'output', pkt, `${f} output (out ${pkt.oif})`);
    if (out) return { at: 'blocked', block: out };
    if (pkt.daddr !== before) {
      r = await this.world.route(pkt.daddr);
      this.hop('host routing', `re-routed after the DNAT: to ${pkt.daddr} ${local() ? 'locally' : `dev ${r.dev}`}`);
    }
    if (local()) {
      Object.assign(pkt, { iif: undefined, oif: 'lo' });
      const post = await this.hook(f, 'postrouting', pkt, `${f} postrouting (out lo)`);
      if (post) return { at: 'blocked', block: post };
      Object.assign(pkt, { iif: 'lo', oif: undefined });
      const pre = await this.hook(f, 'prerouting', pkt, `${f} prerouting (in lo)`);
      if (pre) return { at: 'blocked', block: pre };
      const inp = await this.hook(f, 'input', pkt, `${f} input (in lo)`);
      if (inp) return { at: 'blocked', block: inp };
      return this.onHost(pkt);
    }
    if (!r.dev) return this.blocked('host routing', { kind: 'route', reason: `the host has no route to ${pkt.daddr}` });
    return this.postroute(pkt, r.dev, r.gateway);
  }

  /** Arrived at the host's own socket layer. */
  private async onHost(pkt: Packet): Promise<Arrival> {
    if (this.reply) {
      this.hop('host', 'delivered to the sending socket');
      return { at: 'host' };
    }
    const ls = await listenersOn('self', pkt.proto, pkt.dport);
    if (!takes(ls, pkt.daddr)) {
      const bound = ls.map((l) => `${l.addr}:${l.port}`).join(', ');
      return this.blocked('host', { kind: 'listener', reason: `nothing on the host listens on ${hostPort(pkt.daddr, pkt.dport)}/${pkt.proto}${bound ? ` (only on ${bound})` : ''}` });
    }
    const relayed = pkt.daddr === '::1' ? this.world.relayFor(pkt.proto, pkt.dport) : undefined;
    if (relayed) {
      this.hop('host', `delivered to berthd's relay on [::1]:${pkt.dport}, which connects to ${hostPort(relayed.containerIp, relayed.containerPort)} in ${relayed.container} (the kernel cannot NAT ::1 into a container)`);
      this.notes.push(`the relay's own connection to ${relayed.container} is a flow of the host's: berth explain host ${relayed.container}:${relayed.containerPort}${pkt.proto === 'udp' ? '/udp' : ''} --ipv6`);
      return { at: 'host' };
    }
    this.hop('host', `delivered to a socket listening on ${pkt.dport}/${pkt.proto}`);
    return { at: 'host' };
  }

  /** Arrived in a container's netns. */
  private async inside(pkt: Packet, iface: Iface): Promise<Arrival> {
    const c = iface.container;
    if (this.reply) {
      this.hop(`${c.name} ${iface.ifName}`, 'delivered to the sending socket');
      return { at: 'container', iface };
    }
    if (iface.lastKnown || c.state.status !== 'running') {
      return this.blocked(`${c.name} ${iface.ifName || ''}`.trim(), { kind: 'stopped', iface, reason: `${c.name} is not running (${c.state.status})` });
    }
    if (!c.state.pid) {
      this.hop(`${c.name} ${iface.ifName}`, `arrives on ${iface.ifName}; its listening sockets are its runtime's to tell`);
      return { at: 'container', iface };
    }
    const ls = await listenersOn(c.state.pid, pkt.proto, pkt.dport);
    if (!takes(ls, pkt.daddr)) {
      const bound = ls.map((l) => `${l.addr}:${l.port}`).join(', ');
      const answer = pkt.proto === 'tcp' ? 'the connection is refused' : 'an ICMP port unreachable comes back';
      return this.blocked(`${c.name} ${iface.ifName}`, { kind: 'listener', iface, reason: `nothing in ${c.name} listens on ${hostPort(pkt.daddr, pkt.dport)}/${pkt.proto}${bound ? ` (only on ${bound})` : ''}: ${answer}` });
    }
    this.hop(`${c.name} ${iface.ifName}`, `delivered to a socket listening on ${pkt.dport}/${pkt.proto}`);
    return { at: 'container', iface };
  }

  private blocked(where: string, block: Block): Arrival {
    this.hop(where, `stops: ${block.reason}`);
    return { at: 'blocked', block };
  }
}

/** The rule, for the verdict line: its comment (berth's rules carry one), else table/chain and its text. */
export function ruleName(r: RuleEvent): string {
  const where = `${r.family} ${r.table} ${r.chain}`;
  return r.comment ? `${r.comment} (${where})` : `${where}: ${r.text ?? `rule handle ${r.handle}`}`;
}

function hostPort(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function gatewayOf(i: Iface, family: 4 | 6): string | undefined {
  return i.network.ipamConfig.find((c) => c.gateway && (c.gateway.includes(':') ? 6 : 4) === family)?.gateway;
}
