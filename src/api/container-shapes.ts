import { join } from 'node:path';
import { ZERO_TIME, type ContainerRecord } from '../store/records.js';
import type { State } from '../engine/state.js';
import { API_VERSION } from './router.js';
import { humanDuration } from '../util/human-duration.js';
import { networkSettingsPorts } from '../portmap/format.js';
import { exposedKeys, fromPortBindings, parsePortKey } from '../portmap/spec.js';
import { configShape, hostConfigShape } from './container-defaults.js';
import { endpointSettings, endpointSummary } from './network-shapes.js';

// Container records → GET /containers/{id}/json and GET /containers/json, with every key
// dockerd 20.10 prints (test/fixtures/dockerd-20.10/container-*.json).

/**
 * `etcDir` is where the container's /etc/hostname, hosts and resolv.conf are written;
 * dockerd shows their paths from the first start on ('' before).
 */
export function containerInspect(c: ContainerRecord, state: State, version = API_VERSION, etcDir = ''): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  let primary: Record<string, unknown> | undefined;
  for (const ep of state.endpointsOf({ containerId: c.id })) {
    const n = state.networks.get(ep.networkId);
    if (!n) continue;
    const s = endpointSettings(ep, n, c, version);
    networks[n.name] = s;
    if (n.name === 'bridge') primary = s;
  }
  const ports = c.state.status === 'running' ? portsOf(c) : {};
  const st = c.state;
  const etc = (file: string) => (etcDir && st.startedAt !== ZERO_TIME ? join(etcDir, file) : '');
  return {
    Id: c.id,
    Created: c.created,
    Path: c.config.cmd[0] ?? '',
    Args: c.config.cmd.slice(1),
    // no Health key: berth runs no health checks (dockerd prints it only for those)
    State: {
      Status: st.status,
      Running: st.status === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: st.status === 'dead',
      Pid: st.pid,
      ExitCode: st.exitCode,
      Error: st.error,
      StartedAt: st.startedAt,
      FinishedAt: st.finishedAt,
    },
    // the image's id, as dockerd: clients look the image up by it (docker-py's container.image)
    Image: c.config.imageId ?? '',
    ResolvConfPath: etc('resolv.conf'),
    HostnamePath: etc('hostname'),
    HostsPath: etc('hosts'),
    // logs are kept in memory: there is no file
    LogPath: '',
    Name: `/${c.name}`,
    RestartCount: 0,
    Driver: 'berth',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: hostConfigShape(c, (t) => (state.containers.get(t) ?? state.containerNamed(t))?.name),
    // the rootfs is an image's directory or the host's, used in place: no layers
    GraphDriver: { Data: null, Name: 'berth' },
    Mounts: [],
    Config: configShape(c),
    NetworkSettings: {
      Bridge: '',
      SandboxID: c.sandboxKey ? c.id : '',
      SandboxKey: c.sandboxKey,
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: ports,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: primary?.EndpointID ?? '',
      Gateway: primary?.Gateway ?? '',
      GlobalIPv6Address: primary?.GlobalIPv6Address ?? '',
      GlobalIPv6PrefixLen: primary?.GlobalIPv6PrefixLen ?? 0,
      IPAddress: primary?.IPAddress ?? '',
      IPPrefixLen: primary?.IPPrefixLen ?? 0,
      IPv6Gateway: primary?.IPv6Gateway ?? '',
      MacAddress: primary?.MacAddress ?? '',
      Networks: networks,
    },
  };
}

/** NetworkSettings.Ports: every exposed or published port, null when not published. */
function portsOf(c: ContainerRecord) {
  return networkSettingsPorts([...(c.publishedPorts ?? []), ...(c.driverPorts ?? [])], exposedKeys(fromPortBindings(c.hostConfig.portBindings), c.config.exposedPorts));
}

/** The list's Ports: a published port per host binding, an exposed one alone ({PrivatePort, Type}). */
function summaryPorts(c: ContainerRecord): Record<string, unknown>[] {
  return Object.entries(portsOf(c)).flatMap(([key, bindings]) => {
    const { port, proto } = parsePortKey(key);
    if (!bindings) return [{ PrivatePort: port, Type: proto }];
    return bindings.map((b) => ({ IP: b.HostIp, PrivatePort: port, PublicPort: Number(b.HostPort), Type: proto }));
  });
}

export function containerSummary(c: ContainerRecord, state: State, version = API_VERSION): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  for (const ep of state.endpointsOf({ containerId: c.id })) {
    const n = state.networks.get(ep.networkId);
    if (n) networks[n.name] = endpointSummary(ep, n, c, version);
  }
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.config.image,
    ImageID: c.config.imageId ?? '',
    Command: listCommand(c.config.cmd),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: c.state.status === 'running' ? summaryPorts(c) : [],
    Labels: c.config.labels,
    State: c.state.status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.hostConfig.networkMode },
    NetworkSettings: { Networks: networks },
    Mounts: [],
  };
}

/** dockerd's list Command: the path, then the arguments, those with a space in single quotes. */
function listCommand(argv: string[]): string {
  const [path = '', ...args] = argv;
  return [path, ...args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
}

/** docker ps's STATUS column ("Up 5 seconds", "Exited (0) 3 seconds ago", "Created"). */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const st = c.state;
  if (st.status === 'running') return `Up ${humanDuration(now - Date.parse(st.startedAt))}`;
  if (st.status === 'exited') return `Exited (${st.exitCode}) ${humanDuration(now - Date.parse(st.finishedAt))} ago`;
  if (st.status === 'created') return 'Created';
  return st.status;
}
