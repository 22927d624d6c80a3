import { join } from 'node:path';
import type { BindMount } from '../runtime/types.js';
import { EMBEDDED_DNS_ADDRESS } from '../dns/index.js';
import { writeEtcFiles } from '../runtime/etc-files.js';
import { ipv4Of, ipv6Of, type ContainerRecord, type EndpointRecord, type NetworkRecord } from '../store/records.js';
import { ConflictError, InvalidParameterError } from '../util/errors.js';
import type { DaemonConfig } from './config.js';
import { linkEnv, linkHostNames, parseLink, type LinkSpec } from './links.js';
import type { State } from './state.js';
import { parseNetworkMode } from './network-mode.js';
import { checkWord } from './file-values.js';
import { isIP } from 'node:net';

// What a container sees of names at start: its /etc/hostname, /etc/hosts and
// /etc/resolv.conf (bind-mounted from its state dir) and the link variables.

export interface SandboxFiles {
  binds: BindMount[];
  /** extra environment (legacy link variables) */
  env: string[];
}

export const ETC_FILES = ['hostname', 'hosts', 'resolv.conf'] as const;

/**
 * Docker's "user-defined network": any but the predefined ones (bridge, host, none). Every
 * one serves names, aliases and PTR through the embedded resolver and takes --ip,
 * whatever its driver.
 */
export function isUserDefined(n: NetworkRecord): boolean {
  return !n.builtin;
}

/** The predefined "bridge" network: legacy links, no embedded DNS. */
export function isDefaultBridge(n: NetworkRecord | undefined): boolean {
  return !!n?.builtin && n.name === 'bridge';
}

/**
 * `strict` (at start): every legacy link target must run, as dockerd checks; a refresh of
 * a running container's files (a link removed) leaves out the targets that do not run.
 */
export function sandboxFiles(c: ContainerRecord, state: State, config: DaemonConfig, stateDirOf: (id: string) => string, embeddedDns: boolean, strict = true): SandboxFiles {
  const mode = parseNetworkMode(c.hostConfig.networkMode);
  if (mode.kind === 'container') {
    // container mode shares the other container's files, as it shares its network
    const target = state.findContainer(mode.target);
    const dir = stateDirOf(target.id);
    return { binds: ETC_FILES.map((f) => ({ source: join(dir, f), target: `/etc/${f}` })), env: [] };
  }
  const eps = state.endpointsOf({ containerId: c.id }).filter((e) => e.addresses.length);
  const nets = eps.map((e) => state.networks.get(e.networkId)).filter((n): n is NetworkRecord => !!n);
  const onDefaultBridge = nets.some(isDefaultBridge);
  const legacy = onDefaultBridge ? legacyLinks(c, state, strict) : [];
  const servesNames = embeddedDns && nets.some(isUserDefined);
  const binds = writeEtcFiles({
    dir: stateDirOf(c.id),
    hostname: c.config.hostname || c.id.slice(0, 12),
    hostnameGiven: !!c.config.hostname,
    // each address on its own line, IPv6 ones after the IPv4 ones (as dockerd writes them)
    addresses: [...eps.map(ipv4Of), ...eps.map(ipv6Of)].filter(Boolean),
    names: [c.name],
    extraHosts: c.hostConfig.extraHosts.map(parseExtraHost),
    links: legacy.map((l) => ({ ip: l.ip, names: linkHostNames(l.spec, l.target) })),
    embeddedDns: servesNames ? EMBEDDED_DNS_ADDRESS : undefined,
    dns: c.hostConfig.dns?.length ? c.hostConfig.dns : config.dns,
    dnsSearch: c.hostConfig.dnsSearch?.length ? c.hostConfig.dnsSearch : config.dnsSearch,
    dnsOptions: c.hostConfig.dnsOptions?.length ? c.hostConfig.dnsOptions : config.dnsOptions,
    ipv6: eps.some((e) => ipv6Of(e)),
    hostMode: mode.kind === 'host',
  });
  return { binds, env: legacy.flatMap((l) => linkEnv(c, l.spec, l.target, l.ip)) };
}

export interface ResolvedLink {
  spec: LinkSpec;
  target: ContainerRecord;
  /** the target's address on the default bridge */
  ip: string;
}

/**
 * Legacy links: a container whose network mode is the default bridge (or host, none) links
 * to containers on the default bridge; on a user-defined network mode links are DNS aliases
 * only (dns-observer.ts), and their targets may not exist yet. dockerd's rule.
 */
export function hasLegacyLinks(c: { hostConfig: { networkMode: string } }, state: State): boolean {
  const mode = parseNetworkMode(c.hostConfig.networkMode);
  if (mode.kind !== 'network') return true;
  try {
    return !isUserDefined(state.findNetwork(mode.network));
  } catch {
    return false; // its network is gone: the container cannot start anyway
  }
}

/** The container's legacy links, each with its target's address on the default bridge; `strict`: see sandboxFiles. */
export function legacyLinks(c: ContainerRecord, state: State, strict = true): ResolvedLink[] {
  if (!hasLegacyLinks(c, state)) return [];
  const out: ResolvedLink[] = [];
  for (const spec of c.hostConfig.links.map(parseLink)) {
    try {
      out.push(resolveLink(c, spec, state));
    } catch (err) {
      if (strict) throw err; // else: a target stopped or gone since has no address to show
    }
  }
  return out;
}

/** A legacy link's target must run and be on the default bridge (messages as dockerd's). */
function resolveLink(c: ContainerRecord, spec: LinkSpec, state: State): ResolvedLink {
  const target = state.findContainer(spec.name);
  if (target.state.status !== 'running') throw new ConflictError(`Cannot link to a non running container: /${target.name} AS /${c.name}/${spec.alias}`);
  const onBridge = state.endpointsOf({ containerId: target.id }).find((e: EndpointRecord) => ipv4Of(e) && isDefaultBridge(state.networks.get(e.networkId)));
  if (!onBridge) throw new InvalidParameterError(`Cannot link to /${target.name}, as it does not belong to the default network`);
  return { spec, target, ip: ipv4Of(onBridge) };
}

export function parseExtraHost(entry: string): { name: string; ip: string } {
  const i = entry.indexOf(':');
  if (i <= 0 || i === entry.length - 1) throw new InvalidParameterError(`invalid argument "${entry}" for "--add-host": expected NAME:IP`);
  const name = entry.slice(0, i);
  const ip = entry.slice(i + 1).replace(/^\[(.*)\]$/, '$1');
  checkWord('--add-host name', name);
  if (isIP(ip) === 0) throw new InvalidParameterError(`invalid argument "${entry}" for "--add-host": invalid IP address ${JSON.stringify(ip)}`);
  return { name, ip };
}
