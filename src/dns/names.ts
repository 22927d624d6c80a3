// The resolver's view of the world: which container endpoints exist on which network,
// under which names. A client is a container (its sandbox's sockets say which); it sees
// the names of the networks it is attached to (every endpoint of that container), plus
// its own --link aliases. Names are stored lower-case without a trailing dot.
// A link alias names its target, not an address: it is resolved on the link's network at
// query time (as dockerd's sandbox does), so a target created or started after the link,
// or restarted with a new address, is found without the linking record changing.
// Each endpoint may hold an IPv4 and an IPv6 address: A answers the one, AAAA the other,
// each family in its own round robin; a name whose holders lack the family asked has
// no data (NOERROR, no records, never forwarded: container names must not leak upstream).
import { ip6ArpaToHex, ipv6FromHex, ipv6Hex } from './ip6.js';

export interface EndpointRecord {
  networkId: string;
  containerId: string;
  /** The endpoint's IPv4 address on this network ('' or unset: none, an IPv6-only network). */
  ip?: string;
  /** The endpoint's IPv6 address on this network, when it has one. */
  ip6?: string;
  /** Container name, short id, hostname, network aliases: what others resolve it by. */
  names: string[];
  /** The container's --dns servers; unset: the resolver's default upstreams. */
  upstreams?: string[];
  /** The container's search domains: `NAME.<domain>` also resolves NAME. */
  searchDomains?: string[];
  /** --link aliases on this endpoint's network: alias -> the target's name there, visible to this container only. */
  linkAliases?: Record<string, string>;
}

/** The container a query came from, with everything that shapes its answers. */
export interface Client {
  containerId: string;
  networks: string[];
  upstreams: string[] | undefined;
  searchDomains: string[];
  /** alias -> where its target is looked up (the link's network, the target's name) */
  linkAliases: Map<string, LinkTarget[]>;
}

export interface LinkTarget {
  networkId: string;
  name: string;
}

/** Which address families a query wants. */
export interface Families {
  v4: boolean;
  v6: boolean;
}

export const BOTH_FAMILIES: Families = { v4: true, v6: true };

export type Resolution =
  /** The name is ours: its addresses of the families asked, each family rotated (either may be empty: NODATA). */
  | { kind: 'addresses'; v4: string[]; v6: string[] }
  | { kind: 'pointer'; name: string }
  | { kind: 'nxdomain' }
  | { kind: 'forward' };

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.+$/, '');
}

/**
 * The address a reverse name stands for, in the table's key form: a.b.c.d.in-addr.arpa ->
 * d.c.b.a; 32 nibbles .ip6.arpa -> the address's 32 hex digits. Undefined for any other name.
 */
export function reverseToIp(name: string): string | undefined {
  if (name.endsWith('.ip6.arpa')) return ip6ArpaToHex(name);
  if (!name.endsWith('.in-addr.arpa')) return undefined;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!m) return undefined;
  const octets = [m[4], m[3], m[2], m[1]].map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.join('.');
}

function endpointKey(networkId: string, containerId: string): string {
  return `${networkId}\u0000${containerId}`;
}

function addTo<K, V>(map: Map<K, V[]>, key: K, v: V): void {
  const list = map.get(key);
  if (list) list.push(v);
  else map.set(key, [v]);
}

function removeFrom<K, V>(map: Map<K, V[]>, key: K, v: V): void {
  const list = map.get(key);
  if (!list) return;
  const i = list.indexOf(v);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) map.delete(key);
}

/** The table's key for an address: dotted IPv4 as it is, IPv6 as its 32 hex digits. */
function addressKey(ip: string): string {
  return ip.includes(':') ? (ipv6Hex(ip) ?? ip) : ip;
}

/** The keys an endpoint is found under by reverse (PTR) lookups. */
function addressKeys(e: EndpointRecord): string[] {
  return [e.ip, e.ip6].filter((a): a is string => !!a).map(addressKey);
}

function cleanRecord(e: EndpointRecord): EndpointRecord {
  const ip6Hex = e.ip6 ? ipv6Hex(e.ip6) : undefined;
  const names = [...new Set(e.names.map(normalizeName).filter((n) => n !== ''))];
  const linkAliases: Record<string, string> = {};
  for (const [alias, target] of Object.entries(e.linkAliases ?? {})) linkAliases[normalizeName(alias)] = normalizeName(target);
  return {
    ...e,
    ip: e.ip || undefined,
    // one spelling per address, so that the same address on two endpoints is answered once
    ip6: ip6Hex ? ipv6FromHex(ip6Hex) : undefined,
    names,
    searchDomains: (e.searchDomains ?? []).map(normalizeName).filter((d) => d !== ''),
    linkAliases,
  };
}

/** Round-robin counters, by name hash; shared memory so every resolver thread rotates together. */
export const ROTATION_SLOTS = 4096;

export function newRotation(shared = false): Int32Array {
  const bytes = ROTATION_SLOTS * 4;
  return new Int32Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

/** The set addresses, each once, in order. */
function distinct(ips: (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const ip of ips) if (ip && !out.includes(ip)) out.push(ip);
  return out;
}

function slotOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 0) % ROTATION_SLOTS;
}

export class NameTable {
  private readonly endpoints = new Map<string, EndpointRecord>();
  /** network -> name -> endpoints holding it */
  private readonly byNetwork = new Map<string, Map<string, EndpointRecord[]>>();
  private readonly byIp = new Map<string, EndpointRecord[]>();
  private readonly byContainer = new Map<string, EndpointRecord[]>();
  /** name -> how many endpoints hold it, on any network (NXDOMAIN vs forward) */
  private readonly known = new Map<string, number>();
  /** Client views by container id, rebuilt after any change (queries far outnumber changes). */
  private readonly clients = new Map<string, Client>();
  /** Moves on at every change: what was answered from an older one may be stale. */
  generation = 0;

  constructor(private readonly rotation: Int32Array = newRotation()) {}

  get size(): number {
    return this.endpoints.size;
  }

  /** Adds or replaces one endpoint's whole record. */
  set(record: EndpointRecord): void {
    const e = cleanRecord(record);
    this.remove(e.networkId, e.containerId);
    this.clients.clear();
    this.generation++;
    this.endpoints.set(endpointKey(e.networkId, e.containerId), e);
    let names = this.byNetwork.get(e.networkId);
    if (!names) this.byNetwork.set(e.networkId, (names = new Map()));
    for (const n of e.names) {
      addTo(names, n, e);
      this.known.set(n, (this.known.get(n) ?? 0) + 1);
    }
    for (const k of addressKeys(e)) addTo(this.byIp, k, e);
    addTo(this.byContainer, e.containerId, e);
  }

  remove(networkId: string, containerId: string): void {
    const key = endpointKey(networkId, containerId);
    const e = this.endpoints.get(key);
    if (!e) return;
    this.clients.clear();
    this.generation++;
    this.endpoints.delete(key);
    const names = this.byNetwork.get(networkId);
    for (const n of e.names) {
      if (names) removeFrom(names, n, e);
      const c = (this.known.get(n) ?? 1) - 1;
      if (c <= 0) {
        this.known.delete(n);
      } else this.known.set(n, c);
    }
    if (names?.size === 0) this.byNetwork.delete(networkId);
    for (const k of addressKeys(e)) removeFrom(this.byIp, k, e);
    removeFrom(this.byContainer, e.containerId, e);
  }

  /** Forgets every endpoint on a network (the network is gone). */
  removeNetwork(networkId: string): void {
    for (const e of [...this.endpoints.values()]) if (e.networkId === networkId) this.remove(e.networkId, e.containerId);
  }

  replaceAll(records: EndpointRecord[]): void {
    for (const e of [...this.endpoints.values()]) this.remove(e.networkId, e.containerId);
    for (const r of records) this.set(r);
  }

  /** The view of a container, or undefined when it has no endpoint here. */
  client(containerId: string): Client | undefined {
    const cached = this.clients.get(containerId);
    if (cached) return cached;
    const c = this.buildClient(containerId);
    if (c) this.clients.set(containerId, c);
    return c;
  }

  private buildClient(containerId: string): Client | undefined {
    const all = this.byContainer.get(containerId);
    const own = all?.[0];
    if (!all || !own) return undefined;
    const linkAliases = new Map<string, LinkTarget[]>();
    for (const e of all) for (const [a, name] of Object.entries(e.linkAliases ?? {})) addTo(linkAliases, a, { networkId: e.networkId, name });
    return {
      containerId: own.containerId,
      networks: all.map((e) => e.networkId),
      upstreams: own.upstreams ?? all.find((e) => e.upstreams)?.upstreams,
      searchDomains: own.searchDomains ?? [],
      linkAliases,
    };
  }

  /**
   * What a name means to this client. `name` is lower-case without a trailing dot;
   * `families`: the addresses the query wants (A: v4, AAAA: v6), the only ones rotated.
   */
  resolve(client: Client, name: string, families: Families = BOTH_FAMILIES): Resolution {
    const ptrIp = reverseToIp(name);
    if (ptrIp !== undefined) return this.resolvePointer(client, ptrIp);
    let sawKnown = false;
    for (const candidate of this.candidates(client, name)) {
      const holders = this.holdersOf(client, candidate);
      if (holders.length > 0) {
        return {
          kind: 'addresses',
          v4: families.v4 ? this.rotate(`4\u0000${candidate}`, distinct(holders.map((e) => e.ip))) : [],
          v6: families.v6 ? this.rotate(`6\u0000${candidate}`, distinct(holders.map((e) => e.ip6))) : [],
        };
      }
      // a link alias is the client's own name even while its target does not run
      if (this.known.has(candidate) || client.linkAliases.has(candidate)) sawKnown = true;
    }
    return sawKnown ? { kind: 'nxdomain' } : { kind: 'forward' };
  }

  /** The name itself, then the name with each of the client's search domains taken off. */
  private candidates(client: Client, name: string): string[] {
    if (client.searchDomains.length === 0) return [name];
    const out = [name];
    for (const d of client.searchDomains) {
      if (name.length > d.length + 1 && name.endsWith(`.${d}`)) out.push(name.slice(0, -d.length - 1));
    }
    return out;
  }

  /** The endpoints a name stands for, as this client sees it. */
  private holdersOf(client: Client, name: string): EndpointRecord[] {
    const out: EndpointRecord[] = [];
    // a link alias that finds its target hides the name's other meanings (dockerd's order)
    for (const link of client.linkAliases.get(name) ?? []) out.push(...(this.byNetwork.get(link.networkId)?.get(link.name) ?? []));
    if (out.length) return out;
    for (const net of client.networks) out.push(...(this.byNetwork.get(net)?.get(name) ?? []));
    return out;
  }

  /** Round-robin: each query starts one further along the list (one counter per name and family). */
  private rotate(key: string, ips: string[]): string[] {
    if (ips.length < 2) return ips;
    const n = Atomics.add(this.rotation, slotOf(key), 1) >>> 0;
    const k = n % ips.length;
    return [...ips.slice(k), ...ips.slice(0, k)];
  }

  private resolvePointer(client: Client, ip: string): Resolution {
    const holders = this.byIp.get(ip);
    if (!holders) return { kind: 'forward' };
    const seen = holders.find((e) => client.networks.includes(e.networkId) && e.names.length > 0);
    return seen ? { kind: 'pointer', name: seen.names[0] as string } : { kind: 'nxdomain' };
  }
}
