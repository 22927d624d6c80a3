// A real etcd (Debian's etcd-server, v3.4) for multi-host labs: one member, listening only
// on an address of the lab netns it runs in, its data under the lab's own dir, stopped with
// the lab. Tests talk to it from the lab hosts (over the lab's underlay), never from the
// machine's root namespace.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inNetnsArgv, run, sleep } from './exec.js';
import type { LabProcess } from './process.js';

export const ETCD_CLIENT_PORT = 2379;
const ETCD_PEER_PORT = 2380;

/** A running etcd: its client endpoint ("http://IP:2379") and how to stop it. */
export interface LabEtcd {
  endpoint: string;
  process: LabProcess;
  /** the netns it runs in */
  ns: string;
  /** stops it (SIGKILL: as a crashed or unplugged store), keeping its data */
  kill(): Promise<void>;
  /** starts it again on the same data (killing it first if it still runs); resolves once healthy */
  restart(): Promise<void>;
  /** with TLS (startEtcd's opts.tls): what etcdctl needs to talk to it */
  clientArgs?: string[];
}

/** PEM files for an etcd that serves TLS and asks clients for certificates signed by caFile. */
export interface EtcdTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** a client's certificate and key, for etcdctl */
  clientCertFile: string;
  clientKeyFile: string;
}

type Spawner = (nsPath: string, argv: string[]) => LabProcess;

/**
 * Starts etcd in netns `ns` on `addr` (an address of that netns), data in `dir`; resolves
 * once it answers a health check (etcdctl from the same netns), or throws with its output.
 */
export interface EtcdOptions {
  tls?: EtcdTls;
  /**
   * Also serve the v2 API (etcd 3.4's --enable-v2): libkv, the store client of Docker's
   * classic --cluster-store mode (the overlay anchor), speaks only v2.
   */
  enableV2?: boolean;
}

export async function startEtcd(spawn: Spawner, ns: string, addr: string, dir: string, name = 'lab-etcd', opts: EtcdOptions = {}): Promise<LabEtcd> {
  mkdirSync(dir, { recursive: true });
  const tls = opts.tls;
  const client = `${tls ? 'https' : 'http'}://${addr}:${ETCD_CLIENT_PORT}`;
  const clientArgs = tls ? ['--cacert', tls.caFile, '--cert', tls.clientCertFile, '--key', tls.clientKeyFile] : undefined;
  const peer = `http://${addr}:${ETCD_PEER_PORT}`;
  // on a data dir that has a member already, etcd takes it from there and ignores --initial-*
  const argv = [
    'etcd', '--name', name, '--data-dir', join(dir, `${name}.etcd`),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `${name}=${peer}`, '--initial-cluster-state', 'new',
    '--logger', 'zap', '--log-level', 'warn',
    ...(tls ? ['--cert-file', tls.certFile, '--key-file', tls.keyFile, '--trusted-ca-file', tls.caFile, '--client-cert-auth'] : []),
    ...(opts.enableV2 ? ['--enable-v2'] : []),
  ];
  const etcd: LabEtcd = {
    endpoint: client,
    process: spawn(ns, argv),
    ns,
    clientArgs,
    kill: () => etcd.process.stop('SIGKILL'),
    restart: async () => {
      await etcd.process.stop('SIGKILL');
      etcd.process = spawn(ns, argv);
      await waitHealthy(etcd);
    },
  };
  await waitHealthy(etcd);
  return etcd;
}

/** Waits until etcd answers a health check (etcdctl from its netns), or kills it and throws with its output. */
async function waitHealthy(etcd: LabEtcd): Promise<void> {
  const { process, endpoint, ns } = etcd;
  // a cold machine's first etcd (and etcdctl) may take seconds: a probe that times out is
  // "not yet", until the deadline
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && process.running) {
    const argv = inNetnsArgv(ns, ['etcdctl', '--endpoints', endpoint, ...(etcd.clientArgs ?? []), '--dial-timeout', '1s', '--command-timeout', '1s', 'endpoint', 'health']);
    const r = await run(argv, { timeoutMs: 5_000 }).catch(() => undefined);
    if (r?.code === 0) return;
    await sleep(100);
  }
  await process.stop('SIGKILL');
  throw new Error(`etcd did not become healthy at ${endpoint}:\n${process.output().slice(-2000)}`);
}

/** Runs etcdctl (v3 API) against the lab's etcd, from its netns. */
export function etcdctl(etcd: LabEtcd, args: string[]) {
  return run(inNetnsArgv(etcd.ns, ['etcdctl', '--endpoints', etcd.endpoint, ...(etcd.clientArgs ?? []), '--dial-timeout', '2s', '--command-timeout', '3s', ...args]), { timeoutMs: 10_000 });
}

/**
 * Freezes etcd (SIGSTOP) or thaws it (SIGCONT): while frozen its sockets accept connections
 * but nothing answers, as with a store whose packets are dropped (a partition, not a refusal).
 */
export function freezeEtcd(etcd: LabEtcd, frozen: boolean): void {
  const pid = etcd.process.child.pid;
  if (pid === undefined || !etcd.process.running) throw new Error('freezeEtcd: etcd is not running');
  process.kill(pid, frozen ? 'SIGSTOP' : 'SIGCONT');
}
