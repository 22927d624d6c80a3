import { InvalidParameterError } from '../../util/errors.js';
import type { DaemonConfig } from '../../engine/config.js';
import type { NetworkRecord } from '../../store/records.js';

// com.docker.network.* options are parsed here, once, into typed values: no other layer
// reads the raw option map.

export const OPT = {
  name: 'com.docker.network.bridge.name',
  icc: 'com.docker.network.bridge.enable_icc',
  masquerade: 'com.docker.network.bridge.enable_ip_masquerade',
  hostBindingIpv4: 'com.docker.network.bridge.host_binding_ipv4',
  defaultBridge: 'com.docker.network.bridge.default_bridge',
  mtu: 'com.docker.network.driver.mtu',
} as const;

const KNOWN = new Set<string>(Object.values(OPT));

export interface BridgeOptions {
  bridgeName: string;
  mtu: number;
  icc: boolean;
  masquerade: boolean;
  hostBindingIpv4: string;
}

export function parseBridgeOptions(n: NetworkRecord, config: DaemonConfig): BridgeOptions {
  for (const key of Object.keys(n.options)) {
    if (key.startsWith('com.docker.network.') && !KNOWN.has(key)) {
      throw new InvalidParameterError(`unsupported bridge option ${key}`);
    }
  }
  const o = n.options;
  return {
    bridgeName: n.bridgeName ?? o[OPT.name] ?? `br-${n.id.slice(0, 12)}`,
    mtu: o[OPT.mtu] !== undefined ? parseMtu(o[OPT.mtu]) : config.mtu,
    icc: parseBool(OPT.icc, o[OPT.icc], n.builtin ? config.icc : true),
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

export function parseMtu(value: string): number {
  const mtu = Number(value);
  if (!/^\d+$/.test(value) || mtu < 68 || mtu > 65535) {
    throw new InvalidParameterError(`invalid MTU "${value}": it must be an integer between 68 and 65535`);
  }
  return mtu;
}
