import { InvalidParameterError } from '../../util/errors.js';
import { parseMtu } from '../../util/mtu.js';
import type { NetworkSpec } from '../../driverapi/contract.js';
import { DEFAULT_BRIDGE_NAME, type DaemonConfig } from '../../engine/config.js';

// com.docker.network.* options are parsed here, once, into the typed BridgeConfig stored
// with the network: no other code reads the raw option map.

export const OPT = {
  name: 'com.docker.network.bridge.name',
  icc: 'com.docker.network.bridge.enable_icc',
  masquerade: 'com.docker.network.bridge.enable_ip_masquerade',
  hostBindingIpv4: 'com.docker.network.bridge.host_binding_ipv4',
  defaultBridge: 'com.docker.network.bridge.default_bridge',
  mtu: 'com.docker.network.driver.mtu',
} as const;

const KNOWN = new Set<string>(Object.values(OPT));

/** berth's own option: `routed` makes a network without a bridge (see routed.ts) */
export const MODE_OPT = 'berth.network.mode';

/** The host ends of a routed network's veths are named ROUTED_LINK_PREFIX + 6 hex of the network id + 7 hex of the endpoint's. */
export const ROUTED_LINK_PREFIX = 'rt';
export const ROUTED_LINK = /^rt[0-9a-f]{13}$/;

export interface BridgeConfig {
  /** the Linux bridge ('' on a routed network: it has none) */
  bridgeName: string;
  /**
   * routed (-o berth.network.mode=routed): no bridge and so no 1,023-port limit; each
   * container's veth ends on the host, which routes to it. Its host ends' names begin
   * with `hostPrefix`.
   */
  routed?: { hostPrefix: string };
  /** the bridge was there before berth (-b): never created nor deleted by berth */
  external: boolean;
  mtu: number;
  icc: boolean;
  masquerade: boolean;
  hostBindingIpv4: string;
}

export function parseBridgeConfig(spec: NetworkSpec, config: DaemonConfig): BridgeConfig {
  for (const key of Object.keys(spec.options)) {
    if ((key.startsWith('com.docker.network.') && !KNOWN.has(key)) || (key.startsWith('berth.') && key !== MODE_OPT)) {
      throw new InvalidParameterError(`unsupported bridge option ${key}`);
    }
  }
  const o = spec.options;
  const mode = o[MODE_OPT] ?? 'bridge';
  if (mode !== 'bridge' && mode !== 'routed') throw new InvalidParameterError(`invalid value for ${MODE_OPT}: "${mode}" (expected bridge or routed)`);
  if (mode === 'routed') {
    if (spec.builtin) throw new InvalidParameterError('the default bridge network cannot be routed');
    if (o[OPT.name] !== undefined) throw new InvalidParameterError(`a routed network has no bridge: ${OPT.name} does not apply`);
  }
  const routed = mode === 'routed' ? { hostPrefix: `${ROUTED_LINK_PREFIX}${spec.id.slice(0, 6)}` } : undefined;
  const bridgeName = routed ? '' : o[OPT.name] ?? (spec.builtin ? config.bridge || DEFAULT_BRIDGE_NAME : `br-${spec.id.slice(0, 12)}`);
  if (!routed && (Buffer.byteLength(bridgeName) > 15 || !/^[a-zA-Z0-9_.-]+$/.test(bridgeName))) {
    throw new InvalidParameterError(`invalid bridge name "${bridgeName}": at most 15 characters of [a-zA-Z0-9_.-]`);
  }
  return {
    bridgeName,
    ...(routed ? { routed } : {}),
    external: spec.builtin && !!config.bridge,
    mtu: o[OPT.mtu] !== undefined ? parseMtu(o[OPT.mtu]) : config.mtu,
    icc: parseBool(OPT.icc, o[OPT.icc], spec.builtin ? config.icc : true),
    masquerade: parseBool(OPT.masquerade, o[OPT.masquerade], true),
    hostBindingIpv4: o[OPT.hostBindingIpv4] ?? config.ip,
  };
}

function parseBool(key: string, value: string | undefined, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new InvalidParameterError(`invalid value for ${key}: "${value}" (expected true or false)`);
}
