// The two systems of the overlay bench, each on a fresh two-host cluster lab
// (test/lab/cluster.ts: hosts as netns on an underlay switch, a real etcd 3.4 at
// 10.99.0.2:2379), each host's engine reached over its unix socket through the same
// Docker API client:
//   - Docker 20.10's classic overlay: a dockerd per host (dockerd.ts) with its own
//     hostname, `--cluster-store etcd://10.99.0.2:2379 --cluster-advertise IP:2376`;
//     etcd serves its v2 API (libkv's etcd backend speaks only v2);
//   - berth: berthd per host with the same two flags (etcd v3), started by the lab.
import { basename, join } from 'node:path';
import { Cluster, CLUSTER_STORE } from '../../test/lab/cluster.js';
import { INTERNET_ADDR, underlayHost } from '../../test/lab/topology.js';
import { LabDockerd } from '../anchors/dockerd.js';
import { EngineClient } from './engine-client.js';

export interface OverlayHost {
  engine: EngineClient;
  /** /run/netns/… of the host */
  ns: string;
  /** its underlay address */
  addr: string;
}

export interface OverlaySystem {
  name: string;
  /** the daemon flags the bench gives it, for the report */
  flags: string[];
  a: OverlayHost;
  b: OverlayHost;
  /** a scratch dir of the system (for the image tarball) */
  dir: string;
  /** what each daemon printed (for a failure) */
  logs(): string;
  /** stops the daemons and destroys the cluster: nothing of it must be left */
  destroy(): Promise<void>;
  /** the cluster's name: every netns of it starts with it */
  clusterName: string;
}

const ADVERTISE_PORT = 2376;
export const DOCKER_LABEL = 'Docker 20.10 (classic --cluster-store overlay)';
export const BERTH_LABEL = 'berth';

function clusterFlags(addr: string): string[] {
  return ['--cluster-store', CLUSTER_STORE, '--cluster-advertise', `${addr}:${ADVERTISE_PORT}`];
}

export async function startDockerOverlay(log: (l: string) => void): Promise<OverlaySystem> {
  const cluster = await Cluster.create({ hosts: 2, etcd: true, etcdV2: true, startDaemons: false, checkConsistency: false });
  const daemons: LabDockerd[] = [];
  const destroy = async () => {
    for (const d of daemons) await d.stop().catch((e: Error) => log(`dockerd stop: ${e.message}`));
    await cluster.destroy();
  };
  try {
    for (const i of [1, 2]) {
      const h = cluster.host(i);
      // one after the other: the second finds the first in the store's node list
      daemons.push(await LabDockerd.start({
        netns: basename(h.hostNs), dir: join(h.dir, 'docker'), nameserver: cluster.internetAddr,
        hostname: `ovbench-h${i}`, args: clusterFlags(cluster.addrOf(i).addr),
      }));
      log(`docker: dockerd on host ${i} up in ${daemons[i - 1]!.startMs} ms`);
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  const host = (i: 1 | 2): OverlayHost => ({ engine: daemons[i - 1]!.client, ns: cluster.host(i).hostNs, addr: cluster.addrOf(i).addr });
  return {
    name: DOCKER_LABEL,
    flags: clusterFlags('<host underlay IP>'),
    a: host(1),
    b: host(2),
    dir: cluster.dir,
    clusterName: cluster.name,
    logs: () => daemons.map((d, k) => `---- dockerd host ${k + 1}:\n${d.output().slice(-3000)}`).join('\n'),
    destroy,
  };
}

export async function startBerthOverlay(): Promise<OverlaySystem> {
  const cluster = await Cluster.create({
    hosts: 2,
    etcd: true,
    // the same upstream resolver as dockerd's containers get (the lab internet's DNS server)
    daemonArgs: (i) => [...clusterFlags(underlayHost(i).addr), '--dns', INTERNET_ADDR],
  });
  const host = (i: 1 | 2): OverlayHost => ({ engine: new EngineClient(`berthd(h${i})`, cluster.host(i).socket), ns: cluster.host(i).hostNs, addr: cluster.addrOf(i).addr });
  return {
    name: BERTH_LABEL,
    flags: [...clusterFlags('<host underlay IP>'), '--dns', INTERNET_ADDR],
    a: host(1),
    b: host(2),
    dir: cluster.dir,
    clusterName: cluster.name,
    logs: () => cluster.daemonLogs(3000),
    destroy: () => cluster.destroy(),
  };
}
