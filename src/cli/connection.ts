import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client, DaemonError, DEFAULT_HOST, type ClientTls } from './client.js';

// Which daemon the CLI talks to, and how, read as the docker CLI reads it: -H, else
// $BERTH_HOST, else $DOCKER_HOST; for tcp:// hosts --tls (or $DOCKER_TLS), --tlsverify
// (or $DOCKER_TLS_VERIFY, either non-empty), and --tlscacert/--tlscert/--tlskey, by
// default ca.pem, cert.pem and key.pem in $DOCKER_CERT_PATH or ~/.docker. A client
// certificate left at its default and not there is simply not sent, as docker does.

export interface ConnectionFlags {
  host?: string;
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

export function clientFor(o: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Client {
  const host = o.host || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
  if (!host.startsWith('tcp://')) return new Client(host);
  const verify = o.tlsverify ?? !!env.DOCKER_TLS_VERIFY;
  const tls = !!o.tls || !!env.DOCKER_TLS || o.tlsverify !== undefined || verify;
  if (!tls) return new Client(host);
  const dir = env.DOCKER_CERT_PATH || env.DOCKER_CONFIG || join(homedir(), '.docker');
  const file = (given: string | undefined, name: string, flag: string, needed: boolean): Buffer | undefined => {
    const path = given ?? join(dir, name);
    try {
      return readFileSync(path);
    } catch (err) {
      if (given === undefined && !needed && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new DaemonError(`could not read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 0);
    }
  };
  const t: ClientTls = {
    verify,
    ca: verify || o.tlscacert ? file(o.tlscacert, 'ca.pem', '--tlscacert', verify) : undefined,
    cert: file(o.tlscert, 'cert.pem', '--tlscert', false),
    key: file(o.tlskey, 'key.pem', '--tlskey', false),
  };
  if (!!t.cert !== !!t.key) throw new DaemonError('--tlscert and --tlskey go together: give both, or neither', 0);
  return new Client(host, t);
}
