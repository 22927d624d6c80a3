import { hasLegacyLinks } from './container-files.js';
import type { State } from './state.js';

// Records an older berth wrote, given today's meaning once at start-up, so a data-root
// survives an upgrade with its containers behaving as before:
// - `container:NAME` network modes become `container:<id>` (what create stores now; the
//   in-use check on rm compares ids);
// - `--link` on a user-defined network was kept in HostConfig.Links; it is the endpoint's
//   now (EndpointSettings.Links, as dockerd keeps it), where the resolver reads it;
// - a container made from an image records that image's id (inspect's Image, ImageID):
//   older ones get the id their image name stands for now (recordImageIds).

export function upgradeRecords(state: State): void {
  for (const c of [...state.containers.values()]) {
    const mode = c.hostConfig.networkMode;
    if (mode.startsWith('container:') && !state.containers.has(mode.slice('container:'.length))) {
      const target = state.containerNamed(mode.slice('container:'.length));
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
