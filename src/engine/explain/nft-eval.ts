import { tryParseIPv4 } from '../../util/ip.js';
import { tryParseIPv6 } from '../../util/ip6.js';

// An evaluator of the kernel's live nftables ruleset (`nft -j list ruleset`) for one
// packet: which base chains a hook runs, in priority order, and what each rule of theirs
// does to the packet, with the same notion of "a rule matched" as `nft monitor trace`
// (a rule whose every match held; its verdict, or "continue"). Hand-written because no
// library evaluates nftables rules outside the kernel; it covers the expressions berth's
// tables and common host firewalls use, and names any other one it meets instead of
// guessing (the rule is then taken as not matching, and the explanation says so).

/** The parts of a packet, and of its conntrack entry, that rules look at. */
export interface Packet {
  family: 4 | 6;
  saddr: string;
  daddr: string;
  proto: 'tcp' | 'udp';
  sport: number;
  dport: number;
  /** input and output interface (on a bridge hook: the bridge ports) */
  iif?: string;
  oif?: string;
  mark: number;
  ct: { state: 'new' | 'established'; status: Set<'dnat' | 'snat'>; direction: 'original' | 'reply' };
}

/** What a rule may ask the kernel's routing about (fib expressions). */
export interface RouteFacts {
  /** `fib daddr type`: 'local', 'unicast', 'broadcast', … */
  addressType(addr: string): Promise<string>;
  /** `fib saddr . iif oif exists`: the route back to saddr leaves by iif */
  reversePathOk(saddr: string, iif: string): Promise<boolean>;
}

export type NatAction =
  | { kind: 'dnat'; addr: string; port?: number }
  | { kind: 'snat'; addr: string; port?: number }
  | { kind: 'masquerade' };

/** One rule that matched, as `nft monitor trace` reports it. */
export interface RuleEvent {
  family: string;
  table: string;
  chain: string;
  handle: number;
  /** the rule as `nft list ruleset` prints it (when the listing was given) */
  text?: string;
  comment?: string;
  /** accept, drop, continue, jump, goto, return */
  verdict: string;
  target?: string;
  nat?: NatAction;
}

export interface ChainRun {
  family: string;
  table: string;
  chain: string;
  type: string;
  prio: number;
  /** 'accept' also when the chain ended at an accept policy */
  verdict: 'accept' | 'drop';
  /** the rule that decided, absent when the policy did */
  decidedBy?: RuleEvent;
  events: RuleEvent[];
  nat?: NatAction;
  /** expressions this evaluator could not judge (their rules were taken as not matching) */
  unknown: string[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

interface SetDef {
  family: string;
  table: string;
  name: string;
  elem: Json[];
  isMap: boolean;
}

export interface BaseChain {
  family: string;
  table: string;
  name: string;
  type: string;
  hook: string;
  prio: number;
  policy: string;
}

interface RuleDef {
  family: string;
  table: string;
  chain: string;
  handle: number;
  comment?: string;
  expr: Obj[];
}

/** Thrown inside a rule's evaluation: an expression this evaluator does not know. */
class Unjudged extends Error {}

/** The hook families a packet of one family meets: ip/ip6 hooks run ip|ip6 and inet tables. */
function familiesAt(where: 'ip' | 'ip6' | 'bridge'): string[] {
  return where === 'bridge' ? ['bridge'] : [where, 'inet'];
}

export class Ruleset {
  private readonly sets = new Map<string, SetDef>();
  private readonly chains: BaseChain[] = [];
  private readonly rules = new Map<string, RuleDef[]>();
  /** family table handle → the rule's text from `nft -a list ruleset` */
  private readonly texts = new Map<string, string>();

  /** `json`: `nft -j list ruleset`; `listing`: `nft -a list ruleset` (rule texts, optional) */
  constructor(json: string, listing = '') {
    const items = (JSON.parse(json) as { nftables: Obj[] }).nftables;
    for (const item of items) {
      const [kind, body] = Object.entries(item)[0] as [string, Obj];
      if (kind === 'set' || kind === 'map') {
        const s = body as unknown as SetDef & { elem?: Json[] };
        this.sets.set(key(s.family, s.table, s.name), { family: s.family, table: s.table, name: s.name, elem: s.elem ?? [], isMap: kind === 'map' });
      } else if (kind === 'chain') {
        const c = body as unknown as BaseChain & { hook?: string };
        if (c.hook) this.chains.push({ family: c.family, table: c.table, name: c.name, type: c.type, hook: c.hook, prio: c.prio, policy: c.policy ?? 'accept' });
      } else if (kind === 'rule') {
        const r = body as unknown as RuleDef;
        const k = key(r.family, r.table, r.chain);
        if (!this.rules.has(k)) this.rules.set(k, []);
        this.rules.get(k)!.push({ family: r.family, table: r.table, chain: r.chain, handle: r.handle, comment: r.comment, expr: r.expr });
      }
    }
    this.readListing(listing);
  }

  /** The base chains a packet meets at `hook` of `where`, in the order the kernel runs them. */
  chainsAt(where: 'ip' | 'ip6' | 'bridge', hook: string): BaseChain[] {
    const families = familiesAt(where);
    return this.chains.filter((c) => c.hook === hook && families.includes(c.family)).sort((a, b) => a.prio - b.prio);
  }

  /** Runs one base chain (and the chains it jumps to) on the packet; meta mark changes are applied to it. */
  async run(chain: BaseChain, pkt: Packet, facts: RouteFacts): Promise<ChainRun> {
    const out: ChainRun = { family: chain.family, table: chain.table, chain: chain.name, type: chain.type, prio: chain.prio, verdict: 'accept', events: [], unknown: [] };
    const verdict = await this.runChain(chain.family, chain.table, chain.name, pkt, facts, out, 0);
    if (verdict?.verdict === 'drop') {
      out.verdict = 'drop';
      out.decidedBy = verdict;
    } else if (verdict?.verdict === 'accept') {
      out.decidedBy = verdict;
    } else if (chain.policy === 'drop') {
      out.verdict = 'drop';
    }
    return out;
  }

  /** The terminal event of the chain (accept/drop), or undefined when it ran to its end or returned. */
  private async runChain(family: string, table: string, name: string, pkt: Packet, facts: RouteFacts, out: ChainRun, depth: number): Promise<RuleEvent | undefined> {
    if (depth > 16) throw new Error(`nftables: jumps nested deeper than 16 from ${family} ${table} ${name}`);
    for (const rule of this.rules.get(key(family, table, name)) ?? []) {
      let event: RuleEvent | undefined;
      try {
        event = await this.runRule(rule, pkt, facts);
      } catch (e) {
        if (!(e instanceof Unjudged)) throw e;
        out.unknown.push(`${family} ${table} ${name} handle ${rule.handle}: ${e.message}`);
        continue;
      }
      if (!event) continue;
      out.events.push(event);
      if (event.nat) out.nat = event.nat;
      if (event.verdict === 'accept' || event.verdict === 'drop') return event;
      if (event.verdict === 'return') return undefined;
      if (event.verdict === 'jump' || event.verdict === 'goto') {
        const end = await this.runChain(family, table, event.target!, pkt, facts, out, depth + 1);
        if (end) return end;
        if (event.verdict === 'goto') return undefined;
      }
    }
    return undefined;
  }

  /** The rule's event when every match held, undefined when one did not. */
  private async runRule(rule: RuleDef, pkt: Packet, facts: RouteFacts): Promise<RuleEvent | undefined> {
    const ctx: Ctx = { pkt, facts, rule, ruleset: this };
    const event: RuleEvent = { family: rule.family, table: rule.table, chain: rule.chain, handle: rule.handle, comment: rule.comment, verdict: 'continue' };
    const text = this.texts.get(key(rule.family, rule.table, String(rule.handle)));
    if (text !== undefined) event.text = text;
    let newMark: number | undefined;
    for (const e of rule.expr) {
      const [kind, body] = Object.entries(e)[0] as [string, Json];
      switch (kind) {
        case 'match': {
          if (!(await matches(body as Obj, ctx))) return undefined;
          break;
        }
        case 'accept': case 'drop': case 'return':
          event.verdict = kind;
          return done(event, pkt, newMark);
        case 'reject':
          event.verdict = 'drop';
          return done(event, pkt, newMark);
        case 'jump': case 'goto':
          event.verdict = kind;
          event.target = String((body as Obj).target);
          return done(event, pkt, newMark);
        case 'dnat': case 'snat': case 'redirect': {
          const nat = await natTarget(kind, body as Obj, ctx);
          if (!nat) return undefined; // a map without the key: the rule does not match (NFT_BREAK)
          event.nat = nat;
          event.verdict = 'accept';
          return done(event, pkt, newMark);
        }
        case 'masquerade':
          event.nat = { kind: 'masquerade' };
          event.verdict = 'accept';
          return done(event, pkt, newMark);
        case 'mangle': {
          const m = body as Obj;
          const target = m.key as Obj;
          const metaKey = (target.meta as Obj | undefined)?.key;
          if (metaKey === 'mark') newMark = Number(await value(m.value, ctx));
          else if (metaKey !== 'nftrace') throw new Unjudged(`sets ${JSON.stringify(target)}`);
          break;
        }
        case 'counter': case 'log': case 'limit': case 'quota': case 'notrack': case 'xt':
          break;
        default:
          throw new Unjudged(`statement ${kind}`);
      }
    }
    return done(event, pkt, newMark);
  }

  set(family: string, table: string, name: string): SetDef {
    const s = this.sets.get(key(family, table, name));
    if (!s) throw new Unjudged(`set @${name} not in the listing`);
    return s;
  }

  private readListing(listing: string): void {
    let family = '';
    let table = '';
    for (const line of listing.split('\n')) {
      const t = /^table (\S+) (\S+) \{/.exec(line);
      if (t) {
        [family, table] = [t[1]!, t[2]!];
        continue;
      }
      const r = /^\t\t(.*) # handle (\d+)$/.exec(line);
      if (r && family) this.texts.set(key(family, table, r[2]!), r[1]!);
    }
  }
}

function done(event: RuleEvent, pkt: Packet, mark: number | undefined): RuleEvent {
  if (mark !== undefined) pkt.mark = mark >>> 0;
  return event;
}

function key(...parts: string[]): string {
  return parts.join('\0');
}

interface Ctx {
  pkt: Packet;
  facts: RouteFacts;
  rule: RuleDef;
  ruleset: Ruleset;
}

/** A value a rule reads from the packet: a string (names, addresses), a number, or a tuple (concat). */
type Val = string | number | boolean | Val[];

const L4 = { tcp: 6, udp: 17 } as const;

/** Undefined: the expression does not apply to this packet (an ip6 field of an IPv4 packet …): no match. */
async function value(expr: Json, ctx: Ctx): Promise<Val | undefined> {
  if (typeof expr === 'string' || typeof expr === 'number' || typeof expr === 'boolean') return expr;
  if (expr === null || Array.isArray(expr)) throw new Unjudged(`value ${JSON.stringify(expr)}`);
  const [kind, body] = Object.entries(expr)[0] as [string, Json];
  const { pkt } = ctx;
  switch (kind) {
    case 'meta': {
      const k = (body as Obj).key;
      switch (k) {
        case 'iifname': case 'iif': return pkt.iif;
        case 'oifname': case 'oif': return pkt.oif;
        case 'l4proto': return pkt.proto;
        case 'mark': return pkt.mark;
        case 'nfproto': return pkt.family === 4 ? 'ipv4' : 'ipv6';
        case 'protocol': return pkt.family === 4 ? 'ip' : 'ip6';
        default: throw new Unjudged(`meta ${String(k)}`);
      }
    }
    case 'payload': {
      const { protocol, field } = body as Obj;
      if (protocol === 'ip' || protocol === 'ip6') {
        if ((protocol === 'ip') !== (pkt.family === 4)) return undefined;
        if (field === 'saddr') return pkt.saddr;
        if (field === 'daddr') return pkt.daddr;
        if (field === 'protocol' || field === 'nexthdr') return pkt.proto;
      }
      if (protocol === 'th' || protocol === 'tcp' || protocol === 'udp') {
        if (protocol !== 'th' && protocol !== pkt.proto) return undefined;
        if (field === 'dport') return pkt.dport;
        if (field === 'sport') return pkt.sport;
      }
      if (protocol === 'ether' && field === 'type') return pkt.family === 4 ? 'ip' : 'ip6';
      // ICMP, ARP and the rest: a TCP/UDP packet has no such header
      if (['icmp', 'icmpv6', 'arp', 'sctp', 'dccp', 'esp', 'ah'].includes(String(protocol))) return undefined;
      throw new Unjudged(`payload ${String(protocol)} ${String(field)}`);
    }
    case 'concat': {
      const parts: Val[] = [];
      for (const p of body as Json[]) {
        const v = await value(p, ctx);
        if (v === undefined) return undefined;
        parts.push(v);
      }
      return parts;
    }
    case 'ct': {
      const k = (body as Obj).key;
      if (k === 'state') return pkt.ct.state;
      if (k === 'status') return [...pkt.ct.status];
      if (k === 'direction') return pkt.ct.direction;
      if (k === 'mark') return 0;
      throw new Unjudged(`ct ${String(k)}`);
    }
    case 'fib': {
      const { result, flags } = body as Obj;
      const f = Array.isArray(flags) ? flags : [flags];
      if (result === 'type' && f.includes('daddr')) return ctx.facts.addressType(pkt.daddr);
      if (result === 'oif' && f.includes('saddr') && f.includes('iif')) return pkt.iif !== undefined && (await ctx.facts.reversePathOk(pkt.saddr, pkt.iif));
      throw new Unjudged(`fib ${JSON.stringify(body)}`);
    }
    case '&': case '|': {
      const [a, b] = body as Json[];
      const [x, y] = [await value(a!, ctx), await value(b!, ctx)];
      if (typeof x !== 'number' || typeof y !== 'number') throw new Unjudged(`${kind} of ${JSON.stringify(body)}`);
      return kind === '&' ? (x & y) >>> 0 : (x | y) >>> 0;
    }
    default:
      throw new Unjudged(`expression ${kind}`);
  }
}

async function matches(m: Obj, ctx: Ctx): Promise<boolean> {
  const op = String(m.op ?? '==');
  const left = await value(m.left!, ctx);
  if (left === undefined) return false;
  const right = m.right!;
  if (op === 'in' && (Array.isArray(right) || typeof right === 'string') && !String(right).startsWith('@')) {
    // flag matches (`ct state established,related`, `ct status dnat`): any of the bits
    const wanted = Array.isArray(right) ? right.map(String) : [right];
    const have = Array.isArray(left) ? left.map(String) : [String(left)];
    return wanted.some((w) => have.includes(w));
  }
  const inSet = await member(left, right, ctx);
  if (inSet !== undefined) return op === '!=' ? !inSet : inSet;
  if (op === '==' || op === 'in') return equal(left, right);
  if (op === '!=') return !equal(left, right);
  const [a, b] = [Number(left), Number(right)];
  if (op === '<') return a < b;
  if (op === '>') return a > b;
  if (op === '<=') return a <= b;
  if (op === '>=') return a >= b;
  throw new Unjudged(`operator ${op}`);
}

/** Set membership when `right` is a set (named or anonymous), undefined when it is a plain value. */
async function member(left: Val, right: Json, ctx: Ctx): Promise<boolean | undefined> {
  const elems = elementsOf(right, ctx);
  if (!elems) return undefined;
  return elems.some((e) => equal(left, e.isMap ? (e.value as Json[])[0]! : e.value));
}

function elementsOf(right: Json, ctx: Ctx): { value: Json; isMap: boolean }[] | undefined {
  if (typeof right === 'string' && right.startsWith('@')) {
    const s = ctx.ruleset.set(ctx.rule.family, ctx.rule.table, right.slice(1));
    return s.elem.map((e) => ({ value: unwrap(e), isMap: s.isMap }));
  }
  if (right && typeof right === 'object' && !Array.isArray(right) && 'set' in right) {
    const items = (right as Obj).set;
    return (Array.isArray(items) ? items : [items!]).map((e) => ({ value: unwrap(e), isMap: Array.isArray(e) }));
  }
  return undefined;
}

/** `{elem: {val: …, timeout …}}` → its value */
function unwrap(e: Json): Json {
  if (e && typeof e === 'object' && !Array.isArray(e) && 'elem' in e) return ((e as Obj).elem as Obj).val!;
  return e;
}

/** Whether a packet value equals (or lies in) one value of a rule: a literal, prefix, range, or a concat of them. */
function equal(v: Val, r: Json): boolean {
  if (Array.isArray(v)) {
    const parts = r && typeof r === 'object' && !Array.isArray(r) && 'concat' in r ? (r as Obj).concat as Json[] : undefined;
    return !!parts && parts.length === v.length && v.every((x, i) => equal(x, parts[i]!));
  }
  if (r && typeof r === 'object' && !Array.isArray(r)) {
    if ('prefix' in r) {
      const p = r.prefix as Obj;
      return inPrefix(String(v), String(p.addr), Number(p.len));
    }
    if ('range' in r) {
      const [lo, hi] = r.range as Json[];
      const [x, a, b] = [scalar(v), scalar(lo as Val), scalar(hi as Val)];
      return x !== undefined && a !== undefined && b !== undefined && x >= a && x <= b;
    }
    throw new Unjudged(`value ${JSON.stringify(r)}`);
  }
  if (typeof r === 'boolean') return v === r;
  if (typeof v === 'string' && typeof r === 'string' && r.endsWith('*')) return v.startsWith(r.slice(0, -1)); // ifname wildcard
  const [x, y] = [scalar(v), scalar(r as Val)];
  if (x !== undefined && y !== undefined) return x === y;
  return String(v) === String(r);
}

/** A comparable number for an address, a port or a protocol name; undefined for other strings. */
function scalar(v: Val): bigint | undefined {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v !== 'string') return undefined;
  if (v in L4) return BigInt(L4[v as keyof typeof L4]);
  const a4 = tryParseIPv4(v);
  if (a4 !== undefined) return BigInt(a4) | (1n << 200n); // a family tag: 10.0.0.1 never equals ::a00:1
  return tryParseIPv6(v);
}

function inPrefix(ip: string, addr: string, len: number): boolean {
  const v4 = tryParseIPv4(ip);
  const p4 = tryParseIPv4(addr);
  if (v4 !== undefined && p4 !== undefined) return len === 0 || v4 >>> (32 - len) === p4 >>> (32 - len);
  const v6 = tryParseIPv6(ip);
  const p6 = tryParseIPv6(addr);
  if (v6 === undefined || p6 === undefined) return false;
  const shift = BigInt(128 - len);
  return v6 >> shift === p6 >> shift;
}

/** The address (and port) a dnat/snat/redirect sends the packet to; undefined when a map has no such key. */
async function natTarget(kind: string, body: Obj, ctx: Ctx): Promise<NatAction | undefined> {
  if (kind === 'redirect') return { kind: 'dnat', addr: ctx.pkt.family === 4 ? '127.0.0.1' : '::1', port: body.port === undefined ? undefined : Number(await value(body.port, ctx)) };
  let target: Json;
  if (body.addr && typeof body.addr === 'object' && !Array.isArray(body.addr) && 'map' in body.addr) {
    const map = (body.addr as Obj).map as Obj;
    const k = await value(map.key!, ctx);
    if (k === undefined) return undefined;
    const elems = elementsOf(map.data!, ctx) ?? [];
    const hit = elems.find((e) => Array.isArray(e.value) && equal(k, e.value[0]!));
    if (!hit) return undefined;
    target = (hit.value as Json[])[1]!;
  } else {
    target = body.addr ?? null;
  }
  let addr: string;
  let port: number | undefined = body.port === undefined ? undefined : Number(await value(body.port, ctx));
  if (target && typeof target === 'object' && !Array.isArray(target) && 'concat' in target) {
    const [a, p] = (target as Obj).concat as Json[];
    addr = String(a);
    port = Number(p);
  } else if (typeof target === 'string') {
    addr = target;
  } else {
    throw new Unjudged(`${kind} to ${JSON.stringify(target)}`);
  }
  return { kind: kind as 'dnat' | 'snat', addr, ...(port === undefined ? {} : { port }) };
}
