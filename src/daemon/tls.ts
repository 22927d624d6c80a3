import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { join } from 'node:path';
import { describeHost, isLoopback, type Host } from './hosts.js';

// The TCP side of the API: dockerd's --tls/--tlsverify/--tlscacert/--tlscert/--tlskey,
// and berth's rule on top of dockerd's (which only warns and waits): a TCP address that
// other machines can reach is served only with mutual TLS, since whoever reaches the API
// is root on this host. Plain TCP, or TLS without client certificates, is allowed on
// loopback only, with a warning in the log.

/**
 * Where berthd looks for its certificates when no flag names them. dockerd uses
 * $DOCKER_CONFIG or ~/.docker (root's home under systemd), a leftover of the days when
 * the client and the daemon were one binary that its maintainers mean to move (moby
 * issue 44640); berthd keeps them beside its daemon.json, in a directory of their own so
 * that the keys need not share that file's permissions.
 */
export const DEFAULT_CERT_DIR = '/etc/berth/tls';

export interface TlsFlags {
  /** --tls, or implied by --tlsverify */
  tls: boolean;
  /** --tlsverify: clients must present a certificate signed by --tlscacert */
  verify: boolean;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** What an https server takes: its key pair, and the CA clients' certificates must chain to. */
export interface TlsServerOptions {
  key: Buffer;
  cert: Buffer;
  ca?: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

export class ListenPolicyError extends Error {}

/**
 * dockerd's reading of the flags: --tlsverify (given at all) turns TLS on; --tls alone
 * means verify too, unless --tlsverify=false was said.
 */
export function tlsFlags(o: { tls?: boolean; tlsverify?: boolean; tlscacert?: string; tlscert?: string; tlskey?: string }): TlsFlags {
  const tls = !!o.tls || o.tlsverify !== undefined;
  const verify = o.tlsverify ?? tls;
  return {
    tls,
    verify,
    caFile: o.tlscacert ?? join(DEFAULT_CERT_DIR, 'ca.pem'),
    certFile: o.tlscert ?? join(DEFAULT_CERT_DIR, 'cert.pem'),
    keyFile: o.tlskey ?? join(DEFAULT_CERT_DIR, 'key.pem'),
  };
}

/** Refuses what must not be served; returns the warnings for what may, with a risk. */
export function checkListenPolicy(hosts: Host[], t: TlsFlags): string[] {
  const warnings: string[] = [];
  for (const h of hosts) {
    if (h.kind !== 'tcp') continue;
    const where = describeHost(h);
    if (t.verify) continue;
    const what = t.tls ? 'TLS without client certificates (--tlsverify=false)' : 'plain TCP (no --tlsverify)';
    if (!isLoopback(h.address)) {
      throw new ListenPolicyError(`refusing to listen on ${where} with ${what}: anyone who reaches it is root on this host; give --tlsverify --tlscacert --tlscert --tlskey, or a loopback address`);
    }
    warnings.push(`API listen on ${where} with ${what}: every local user and process that can reach it is root on this host`);
  }
  return warnings;
}

/**
 * Reads and checks the key pair (and the CA with --tlsverify) before anything starts, so
 * a wrong path or a key that is not the certificate's is one line, not a half-started daemon.
 */
export function loadServerTls(t: TlsFlags): TlsServerOptions {
  const read = (flag: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ListenPolicyError(`cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const cert = read('--tlscert', t.certFile);
  const key = read('--tlskey', t.keyFile);
  const ca = t.verify ? read('--tlscacert', t.caFile) : undefined;
  for (const [flag, path, pem] of [['--tlscert', t.certFile, cert], ['--tlscacert', t.caFile, ca]] as const) {
    if (!pem) continue;
    try {
      new X509Certificate(pem);
    } catch {
      throw new ListenPolicyError(`${flag} ${path} holds no PEM certificate`);
    }
  }
  try {
    createSecureContext({ cert, key, ca });
  } catch (err) {
    throw new ListenPolicyError(`cannot use --tlscert ${t.certFile} with --tlskey ${t.keyFile}: ${(err as Error).message}`);
  }
  return { cert, key, ca, requestCert: t.verify, rejectUnauthorized: t.verify };
}
