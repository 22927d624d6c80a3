import type { ContainerRecord, EndpointRecord, NetworkRecord } from './records.js';

// What the engine needs of durable state, whatever keeps it: SQLite for local scope
// (sqlite-store.ts), a distributed store for global scope later. Every method is
// synchronous (the engine holds every record in memory, see engine/state.ts); a store
// whose calls go over the network keeps a local copy and syncs it behind this face.

export interface Store {
  /** Runs fn as one atomic change: every put and delete inside it lands, or none does. */
  transaction<T>(fn: () => T): T;
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;

  listNetworks(): NetworkRecord[];
  putNetwork(n: NetworkRecord): void;
  deleteNetwork(id: string): void;

  listContainers(): ContainerRecord[];
  putContainer(c: ContainerRecord): void;
  deleteContainer(id: string): void;

  listEndpoints(): EndpointRecord[];
  putEndpoint(e: EndpointRecord): void;
  deleteEndpoint(id: string): void;

  close(): void;
}
