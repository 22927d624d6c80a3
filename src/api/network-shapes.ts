import { ipv4Of, ipv6Of, ipv6PrefixOf, staticIpv4Of, staticIpv6Of, ZERO_TIME, type ContainerRecord, type EndpointRecord, type NetworkRecord } from '../store/records.js';
import type { State } from '../engine/state.js';
import { parseCidr } from '../util/ip.js';
import { API_VERSION, compareVersions } from './router.js';
import { isUserDefined } from '../engine/container-files.js';

// Network and endpoint records → the Docker Engine API's JSON shapes, key by key as
// dockerd 20.10 answers (test/fixtures/dockerd-20.10/network-*.json, protocols.md A.4).
// Maps that Docker always prints ({} never omitted) stay {}.


export function networkSummary(n: NetworkRecord): Record<string, unknown> {
  return {
    Name: n.name,
    Id: n.id,
    Created: n.builtin && n.driver !== 'bridge' ? ZERO_TIME : n.created,
    Scope: n.scope,
    Driver: n.driver,
    // no EnableIPv4 key: it came with API 1.48 (Docker 28) and berth speaks 1.47; an
    // IPv6-only network shows as one by its IPAM.Config holding only an IPv6 subnet
    EnableIPv6: n.enableIPv6,
    IPAM: {
      Driver: n.ipamDriver,
      // as given (null when the client sent none, as dockerd); null for the predefined networks
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
  for (const ep of state.endpointsOf({ networkId: n.id })) {
    const c = state.containers.get(ep.containerId);
    if (!c || (c.state.status !== 'running' && n.driver !== 'host' && n.driver !== 'null')) continue;
    containers[c.id] = {
      Name: c.name,
      EndpointID: ep.id,
      MacAddress: ep.mac,
      IPv4Address: ep.addresses.find((a) => !a.includes(':')) ?? '',
      IPv6Address: ep.addresses.find((a) => a.includes(':')) ?? '',
    };
  }
  const { Containers: _omit, Options, Labels, ...rest } = networkSummary(n);
  return { ...rest, Containers: containers, Options, Labels };
}

/** Has the container run at least once? dockerd fills NetworkID and the short-id alias at the first start. */
function hasStarted(c: ContainerRecord): boolean {
  return c.state.startedAt !== ZERO_TIME;
}

/**
 * The MAC an endpoint shows while it has no interface. dockerd 20.10 shows the one given
 * in the endpoint's own settings (EndpointsConfig, connect --driver-opt's sibling fields),
 * not Config.MacAddress (--mac-address), which berth also hands to the primary endpoint.
 */
function plannedMac(ep: EndpointRecord, c: ContainerRecord, version: string): string {
  if (!ep.staticMac) return '';
  const fromConfig = compareVersions(version, '1.44') < 0 && ep.staticMac === c.config.macAddress;
  return fromConfig ? '' : ep.staticMac;
}

function ipamConfig(ep: EndpointRecord): Record<string, unknown> | null {
  const ipv4 = staticIpv4Of(ep);
  const ipv6 = staticIpv6Of(ep);
  if (!ipv4 && !ipv6 && !ep.linkLocalIps?.length) return null;
  return {
    ...(ipv4 ? { IPv4Address: ipv4 } : {}),
    ...(ipv6 ? { IPv6Address: ipv6 } : {}),
    ...(ep.linkLocalIps?.length ? { LinkLocalIPs: ep.linkLocalIps } : {}),
  };
}

/**
 * EndpointSettings as the client's API version expects: from 1.44 on, DNSNames lists what
 * the endpoint resolves by; before, user-defined networks carry the short ID among the
 * Aliases (from the first start on) and there is no DNSNames key at all. Before the
 * container runs, what was asked for (IPAMConfig, Aliases, DriverOpts, a MAC) shows and
 * the operational fields are empty, as dockerd shows them.
 */
export function endpointSettings(ep: EndpointRecord, n: NetworkRecord, c: ContainerRecord, version = API_VERSION): Record<string, unknown> {
  const cfg = n.ipamConfig.find((c) => !c.subnet.includes(':'));
  const cfg6 = n.ipamConfig.find((c) => c.subnet.includes(':'));
  const ip6 = ipv6Of(ep);
  const live = ep.addresses.length > 0;
  const userDefined = isUserDefined(n);
  const modern = compareVersions(version, '1.44') >= 0;
  const withShortId = userDefined && !modern && (live || hasStarted(c));
  const aliases = withShortId ? [...ep.aliases, c.id.slice(0, 12)] : ep.aliases;
  const out: Record<string, unknown> = {
    IPAMConfig: ipamConfig(ep),
    Links: ep.links.length ? ep.links : null,
    Aliases: aliases.length ? aliases : null,
    // a stop clears it, as dockerd 20.10 does, even a static one (back at the next start)
    MacAddress: live ? ep.mac : hasStarted(c) ? '' : plannedMac(ep, c, version),
    DriverOpts: ep.driverOpts && Object.keys(ep.driverOpts).length ? ep.driverOpts : null,
    NetworkID: live || hasStarted(c) ? n.id : '',
    EndpointID: live ? ep.id : '',
    Gateway: live && cfg?.gateway ? cfg.gateway : '',
    IPAddress: ipv4Of(ep),
    IPPrefixLen: live && cfg ? parseCidr(cfg.subnet).prefix : 0,
    IPv6Gateway: ip6 && cfg6?.gateway ? cfg6.gateway : '',
    GlobalIPv6Address: ip6,
    GlobalIPv6PrefixLen: ip6 ? ipv6PrefixOf(ep) : 0,
  };
  if (modern) out.DNSNames = userDefined ? [c.name, ...ep.aliases, c.id.slice(0, 12)] : null;
  return out;
}

/**
 * An endpoint in GET /containers/json: dockerd 20.10 copies the operational fields and
 * the IPAMConfig only; Links, Aliases and DriverOpts are null there.
 */
export function endpointSummary(ep: EndpointRecord, n: NetworkRecord, c: ContainerRecord, version = API_VERSION): Record<string, unknown> {
  return { ...endpointSettings(ep, n, c, version), Links: null, Aliases: null, DriverOpts: null };
}
