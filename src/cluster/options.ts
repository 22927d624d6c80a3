import { existsSync } from 'node:fs';
import { isIPv4 } from '../util/ip.js';
import { isIPv6 } from '../util/ip6.js';

// --cluster-store etcd://HOST[:PORT][,HOST[:PORT]…] and --cluster-store-opt (Docker's
// names: kv.cacertfile, kv.certfile, kv.keyfile), parsed once at the edge into a typed
// value; each function throws one line that names what is wrong.

export const DEFAULT_ETCD_PORT = 2379;

export interface ClusterStoreTls {
  caFile: string;
  certFile?: string;
  keyFile?: string;
}

export interface ClusterStoreConfig {
  /** as given (GET /info shows it, as dockerd did) */
  url: string;
  /** host:port of each member ([v6]:port for IPv6) */
  endpoints: string[];
  tls?: ClusterStoreTls;
}

export class ClusterOptionError extends Error {}

/** "etcd://10.0.0.2:2379,10.0.0.3" → ['10.0.0.2:2379', '10.0.0.3:2379']. */
export function parseClusterStoreUrl(url: string): string[] {
  const m = /^([a-z0-9]+):\/\/(.*)$/i.exec(url);
  if (!m) throw new ClusterOptionError(`invalid --cluster-store ${JSON.stringify(url)}: expected etcd://HOST:PORT[,HOST:PORT…]`);
  if (m[1].toLowerCase() !== 'etcd') throw new ClusterOptionError(`invalid --cluster-store ${JSON.stringify(url)}: berth's cluster store is etcd (v3): etcd://HOST:PORT[,HOST:PORT…], not ${m[1]}://`);
  const rest = m[2].replace(/\/+$/, '');
  if (rest.includes('/')) throw new ClusterOptionError(`invalid --cluster-store ${JSON.stringify(url)}: a path is not supported (berth keeps its keys under /berth/v1/)`);
  if (!rest) throw new ClusterOptionError(`invalid --cluster-store ${JSON.stringify(url)}: no etcd endpoint`);
  return rest.split(',').map((hp) => endpointOf(hp.trim(), url));
}

function endpointOf(hp: string, url: string): string {
  const bad = (why: string) => new ClusterOptionError(`invalid --cluster-store ${JSON.stringify(url)}: ${JSON.stringify(hp)}: ${why}`);
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(hp);
  if (!m) throw bad('expected HOST[:PORT]');
  const host = m[1] ?? m[2];
  if (m[1] !== undefined && !isIPv6(m[1])) throw bad('not an IPv6 address in brackets');
  if (m[2] !== undefined && !isIPv4(host) && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(host)) throw bad('not an IP address or host name');
  const port = m[3] === undefined ? DEFAULT_ETCD_PORT : Number(m[3]);
  if (!(port >= 1 && port <= 65535)) throw bad('port out of range (1-65535)');
  return `${m[1] !== undefined ? `[${host}]` : host}:${port}`;
}

const STORE_OPTS = ['kv.cacertfile', 'kv.certfile', 'kv.keyfile'] as const;

/** Every --cluster-store-opt (each KEY=VALUE, or several joined by commas) → the TLS files, checked to exist. */
export function parseClusterStoreOpts(opts: string[]): ClusterStoreTls | undefined {
  const seen = new Map<string, string>();
  for (const word of opts.flatMap((o) => o.split(',')).map((w) => w.trim()).filter(Boolean)) {
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    if (!(STORE_OPTS as readonly string[]).includes(key)) throw new ClusterOptionError(`invalid --cluster-store-opt ${JSON.stringify(word)}: berth knows ${STORE_OPTS.join(', ')}`);
    if (eq < 0 || eq === word.length - 1) throw new ClusterOptionError(`invalid --cluster-store-opt ${JSON.stringify(word)}: expected ${key}=PATH`);
    const path = word.slice(eq + 1);
    if (!existsSync(path)) throw new ClusterOptionError(`invalid --cluster-store-opt ${key}: no such file ${path}`);
    seen.set(key, path);
  }
  if (seen.size === 0) return undefined;
  const caFile = seen.get('kv.cacertfile');
  const certFile = seen.get('kv.certfile');
  const keyFile = seen.get('kv.keyfile');
  if (!caFile) throw new ClusterOptionError('invalid --cluster-store-opt: TLS to etcd needs kv.cacertfile (the CA that signed etcd\'s certificate)');
  if (!certFile !== !keyFile) throw new ClusterOptionError('invalid --cluster-store-opt: kv.certfile and kv.keyfile go together (the client certificate and its key)');
  return { caFile, certFile, keyFile };
}
