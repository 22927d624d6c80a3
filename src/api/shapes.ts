import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../store/records.js';
import type { State } from '../engine/state.js';
import { parseCidr } from '../util/ip.js';
import { API_VERSION, compareVersions } from './router.js';
import { isUserDefined } from '../engine/container-files.js';
import { humanDuration } from '../util/human-duration.js';
import { networkSettingsPorts } from '../portmap/format.js';
import { exposedKeys, fromPortBindings } from '../portmap/spec.js';

// Records → the Docker Engine API's JSON shapes (protocols.md A.4). Maps that Docker
// always prints ({} never omitted) stay {}.

const ZERO_TIME = '0001-01-01T00:00:00Z';

export function networkSummary(n: NetworkRecord): Record<string, unknown> {
  return {
    Name: n.name,
    Id: n.id,
    Created: n.builtin && n.driver !== 'bridge' ? ZERO_TIME : n.created,
    Scope: n.scope,
    Driver: n.driver,
    EnableIPv6: n.enableIPv6,
    IPAM: {
      Driver: n.ipamDriver,
      // dockerd: null for the predefined networks, {} for user-defined ones
      Options: n.builtin && !Object.keys(n.ipamOptions ?? {}).length ? null : n.ipamOptions,
      Config: n.ipamConfig.map((c) => {
        const out: Record<string, unknown> = { Subnet: c.subnet };
        if (c.ipRange) out.IPRange = c.ipRange;
        if (c.gateway) out.Gateway = c.gateway;
        if (c.auxAddresses) out.AuxiliaryAddresses = c.auxAddresses;
        return out;
      }),
    },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: {},
    Options: n.options,
    Labels: n.labels,
  };
}

export function networkInspect(n: NetworkRecord, state: State): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  const prefix = n.ipamConfig[0] ? parseCidr(n.ipamConfig[0].subnet).prefix : 0;
  for (const ep of state.endpointsOf({ networkId: n.id })) {
    const c = state.containers.get(ep.containerId);
    if (!c || (c.state.status !== 'running' && n.driver !== 'host' && n.driver !== 'null')) continue;
    containers[c.id] = {
      Name: c.name,
      EndpointID: ep.id,
      MacAddress: ep.mac,
      IPv4Address: ep.ipv4 ? `${ep.ipv4}/${prefix}` : '',
      IPv6Address: '',
    };
  }
  const { Containers: _omit, Options, Labels, ...rest } = networkSummary(n);
  return { ...rest, Containers: containers, Options, Labels };
}

/**
 * EndpointSettings as the client's API version expects: from 1.44 on, DNSNames lists what
 * the endpoint resolves by; before, user-defined networks carry the short ID among the
 * Aliases and there is no DNSNames key at all.
 */
export function endpointSettings(ep: EndpointRecord, n: NetworkRecord, c: ContainerRecord, version = API_VERSION): Record<string, unknown> {
  const cfg = n.ipamConfig[0];
  const live = !!ep.ipv4;
  const userDefined = isUserDefined(n);
  const modern = compareVersions(version, '1.44') >= 0;
  const aliases = userDefined && !modern ? [...ep.aliases, c.id.slice(0, 12)] : ep.aliases;
  const out: Record<string, unknown> = {
    IPAMConfig: ep.staticIpv4 ? { IPv4Address: ep.staticIpv4 } : null,
    Links: ep.links.length ? ep.links : null,
    Aliases: aliases.length ? aliases : null,
    MacAddress: ep.mac,
    DriverOpts: null,
    NetworkID: n.id,
    EndpointID: live ? ep.id : '',
    Gateway: live && cfg?.gateway ? cfg.gateway : '',
    IPAddress: ep.ipv4,
    IPPrefixLen: live && cfg ? parseCidr(cfg.subnet).prefix : 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
  };
  if (modern) out.DNSNames = userDefined ? [c.name, ...ep.aliases, c.id.slice(0, 12)] : null;
  return out;
}

export function containerInspect(c: ContainerRecord, state: State, version = API_VERSION): Record<string, unknown> {
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
  return {
    Id: c.id,
    Created: c.created,
    Path: c.config.cmd[0] ?? '',
    Args: c.config.cmd.slice(1),
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
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: '',
    Name: `/${c.name}`,
    RestartCount: 0,
    Driver: 'berth',
    Platform: 'linux',
    HostConfig: {
      NetworkMode: c.hostConfig.networkMode,
      PortBindings: c.hostConfig.portBindings,
      PublishAllPorts: c.hostConfig.publishAllPorts,
      AutoRemove: c.hostConfig.autoRemove,
      Dns: c.hostConfig.dns,
      DnsOptions: c.hostConfig.dnsOptions,
      DnsSearch: c.hostConfig.dnsSearch,
      ExtraHosts: c.hostConfig.extraHosts.length ? c.hostConfig.extraHosts : null,
      Links: c.hostConfig.links.length ? c.hostConfig.links : null,
    },
    Config: {
      Hostname: c.config.hostname,
      Domainname: c.config.domainname,
      User: '',
      AttachStdin: c.config.openStdin,
      AttachStdout: true,
      AttachStderr: true,
      // omitted when empty, as dockerd does (templates test it with {{if .Config.ExposedPorts}})
      ...(c.config.exposedPorts.length ? { ExposedPorts: Object.fromEntries(c.config.exposedPorts.map((p) => [p, {}])) } : {}),
      Tty: c.config.tty,
      OpenStdin: c.config.openStdin,
      StdinOnce: c.config.openStdin,
      Env: c.config.env,
      Cmd: c.config.cmd,
      Image: c.config.image,
      WorkingDir: c.config.workdir,
      Labels: c.config.labels,
    },
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
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: primary?.IPAddress ?? '',
      IPPrefixLen: primary?.IPPrefixLen ?? 0,
      IPv6Gateway: '',
      MacAddress: primary?.MacAddress ?? '',
      Networks: networks,
    },
  };
}

/** NetworkSettings.Ports: every exposed or published port, null when not published. */
function portsOf(c: ContainerRecord) {
  return networkSettingsPorts(c.publishedPorts ?? [], exposedKeys(fromPortBindings(c.hostConfig.portBindings), c.config.exposedPorts));
}

export function containerSummary(c: ContainerRecord, state: State, version = API_VERSION): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  for (const ep of state.endpointsOf({ containerId: c.id })) {
    const n = state.networks.get(ep.networkId);
    // dockerd's list copies a subset of each endpoint (its container view): no aliases, no links
    if (n) networks[n.name] = { ...endpointSettings(ep, n, c, version), Aliases: null, Links: null };
  }
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.config.image,
    ImageID: c.config.imageId ?? '',
    Command: listCommand(c.config.cmd),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: (c.publishedPorts ?? []).map((p) => ({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto })),
    Labels: c.config.labels,
    State: c.state.status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.hostConfig.networkMode },
    NetworkSettings: { Networks: networks },
    Mounts: [],
  };
}

/** docker ps's STATUS column ("Up 5 seconds", "Exited (0) 3 seconds ago", "Created"). */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const st = c.state;
  if (st.status === 'running') return `Up ${humanDuration(now - Date.parse(st.startedAt))}`;
  if (st.status === 'exited') return `Exited (${st.exitCode}) ${humanDuration(now - Date.parse(st.finishedAt))} ago`;
  if (st.status === 'created') return 'Created';
  return st.status;
}

/** dockerd's list Command: the path, then the arguments, those with a space in single quotes. */
function listCommand(argv: string[]): string {
  const [path = '', ...args] = argv;
  return [path, ...args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
}
