import { InvalidParameterError, NotFoundError } from '../../util/errors.js';
import { familyOf } from '../../util/ip-family.js';
import type { Packet } from './nft-eval.js';
import { adviceFor } from './advice.js';
import { parseEnd, type End } from './target.js';
import { Walker, type Arrival, type Hop } from './walk.js';
import type { Iface, World } from './world.js';

// `berth explain SRC DST[:PORT[/tcp|udp]]`: the first packet of a flow from SRC to DST,
// walked through this host's routing and every nftables table, then its reply; the
// verdict, what decided it, and what to change when it is blocked.

export interface Explanation {
  source: string;
  destination: string;
  proto: 'tcp' | 'udp';
  port: number;
  verdict: 'reachable' | 'blocked';
  reason: string;
  /** the command (or change) that would make it reachable */
  fix?: string;
  hops: Hop[];
  /** the reply's way back (when the first packet arrived) */
  reply: Hop[];
  notes: string[];
}

/** A resolved end: who sends or receives, and from/at which address. */
export interface Party {
  end: End;
  label: string;
  ifaces: Iface[];
  addr?: string;
}

/** A client port for the explanation: the kernel picks one from ip_local_port_range; any will do. */
const CLIENT_PORT = 40000;

/** `family`: which of a container's addresses to send to (--ipv6: 6); by default IPv4 where there is one. */
export async function explain(world: World, srcText: string, dstText: string, family?: 4 | 6): Promise<Explanation> {
  const srcEnd = parseEnd(srcText, false);
  const dstEnd = parseEnd(dstText, true);
  const src = resolve(world, srcEnd);
  const dst = resolve(world, dstEnd);
  const notes: string[] = [];
  for (const p of [src, dst]) {
    const stopped = p.ifaces.find((i) => i.lastKnown);
    if (stopped) notes.push(`${stopped.container.name} is not running (${stopped.container.state.status}): explained from its last known configuration (${p.ifaces.map((i) => `${i.ifName || '?'} ${i.cidrs.join(' ')} on ${i.network.name}`).join('; ')})`);
  }
  const proto = dstEnd.proto ?? 'tcp';
  const port = dstEnd.port ?? exposedPort(dst);
  const daddr = await destinationAddress(world, src, dst, family);
  const fam = familyOf(daddr);
  const pkt: Packet = {
    family: fam, saddr: src.addr ?? '', daddr, proto, sport: CLIENT_PORT, dport: port, mark: 0,
    ct: { state: 'new', status: new Set(), direction: 'original' },
  };
  if (src.ifaces.length && !src.ifaces.some((i) => i.addresses.some((a) => familyOf(a) === fam))) {
    throw new InvalidParameterError(`${src.label} has no IPv${fam} address to reach ${daddr} from`);
  }
  const flow = {};
  const forward = new Walker(world, flow, false, !!src.addr && src.end.kind === 'host');
  const arrival = await send(forward, pkt, src);
  const out: Explanation = {
    source: src.label, destination: `${dst.label}${dst.end.kind === 'container' && !dst.addr ? ` (${daddr})` : ''}`, proto, port,
    verdict: 'reachable', reason: '', hops: forward.hops, reply: [], notes: [...notes, ...forward.notes],
  };
  if (arrival.at === 'blocked') {
    out.verdict = 'blocked';
    out.reason = arrival.block.reason;
    const fix = adviceFor(arrival.block, { src, dst, port, proto, daddr });
    if (fix) out.fix = fix;
    return out;
  }
  // the reply: from where the first packet arrived, back to the sender, with the flow's conntrack entry
  const back = new Walker(world, flow, true);
  const reply: Packet = {
    family: fam, saddr: pkt.daddr, daddr: pkt.saddr, proto, sport: pkt.dport, dport: pkt.sport, mark: 0,
    ct: { state: 'established', status: new Set(pkt.ct.status), direction: 'reply' },
  };
  const returned = await sendReply(back, reply, arrival);
  out.reply = back.hops;
  out.notes.push(...back.notes);
  if (returned?.at === 'blocked') {
    out.verdict = 'blocked';
    out.reason = `the reply: ${returned.block.reason}`;
    const fix = adviceFor(returned.block, { src, dst, port, proto, daddr });
    if (fix) out.fix = fix;
    return out;
  }
  out.reason = reachedReason(arrival, pkt);
  return out;
}

async function send(w: Walker, pkt: Packet, src: Party): Promise<Arrival> {
  if (src.ifaces.length) return w.fromContainer(pkt, src.ifaces, src.label);
  if (src.end.kind === 'host') return w.fromHost(pkt);
  // a LAN or internet host: its packet arrives by the interface the host routes it by
  const r = await w.hostRoute(pkt.saddr);
  if (!r.dev) throw new InvalidParameterError(`the host has no route to ${pkt.saddr}: ${src.label} cannot be on any of its networks`);
  return w.fromOutside(pkt, r.dev, src.label);
}

async function sendReply(w: Walker, reply: Packet, arrival: Arrival): Promise<Arrival | undefined> {
  if (arrival.at === 'container') return w.fromContainer(reply, [arrival.iface], arrival.iface.container.name);
  if (arrival.at === 'host') return w.fromHost(reply);
  if (arrival.at === 'outside') {
    w.hop(`back by ${arrival.dev}`, `from ${arrival.via ?? reply.saddr}`);
    return w.ipIn(reply, arrival.dev);
  }
  w.hop(`from host ${arrival.at === 'remote' ? arrival.host : ''}`, 'the reply comes back through the tunnel; that host sends it');
  return undefined;
}

function reachedReason(a: Exclude<Arrival, { at: 'blocked' }>, pkt: Packet): string {
  if (a.at === 'outside') return `it leaves the host by ${a.dev} with source ${pkt.saddr}; nothing on this host stops it (what lies beyond is not this host's to check)`;
  if (a.at === 'remote') return `tunnelled to host ${a.host}, where ${a.name} runs; this host does not stop it`;
  return `delivered to ${a.at === 'host' ? 'the host' : a.iface.container.name} on ${pkt.dport}/${pkt.proto}, and the reply comes back`;
}

function resolve(world: World, end: End): Party {
  if (end.kind !== 'container') {
    const label = end.addr ? `${end.kind} ${end.addr}` : end.kind;
    if (end.kind !== 'host' && end.addr && world.isHostAddress(end.addr)) throw new InvalidParameterError(`${end.addr} is an address of this host: say host:${end.addr}`);
    if (end.kind === 'host' && end.addr && !world.isHostAddress(end.addr)) throw new InvalidParameterError(`${end.addr} is not an address of this host`);
    return { end, label, ifaces: [], ...(end.addr ? { addr: end.addr } : {}) };
  }
  const c = world.state.tryFindContainer(end.name!);
  if (!c) {
    // a container of another host on an overlay network here
    const remote = world.remotes.find((r) => r.names.includes(end.name!));
    if (remote) return { end, label: `${end.name} (on host ${remote.vtep})`, ifaces: [], addr: remote.ip };
    throw new NotFoundError(`No such container: ${end.name}`);
  }
  const mode = c.hostConfig.networkMode;
  if (mode === 'host') return { end: { ...end, kind: 'host' }, label: `${c.name} (network mode host)`, ifaces: [] };
  let owner = c;
  if (mode.startsWith('container:')) {
    const other = world.state.tryFindContainer(mode.slice('container:'.length));
    if (!other) throw new InvalidParameterError(`${c.name} shares the network of a container that is gone (${mode})`);
    owner = other;
  }
  const ifaces = world.ifacesOf(owner);
  if (!ifaces.length) {
    throw new InvalidParameterError(mode === 'none'
      ? `${c.name} has network mode none: only its loopback, nothing reaches it or leaves it`
      : `${c.name} has no network interface yet (${c.state.status}, never started)`);
  }
  return { end, label: owner === c ? c.name : `${c.name} (network of ${owner.name})`, ifaces };
}

/** The address the packet is sent to: a container's (on a network it shares with the sender when there is one), the host's, … */
async function destinationAddress(world: World, src: Party, dst: Party, family: 4 | 6 | undefined): Promise<string> {
  if (dst.addr) {
    if (family && familyOf(dst.addr) !== family) throw new InvalidParameterError(`${dst.addr} is not an IPv${family} address`);
    return dst.addr;
  }
  const want = family ?? (src.ifaces.length > 0 && !src.ifaces.some((s) => s.addresses.some((a) => familyOf(a) === 4)) ? 6 : 4);
  if (dst.ifaces.length) {
    const shared = dst.ifaces.find((d) => src.ifaces.some((s) => s.network.id === d.network.id) && d.addresses.some((a) => familyOf(a) === want));
    const pick = shared ?? dst.ifaces.find((d) => d.addresses.some((a) => familyOf(a) === want));
    const addr = pick?.addresses.find((a) => familyOf(a) === want);
    if (!addr) {
      if (family) throw new InvalidParameterError(`${dst.label} has no IPv${family} address`);
      return dst.ifaces[0]!.addresses[0]!;
    }
    return addr;
  }
  // "host" without an address: from a container, its gateway (Docker's host-gateway); from the host, its loopback;
  // from a LAN or internet host, the host's address toward it
  if (src.ifaces.length) {
    const gw = src.ifaces.map((i) => i.network.ipamConfig.find((c) => c.gateway && familyOf(c.gateway) === want)?.gateway).find((g) => g);
    if (!gw) throw new InvalidParameterError(`${src.label} has no IPv${want} gateway to the host: say host:IP`);
    return gw;
  }
  if (src.end.kind === 'host') return want === 6 ? '::1' : '127.0.0.1';
  const r = await world.route(src.addr!);
  if (!r.prefsrc) throw new InvalidParameterError(`the host has no address toward ${src.addr}: say host:IP`);
  return r.prefsrc;
}

function exposedPort(dst: Party): number {
  const exposed = dst.ifaces[0]?.container.config.exposedPorts ?? [];
  const first = exposed.map((p) => Number(p.split('/')[0])).find((n) => n > 0);
  if (first === undefined) throw new InvalidParameterError(`which port? ${dst.label} exposes none: berth explain SRC ${dst.end.name ?? dst.end.kind}:PORT[/tcp|udp]`);
  return first;
}
