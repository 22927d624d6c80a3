import type { NetworkSpec } from '../../driverapi/contract.js';
import { InvalidParameterError } from '../../util/errors.js';

// A point-to-point network's options, parsed once at create.

export const OPT = {
  mtu: 'com.docker.network.driver.mtu',
} as const;

export interface PtpConfig {
  /** the MTU of both ends (the kernel's 1500 when not given) */
  mtu?: number;
}

export function parsePtpConfig(spec: NetworkSpec): PtpConfig {
  for (const key of Object.keys(spec.options)) {
    if (key !== OPT.mtu && (key.startsWith('berth.') || key.startsWith('com.docker.network.'))) {
      throw new InvalidParameterError(`unsupported ptp option ${key} (a point-to-point link takes ${OPT.mtu} only)`);
    }
  }
  const raw = spec.options[OPT.mtu];
  if (raw === undefined) return {};
  const mtu = Number(raw);
  if (!/^\d+$/.test(raw) || mtu < 68 || mtu > 65535) {
    throw new InvalidParameterError(`invalid MTU "${raw}": it must be an integer between 68 and 65535`);
  }
  return { mtu };
}
