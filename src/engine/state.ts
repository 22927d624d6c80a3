import type { Store } from '../store/store.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../store/records.js';
import { InvalidParameterError, NotFoundError } from '../util/errors.js';
import { Journal } from './journal.js';

// The engine's view of the store: every record in memory (reads never touch SQLite, so
// `network ls` costs the same with 1,000 containers), every change written through.

export class State {
  readonly networks = new Map<string, NetworkRecord>();
  readonly containers = new Map<string, ContainerRecord>();
  readonly endpoints = new Map<string, EndpointRecord>();
  /** container id → its endpoints: the start path asks for them several times */
  private readonly byContainer = new Map<string, Map<string, EndpointRecord>>();
  /** network id → its endpoints: the bridge-room and static-IP checks ask on every join */
  private readonly byNetwork = new Map<string, Map<string, EndpointRecord>>();
  /** "networkId linkName" -> the endpoints last saved with it: a start asks whether a name is taken, on a network of thousands */
  private readonly byLinkName = new Map<string, Set<string>>();
  private readonly linkKeyOf = new Map<string, string>();
  /** container name → id: names are unique and looked up on every create */
  private readonly containerNames = new Map<string, string>();
  /**
   * Asked on every start, stop and removal, so no pass over 10,000 containers: the ids of
   * containers with legacy links (--link), and by target id those running in another's
   * netns (--network container:ID).
   */
  private readonly withLinks = new Set<string>();
  private readonly netnsGuests = new Map<string, Set<string>>();
  /** multi-step operations under way, so a crash's leftovers are known at start-up */
  readonly journal: Journal;
  /** network id → what runs once its last endpoint record goes (whenNetworkEmpty) */
  private readonly onEmpty = new Map<string, () => void>();

  constructor(readonly store: Store) {
    this.journal = new Journal(store);
    for (const n of store.listNetworks()) this.networks.set(n.id, n);
    for (const c of store.listContainers()) this.keep(c);
    for (const e of store.listEndpoints()) this.index(e);
  }

  saveNetwork(n: NetworkRecord): void {
    this.store.putNetwork(n);
    this.networks.set(n.id, n);
  }

  dropNetwork(id: string): void {
    this.store.deleteNetwork(id);
    this.networks.delete(id);
    if (!this.byNetwork.get(id)?.size) this.byNetwork.delete(id);
  }

  saveContainer(c: ContainerRecord): void {
    this.store.putContainer(c);
    this.keep(c);
  }

  /** Containers with legacy links (--link). */
  containersWithLinks(): ContainerRecord[] {
    return [...this.withLinks].map((id) => this.containers.get(id)!);
  }

  /** Containers whose network mode is container:`id`. */
  netnsGuestsOf(id: string): ContainerRecord[] {
    return [...(this.netnsGuests.get(id) ?? [])].map((g) => this.containers.get(g)!);
  }

  private keep(c: ContainerRecord): void {
    const had = this.containers.get(c.id);
    if (had) this.forget(had);
    this.containers.set(c.id, c);
    this.containerNames.set(c.name, c.id);
    if (c.hostConfig.links.length) this.withLinks.add(c.id);
    const host = guestOf(c);
    if (host) (this.netnsGuests.get(host) ?? this.netnsGuests.set(host, new Set()).get(host)!).add(c.id);
  }

  private forget(c: ContainerRecord): void {
    this.withLinks.delete(c.id);
    const host = guestOf(c);
    const guests = host ? this.netnsGuests.get(host) : undefined;
    guests?.delete(c.id);
    if (host && !guests?.size) this.netnsGuests.delete(host);
  }

  containerNamed(name: string): ContainerRecord | undefined {
    const id = this.containerNames.get(name);
    return id === undefined ? undefined : this.containers.get(id);
  }

  dropContainer(id: string): void {
    this.store.transaction(() => {
      for (const ep of this.endpointsOf({ containerId: id })) this.store.deleteEndpoint(ep.id);
      this.store.deleteContainer(id);
    });
    for (const ep of this.endpointsOf({ containerId: id })) this.unindex(ep);
    this.byContainer.delete(id);
    const c = this.containers.get(id);
    if (c) {
      this.containerNames.delete(c.name);
      this.forget(c);
    }
    this.containers.delete(id);
  }

  saveEndpoint(e: EndpointRecord): void {
    this.store.putEndpoint(e);
    this.index(e);
  }

  /** A container and its endpoints in one transaction (the start path writes them together). */
  saveContainerWithEndpoints(c: ContainerRecord, eps: EndpointRecord[]): void {
    this.store.transaction(() => {
      this.store.putContainer(c);
      for (const e of eps) this.store.putEndpoint(e);
    });
    this.keep(c);
    for (const e of eps) this.index(e);
  }

  private index(e: EndpointRecord): void {
    this.endpoints.set(e.id, e);
    indexUnder(this.byContainer, e.containerId, e);
    indexUnder(this.byNetwork, e.networkId, e);
    this.unindexLinkName(e.id);
    if (e.linkName) {
      const key = `${e.networkId} ${e.linkName}`;
      (this.byLinkName.get(key) ?? this.byLinkName.set(key, new Set()).get(key)!).add(e.id);
      this.linkKeyOf.set(e.id, key);
    }
  }

  private unindexLinkName(id: string): void {
    const key = this.linkKeyOf.get(id);
    if (key === undefined) return;
    this.linkKeyOf.delete(id);
    const ids = this.byLinkName.get(key);
    ids?.delete(id);
    if (!ids?.size) this.byLinkName.delete(key);
  }

  private unindex(e: EndpointRecord): void {
    this.endpoints.delete(e.id);
    this.unindexLinkName(e.id);
    this.byContainer.get(e.containerId)?.delete(e.id);
    this.byNetwork.get(e.networkId)?.delete(e.id);
    const then = this.onEmpty.get(e.networkId);
    if (then && !this.byNetwork.get(e.networkId)?.size) {
      this.onEmpty.delete(e.networkId);
      queueMicrotask(then);
    }
  }

  /** `then` runs (once, after the change that did it) when no endpoint record names the network any more. */
  whenNetworkEmpty(networkId: string, then: () => void): void {
    if (!this.byNetwork.get(networkId)?.size) queueMicrotask(then);
    else this.onEmpty.set(networkId, then);
  }

  dropEndpoint(id: string): void {
    this.store.deleteEndpoint(id);
    const e = this.endpoints.get(id);
    if (e) this.unindex(e);
  }

  /** Another endpoint of the network (with an interface) has that link name. */
  linkNameTaken(networkId: string, linkName: string, exceptEndpointId: string): boolean {
    // the index holds every name an endpoint was saved with; the record itself says whether it still is
    for (const id of this.byLinkName.get(`${networkId} ${linkName}`) ?? []) {
      const e = this.endpoints.get(id);
      if (e && e.id !== exceptEndpointId && e.ifName && e.linkName === linkName) return true;
    }
    return false;
  }

  endpointsOf(by: { containerId?: string; networkId?: string }): EndpointRecord[] {
    const out: EndpointRecord[] = [];
    const pool = by.containerId !== undefined ? this.byContainer.get(by.containerId)?.values() ?? []
      : by.networkId !== undefined ? this.byNetwork.get(by.networkId)?.values() ?? [] : this.endpoints.values();
    for (const e of pool) {
      if (by.containerId !== undefined && e.containerId !== by.containerId) continue;
      if (by.networkId !== undefined && e.networkId !== by.networkId) continue;
      out.push(e);
    }
    return out;
  }

  /** Docker's resolution order: full ID, exact name, unique ID prefix. */
  findNetwork(term: string): NetworkRecord {
    const found = resolve(term, this.networks, 'network');
    if (!found) throw new NotFoundError(`network ${term} not found`);
    return found;
  }

  findContainer(term: string): ContainerRecord {
    const name = term.replace(/^\//, '');
    const found = this.containers.get(name) ?? this.containerNamed(name) ?? resolve(name, this.containers, 'container');
    if (!found) throw new NotFoundError(`No such container: ${term}`);
    return found;
  }

  /** findContainer, or undefined when no container (or more than one) answers to term. */
  tryFindContainer(term: string): ContainerRecord | undefined {
    try {
      return this.findContainer(term);
    } catch {
      return undefined;
    }
  }
}

/** The container whose netns c runs in (network mode container:ID), if any. */
function guestOf(c: ContainerRecord): string | undefined {
  const mode = c.hostConfig.networkMode;
  return mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

function indexUnder(index: Map<string, Map<string, EndpointRecord>>, key: string, e: EndpointRecord): void {
  let group = index.get(key);
  if (!group) index.set(key, (group = new Map()));
  group.set(e.id, e);
}

function resolve<T extends { id: string; name: string }>(term: string, all: Map<string, T>, kind: string): T | undefined {
  if (!term) return undefined;
  const byId = all.get(term);
  if (byId) return byId;
  const byName = [...all.values()].filter((x) => x.name === term);
  if (byName.length === 1) return byName[0];
  if (!/^[0-9a-f]+$/.test(term)) return undefined;
  const byPrefix = [...all.values()].filter((x) => x.id.startsWith(term));
  if (byPrefix.length > 1) {
    throw new InvalidParameterError(`${kind} ${term} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
  }
  return byPrefix[0];
}
