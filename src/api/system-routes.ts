import os from 'node:os';
import type { Controller } from '../engine/controller.js';
import type { ImageStore } from '../images/store.js';
import { eventFilter } from './filters/events.js';
import { Filters } from './filters/filters.js';
import { API_VERSION, MIN_API_VERSION, type Router } from './router.js';
import { commonHeaders, SERVER_VERSION } from './server.js';
import { buildTopology } from '../engine/topology.js';
import { explain } from '../engine/explain/explain.js';
import { World } from '../engine/explain/world.js';
import { InvalidParameterError } from '../util/errors.js';

// _ping, version, info, events, and berth's own /berth/firewall, /berth/graph and /berth/explain.

export function systemRoutes(router: Router, ctl: Controller, images?: ImageStore): void {
  router.add('GET', '/_ping', (_req, { res }) => {
    // during the start-up sweep reads are served and writes wait: said, for whoever must know (the lab)
    const held: Record<string, string> = router.writesHeld ? { 'Berth-Writes': 'held until the start-up sweep ends' } : {};
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Builder-Version': '1', Swarm: 'inactive', ...held });
    res.end(res.req.method === 'HEAD' ? undefined : 'OK');
  });

  router.add('GET', '/version', () => ({
    status: 200,
    body: {
      Platform: { Name: 'berth' },
      Components: [{ Name: 'Engine', Version: SERVER_VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch() } }],
      Version: SERVER_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: os.release(),
      BuildTime: '',
    },
  }));

  router.add('GET', '/info', async () => {
    const warnings = ctl.config.iptables ? [] : ['WARNING: --iptables=false: berth does not program any firewall rules'];
    warnings.push(...(await ctl.neighbours.warnings()), ...(await ctl.processLimits.warnings()));
    const all = [...ctl.state.containers.values()];
    const running = all.filter((c) => c.state.status === 'running').length;
    return {
      status: 200,
      body: {
        ID: ctl.engineId(),
        Containers: all.length,
        ContainersRunning: running,
        ContainersPaused: 0,
        ContainersStopped: all.length - running,
        Images: images?.list().length ?? 0,
        Driver: 'berth',
        DockerRootDir: ctl.config.dataRoot,
        Plugins: { Volume: [], Network: ctl.drivers.names(), Authorization: null, Log: [] },
        IPv4Forwarding: ctl.config.ipForward,
        BridgeNfIptables: false,
        BridgeNfIp6tables: false,
        Name: os.hostname(),
        NCPU: os.cpus().length,
        MemTotal: os.totalmem(),
        OperatingSystem: 'Linux',
        OSType: 'linux',
        Architecture: os.machine(),
        KernelVersion: os.release(),
        ServerVersion: SERVER_VERSION,
        // as dockerd 20.10 (omitted without a store); the advertise address as resolved
        ...(ctl.config.cluster && { ClusterStore: ctl.config.cluster.store.url, ClusterAdvertise: ctl.config.cluster.advertise }),
        // as dockerd outside any swarm shows it (docker info and the SDKs read these keys)
        Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
        Warnings: warnings,
      },
    };
  });

  router.add('GET', '/events', (req, { res }) => {
    const include = eventFilter(Filters.parse(req.query.get('filters')));
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json' });
    res.flushHeaders(); // as dockerd: a client sees the 200 once it is subscribed
    const unsubscribe = ctl.events.subscribe((ev) => include(ev) && res.write(JSON.stringify(ev) + '\n'));
    res.on('close', unsubscribe);
  });

  router.add('GET', '/berth/firewall', async () => ({ status: 200, body: await ctl.describeFirewall() }));
  // the whole network of this host as data (berth system graph, the topology page)
  router.add('GET', '/berth/graph', () => ({ status: 200, body: buildTopology(ctl.state, ctl.networks, ctl.globalEndpoints?.remoteEndpoints()) }));
  // a packet's path and verdict (berth explain SRC DST), against the live ruleset and routes
  router.add('GET', '/berth/explain', async (req) => {
    const world = await World.read(ctl.state, ctl.networks, ctl.kernel, ctl.globalEndpoints?.remoteEndpoints() ?? []);
    const family = req.query.get('family');
    if (family !== null && family !== '4' && family !== '6') throw new InvalidParameterError(`invalid family ${JSON.stringify(family)}: 4 or 6`);
    return { status: 200, body: await explain(world, req.query.get('src') ?? '', req.query.get('dst') ?? '', family === null ? undefined : (Number(family) as 4 | 6)) };
  });
}

function goArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}
