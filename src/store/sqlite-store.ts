import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord, EndpointRecord, IntentRecord, NetworkRecord } from './records.js';
import type { Store } from './store.js';

// Local-scope state in SQLite (WAL). Each object is one row of JSON plus the columns
// the engine looks things up by; every multi-row change runs in one transaction.

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS networks (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS containers (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS endpoints (
  id TEXT PRIMARY KEY,
  network_id TEXT NOT NULL,
  container_id TEXT NOT NULL,
  doc TEXT NOT NULL,
  UNIQUE (network_id, container_id)
);
CREATE INDEX IF NOT EXISTS endpoints_by_container ON endpoints (container_id);
CREATE TABLE IF NOT EXISTS intents (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
`;

type Row = { doc: string };

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  /** statements prepared once: preparing per call showed up in the set-up profile */
  private readonly stmt: Record<string, Database.Statement>;

  constructor(dataRoot: string) {
    mkdirSync(dataRoot, { recursive: true, mode: 0o700 });
    this.db = new Database(join(dataRoot, 'berth.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    const upsert = (table: string) => `INSERT INTO ${table} (id, name, doc) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, doc = excluded.doc`;
    this.stmt = {
      putNetwork: this.db.prepare(upsert('networks')),
      putContainer: this.db.prepare(upsert('containers')),
      putEndpoint: this.db.prepare('INSERT INTO endpoints (id, network_id, container_id, doc) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc'),
      deleteNetwork: this.db.prepare('DELETE FROM networks WHERE id = ?'),
      deleteContainer: this.db.prepare('DELETE FROM containers WHERE id = ?'),
      deleteEndpoint: this.db.prepare('DELETE FROM endpoints WHERE id = ?'),
      putIntent: this.db.prepare('INSERT INTO intents (id, doc) VALUES (?, ?)'),
      deleteIntent: this.db.prepare('DELETE FROM intents WHERE id = ?'),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // networks
  listNetworks(): NetworkRecord[] {
    return this.all<NetworkRecord>('SELECT doc FROM networks ORDER BY name');
  }

  putNetwork(n: NetworkRecord): void {
    this.stmt.putNetwork.run(n.id, n.name, JSON.stringify(n));
  }

  deleteNetwork(id: string): void {
    this.stmt.deleteNetwork.run(id);
  }

  // containers
  listContainers(): ContainerRecord[] {
    return this.all<ContainerRecord>('SELECT doc FROM containers ORDER BY rowid');
  }

  putContainer(c: ContainerRecord): void {
    this.stmt.putContainer.run(c.id, c.name, JSON.stringify(c));
  }

  deleteContainer(id: string): void {
    this.stmt.deleteContainer.run(id);
  }

  // endpoints
  listEndpoints(): EndpointRecord[] {
    return this.all<EndpointRecord>('SELECT doc FROM endpoints ORDER BY rowid');
  }

  putEndpoint(e: EndpointRecord): void {
    this.stmt.putEndpoint.run(e.id, e.networkId, e.containerId, JSON.stringify(e));
  }

  deleteEndpoint(id: string): void {
    this.stmt.deleteEndpoint.run(id);
  }

  // the journal
  listIntents(): IntentRecord[] {
    return this.all<IntentRecord>('SELECT doc FROM intents ORDER BY rowid');
  }

  putIntent(i: IntentRecord): void {
    this.stmt.putIntent.run(i.id, JSON.stringify(i));
  }

  deleteIntent(id: string): void {
    this.stmt.deleteIntent.run(id);
  }

  close(): void {
    this.db.close();
  }

  private all<T>(sql: string): T[] {
    return (this.db.prepare(sql).all() as Row[]).map((r) => JSON.parse(r.doc) as T);
  }
}
