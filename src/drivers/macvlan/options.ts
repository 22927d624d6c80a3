import type { MacvlanMode } from '../../kernel/types.js';
import type { NetworkSpec } from '../../driverapi/contract.js';
import { InvalidParameterError } from '../../util/errors.js';

// A macvlan network's options, parsed once at create (Docker's names where Docker has
// them, berth.* for what Docker has no word for). Nothing else reads the raw option map.

export const OPT = {
  parent: 'parent',
  mode: 'macvlan_mode',
  mtu: 'com.docker.network.driver.mtu',
  /** beyond Docker: a shim on the parent lets the host reach its own macvlan children */
  hostAccess: 'berth.host_access',
  /** beyond Docker: the parent in promiscuous mode while the network exists */
  promiscuous: 'berth.promiscuous',
} as const;

/** The aux-address name that gives the host's shim its address (`--aux-address host=IP`). */
export const HOST_AUX_NAME = 'host';

const MODES: readonly MacvlanMode[] = ['bridge', 'private', 'vepa', 'passthru'];

/** How the network's parent comes to be. */
export type ParentSource =
  /** an interface that exists (or must): used as it is */
  | { kind: 'given' }
  /** `lower.id` (eth0.10): the 802.1q sub-interface, made by berth when missing */
  | { kind: 'vlan'; lower: string; id: number }
  /** no -o parent: a link of the network's own that leads nowhere (Docker: a dummy link) */
  | { kind: 'nowhere' };

export interface MacvlanConfig {
  parent: string;
  source: ParentSource;
  mode: MacvlanMode;
  mtu?: number;
  hostAccess: boolean;
  promiscuous: boolean;
}

const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;

export function parseMacvlanConfig(spec: NetworkSpec): MacvlanConfig {
  const o = spec.options;
  for (const key of Object.keys(o)) {
    if (key.startsWith('berth.') && key !== OPT.hostAccess && key !== OPT.promiscuous) {
      throw new InvalidParameterError(`unknown macvlan option ${key} (berth's are ${OPT.hostAccess} and ${OPT.promiscuous})`);
    }
  }
  const mode = (o[OPT.mode] || 'bridge') as MacvlanMode;
  if (!MODES.includes(mode)) {
    throw new InvalidParameterError(`requested macvlan mode '${o[OPT.mode]}' is not valid, 'bridge' mode is the macvlan driver default`);
  }
  const given = o[OPT.parent] ?? '';
  if (given === 'lo') throw new InvalidParameterError('loopback interface is not a valid macvlan parent link');
  if (given !== '' && (!IFNAME.test(given) || given === '.' || given === '..')) {
    throw new InvalidParameterError(`invalid -o parent "${given}": an interface name of 1 to 15 characters from [a-zA-Z0-9_.-]`);
  }
  return {
    parent: given || ownParentName(spec.id),
    source: given === '' ? { kind: 'nowhere' } : parseParent(given),
    mode,
    mtu: o[OPT.mtu] === undefined ? undefined : parseMtu(o[OPT.mtu]),
    hostAccess: parseBool(OPT.hostAccess, o[OPT.hostAccess]),
    promiscuous: parseBool(OPT.promiscuous, o[OPT.promiscuous]),
  };
}

/** The name of a parentless network's own parent: dm- and its short id, as Docker's dummy. */
export function ownParentName(networkId: string): string {
  return `dm-${networkId.slice(0, 12)}`;
}

/** "eth0.10" names a VLAN sub-interface of eth0; any other name an interface as it is. */
function parseParent(name: string): ParentSource {
  if (!name.includes('.')) return { kind: 'given' };
  const parts = name.split('.');
  if (parts.length !== 2 || parts[0] === '') {
    throw new InvalidParameterError(`required interface name format is: name.vlan_id, ex. eth0.10 for vlan 10, instead received ${name}`);
  }
  const [lower, tag] = parts;
  if (!/^\d+$/.test(tag)) throw new InvalidParameterError(`unable to parse a valid vlan id from: ${tag} (ex. eth0.10 for vlan 10)`);
  const id = Number(tag);
  if (id < 1 || id > 4094) throw new InvalidParameterError(`vlan id must be between 1-4094, received: ${id}`);
  return { kind: 'vlan', lower, id };
}

function parseBool(key: string, value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new InvalidParameterError(`invalid value for ${key}: "${value}" (expected true or false)`);
}

function parseMtu(value: string): number {
  const mtu = Number(value);
  if (!/^\d+$/.test(value) || mtu < 68 || mtu > 65535) {
    throw new InvalidParameterError(`invalid MTU "${value}": it must be an integer between 68 and 65535`);
  }
  return mtu;
}
