import { existsSync, readFileSync } from 'node:fs';
import type { NetworkSpec } from '../../driverapi/contract.js';
import { InvalidParameterError } from '../../util/errors.js';
import { parseMtu } from '../../util/mtu.js';

// An overlay network's options, parsed once into the typed OverlayConfig stored with it
// (on every host: the cluster store carries the options, each host parses them alike).

export const OVERLAY_OPT = {
  /** Docker's name; one VNI per network (Docker allowed one per subnet, berth has one subnet) */
  vni: 'com.docker.network.driver.overlay.vxlanid_list',
  mtu: 'com.docker.network.driver.mtu',
  encrypted: 'encrypted',
  /** vxlan (default): tunnelled across any underlay; direct: routed between hosts of one L2 segment */
  routing: 'berth.overlay.routing',
} as const;

const KNOWN = new Set<string>(Object.values(OVERLAY_OPT));

/** Docker's classic overlay handed out VNIs from 256; berth from 4096, clear of those a by-hand VXLAN often takes. */
export const FIRST_VNI = 4096;
export const MAX_VNI = 0xffffff;

export type OverlayRouting = 'vxlan' | 'direct';

export interface OverlayConfig {
  vni: number;
  /** the network's bridge on each host (the overlay's L2 segment, holding its gateway address) */
  bridgeName: string;
  /** its VXLAN device, a port of that bridge */
  vxlanName: string;
  /** given by the user; otherwise each host derives it from its underlay (its MTU less 50) */
  mtu?: number;
  routing: OverlayRouting;
}

export function parseOverlayConfig(spec: NetworkSpec): OverlayConfig {
  const o = spec.options;
  for (const key of Object.keys(o)) {
    if ((key.startsWith('com.docker.network.') || key.startsWith('berth.')) && !KNOWN.has(key)) throw new InvalidParameterError(`unsupported overlay option ${key}`);
  }
  if (o[OVERLAY_OPT.encrypted] !== undefined) throw new InvalidParameterError(encryptionRefusal());
  const routing = o[OVERLAY_OPT.routing] ?? 'vxlan';
  if (routing !== 'vxlan' && routing !== 'direct') throw new InvalidParameterError(`invalid value for ${OVERLAY_OPT.routing}: "${routing}" (expected vxlan or direct)`);
  const vniText = o[OVERLAY_OPT.vni];
  if (vniText === undefined) throw new InvalidParameterError(`overlay network ${spec.name} has no VNI (${OVERLAY_OPT.vni})`);
  const id = spec.id.slice(0, 12);
  return { vni: parseVni(vniText), bridgeName: `ov-${id}`, vxlanName: `vx-${id}`, mtu: o[OVERLAY_OPT.mtu] === undefined ? undefined : parseMtu(o[OVERLAY_OPT.mtu]), routing };
}

/** One VNI, 1..16777215 (a list of several is refused: berth's overlay networks have one subnet). */
export function parseVni(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidParameterError(`invalid VNI "${text}" (${OVERLAY_OPT.vni}): expected one number from 1 to ${MAX_VNI}`);
  const vni = Number(text.trim());
  if (vni < 1 || vni > MAX_VNI) throw new InvalidParameterError(`invalid VNI ${vni} (${OVERLAY_OPT.vni}): a VXLAN network identifier is 1 to ${MAX_VNI}`);
  return vni;
}

/**
 * Docker encrypts an overlay with IPsec ESP (AES-GCM) between every pair of hosts. berth
 * has no encrypted overlay yet; where the kernel cannot do ESP either, the error names
 * what is missing, so the user knows a kernel change comes first.
 */
function encryptionRefusal(): string {
  const crypto = existsSync('/proc/crypto') ? readFileSync('/proc/crypto', 'utf8') : '';
  const gcm = /^name\s*:\s*(rfc4106\()?gcm\(aes\)/m.test(crypto);
  if (!gcm) {
    return 'encrypted overlay networks need IPsec ESP with AES-GCM in the kernel, and this kernel has neither (no gcm(aes) in /proc/crypto: CONFIG_INET_ESP and CONFIG_CRYPTO_GCM are missing); create the network without --opt encrypted';
  }
  return 'encrypted overlay networks are not supported by berth yet (the kernel has AES-GCM, berth does not program ESP); create the network without --opt encrypted';
}
