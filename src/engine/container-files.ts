import { join } from 'node:path';
import type { BindMount } from '../runtime/types.js';
import { writeEtcFiles } from '../runtime/etc-files.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../store/records.js';
import { ConflictError, InvalidParameterError } from '../util/errors.js';
import type { DaemonConfig } from './config.js';
import { linkEnv, linkHostNames, parseLink, type LinkSpec } from './links.js';
import type { State } from './state.js';

// What a container sees of names at start: its /etc/hostname, /etc/hosts and
// /etc/resolv.conf (bind-mounted from its state dir) and the link variables.

export interface SandboxFiles {
  binds: BindMount[];
  /** extra environment (legacy link variables) */
  env: string[];
}

export const ETC_FILES = ['hostname', 'hosts', 'resolv.conf'] as const;

export function isUserDefined(n: NetworkRecord): boolean {
  return !n.builtin && n.driver === 'bridge';
}

export function sandboxFiles(c: ContainerRecord, state: State, config: DaemonConfig, stateDirOf: (id: string) => string, embeddedDns: boolean): SandboxFiles {
  const mode = c.hostConfig.networkMode;
  if (mode.startsWith('container:')) {
    // container mode shares the other container's files, as it shares its network
    const target = state.findContainer(mode.slice('container:'.length));
    const dir = stateDirOf(target.id);
    return { binds: ETC_FILES.map((f) => ({ source: join(dir, f), target: `/etc/${f}` })), env: [] };
  }
  const eps = state.endpointsOf({ containerId: c.id }).filter((e) => e.ipv4);
  const nets = eps.map((e) => state.networks.get(e.networkId)).filter((n): n is NetworkRecord => !!n);
  const onDefaultBridge = nets.some((n) => n.builtin && n.driver === 'bridge');
  const links = c.hostConfig.links.map(parseLink).map((l) => resolveLink(c, l, state));
  const legacy = onDefaultBridge ? links : [];
  const dnsNet = embeddedDns ? nets.find((n) => isUserDefined(n) && n.ipamConfig[0]?.gateway) : undefined;
  const binds = writeEtcFiles({
    dir: stateDirOf(c.id),
    hostname: c.config.hostname || c.id.slice(0, 12),
    hostnameGiven: !!c.config.hostname,
    addresses: eps.map((e) => e.ipv4),
    names: [c.name],
    extraHosts: c.hostConfig.extraHosts.map(parseExtraHost),
    links: legacy.map((l) => ({ ip: l.ip, names: linkHostNames(l.spec, l.target) })),
    embeddedDns: dnsNet?.ipamConfig[0]?.gateway,
    dns: c.hostConfig.dns.length ? c.hostConfig.dns : config.dns,
    dnsSearch: c.hostConfig.dnsSearch.length ? c.hostConfig.dnsSearch : config.dnsSearch,
    dnsOptions: c.hostConfig.dnsOptions.length ? c.hostConfig.dnsOptions : config.dnsOptions,
    hostMode: mode === 'host',
  });
  return { binds, env: legacy.flatMap((l) => linkEnv(c, l.spec, l.target, l.ip)) };
}

export interface ResolvedLink {
  spec: LinkSpec;
  target: ContainerRecord;
  /** the target's address on a network both containers are on */
  ip: string;
}

/** A link's target must run and share a network with the linking container. */
export function resolveLink(c: ContainerRecord, spec: LinkSpec, state: State): ResolvedLink {
  const target = state.findContainer(spec.name);
  if (target.state.status !== 'running') throw new ConflictError(`Cannot link to a non running container: /${target.name} AS /${c.name}/${spec.alias}`);
  const mine = new Set(state.endpointsOf({ containerId: c.id }).map((e) => e.networkId));
  const shared = state.endpointsOf({ containerId: target.id }).find((e: EndpointRecord) => mine.has(e.networkId) && e.ipv4);
  if (!shared) throw new InvalidParameterError(`cannot link to /${target.name}: it is not on a network of /${c.name}`);
  return { spec, target, ip: shared.ipv4 };
}

export function parseExtraHost(entry: string): { name: string; ip: string } {
  const i = entry.indexOf(':');
  if (i <= 0 || i === entry.length - 1) throw new InvalidParameterError(`invalid argument "${entry}" for "--add-host": expected NAME:IP`);
  return { name: entry.slice(0, i), ip: entry.slice(i + 1) };
}
