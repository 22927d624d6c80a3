// HostConfig.NetworkMode, as dockerd keeps it ("default", "bridge", "host", "none",
// "container:<id>", or a network's name or id), read in one place.

export type NetworkMode =
  /** the daemon's own network namespace */
  | { kind: 'host' }
  /** a namespace of its own with lo only */
  | { kind: 'none' }
  /** another container's namespace (its id as stored; a name in records of older berths) */
  | { kind: 'container'; target: string }
  /** a namespace of its own on a network: "default" is the predefined "bridge" */
  | { kind: 'network'; network: string };

const CONTAINER = 'container:';

export function parseNetworkMode(mode: string): NetworkMode {
  if (mode === 'host') return { kind: 'host' };
  if (mode === 'none') return { kind: 'none' };
  if (mode.startsWith(CONTAINER)) return { kind: 'container', target: mode.slice(CONTAINER.length) };
  return { kind: 'network', network: !mode || mode === 'default' ? 'bridge' : mode };
}

/** The container whose namespace this mode shares, if any. */
export function sharedWith(mode: string): string | undefined {
  const m = parseNetworkMode(mode);
  return m.kind === 'container' ? m.target : undefined;
}

/** The network a mode puts the container on (its primary network), if any. */
export function primaryNetwork(mode: string): string | undefined {
  const m = parseNetworkMode(mode);
  return m.kind === 'network' ? m.network : undefined;
}
