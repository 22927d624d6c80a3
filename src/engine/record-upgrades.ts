import type { EndpointRecord, NetworkRecord } from '../store/records.js';
import { parseCidr } from '../util/ip.js';
import { hasLegacyLinks } from './container-files.js';
import type { State } from './state.js';
import { sharedWith } from './network-mode.js';

// Records an older berth wrote, given today's meaning once at start-up, so a data-root
// survives an upgrade with its containers behaving as before:
// - `container:NAME` network modes become `container:<id>` (what create stores now; the
//   in-use check on rm compares ids);
// - `--link` on a user-defined network was kept in HostConfig.Links; it is the endpoint's
//   now (EndpointSettings.Links, as dockerd keeps it), where the resolver reads it;
// - a container made from an image records that image's id (inspect's Image, ImageID):
//   older ones get the id their image name stands for now (recordImageIds);
// - schema 2 (the driver contract): a network keeps its driver's parsed config
//   (driverConfig; the bridge's name was a field of its own), an endpoint a list of
//   addresses of either family (it had an `ipv4` field) and its outside link's name as
//   linkName (hostIfName).

export const SCHEMA_VERSION = '2';

/** The fields schema 1 had, on records read from an older data-root. */
interface LegacyNetwork {
  bridgeName?: string;
  externalBridge?: boolean;
}
interface LegacyEndpoint {
  ipv4?: string;
  staticIpv4?: string;
  hostIfName?: string;
}

/** `configOf` is the network's driver's parseConfig, run on the stored options. */
export function upgradeRecords(state: State, configOf: (n: NetworkRecord) => unknown): void {
  if (state.store.getMeta('schema') !== SCHEMA_VERSION) {
    state.store.transaction(() => {
      for (const n of [...state.networks.values()]) upgradeNetwork(state, n, configOf);
      for (const e of [...state.endpoints.values()]) upgradeEndpoint(state, e);
      state.store.setMeta('schema', SCHEMA_VERSION);
    });
  }
  for (const c of [...state.containers.values()]) {
    const shared = sharedWith(c.hostConfig.networkMode);
    if (shared && !state.containers.has(shared)) {
      const target = state.containerNamed(shared);
      if (target) state.saveContainer({ ...c, hostConfig: { ...c.hostConfig, networkMode: `container:${target.id}` } });
    }
    if (c.hostConfig.links.length && !hasLegacyLinks(c, state)) moveLinksToEndpoint(state, c.id);
  }
}

function moveLinksToEndpoint(state: State, containerId: string): void {
  const c = state.containers.get(containerId)!;
  const net = [...state.networks.values()].find((n) => n.name === c.hostConfig.networkMode || n.id === c.hostConfig.networkMode);
  const ep = net && state.endpointsOf({ containerId, networkId: net.id })[0];
  if (!ep) return;
  const links = [...new Set([...ep.links, ...c.hostConfig.links])];
  state.saveContainerWithEndpoints({ ...c, hostConfig: { ...c.hostConfig, links: [] } }, [{ ...ep, links }]);
}

/**
 * Containers of an older berth, made from an image, get its id recorded once: `idOf` says
 * which image id a name stands for now (the daemon asks its image store; a name no longer
 * known leaves the record as it was).
 */
export function recordImageIds(state: State, idOf: (image: string) => string | undefined): void {
  for (const c of [...state.containers.values()]) {
    if (c.config.imageId || !c.config.image || c.hostConfig.rootfs) continue;
    const id = idOf(c.config.image);
    if (id) state.saveContainer({ ...c, config: { ...c.config, imageId: `sha256:${id}` } });
  }
}

function upgradeNetwork(state: State, n: NetworkRecord & LegacyNetwork, configOf: (n: NetworkRecord) => unknown): void {
  if (n.driverConfig !== undefined && n.bridgeName === undefined && n.externalBridge === undefined) return;
  const { bridgeName: _b, externalBridge: _e, ...rest } = n;
  state.saveNetwork({ ...rest, driverConfig: n.driverConfig ?? configOf(rest as NetworkRecord) });
}

function upgradeEndpoint(state: State, e: EndpointRecord & LegacyEndpoint): void {
  if (Array.isArray(e.addresses) && e.ipv4 === undefined && e.staticIpv4 === undefined && e.hostIfName === undefined) return;
  const { ipv4, staticIpv4, hostIfName, ...rest } = e;
  const subnet = state.networks.get(e.networkId)?.ipamConfig[0]?.subnet;
  const prefix = subnet ? parseCidr(subnet).prefix : 32;
  state.saveEndpoint({
    ...rest,
    addresses: Array.isArray(e.addresses) ? e.addresses : ipv4 ? [`${ipv4}/${prefix}`] : [],
    staticIps: e.staticIps ?? (staticIpv4 ? [staticIpv4] : undefined),
    linkName: e.linkName ?? hostIfName ?? '',
  });
}
