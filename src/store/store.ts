import type { ContainerRecord, EndpointRecord, IntentRecord, NetworkRecord } from './records.js';

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

  /** the journal of multi-step operations under way (engine/journal.ts), oldest first */
  listIntents(): IntentRecord[];
  putIntent(i: IntentRecord): void;
  deleteIntent(id: string): void;

  close(): void;
}
