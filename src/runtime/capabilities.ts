import { readFileSync } from 'node:fs';
import { InvalidParameterError } from '../util/errors.js';

// Linux capabilities as Docker hands them to a container: its default set, changed by
// HostConfig.CapAdd / CapDrop (names with or without CAP_, any case, or ALL) and
// Privileged (every capability the kernel has), with dockerd's words for a bad name.

/** Every capability by number (capabilities(7), include/uapi/linux/capability.h). */
const ALL_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** What every Docker container gets (moby's oci/caps DefaultCapabilities). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const ALL = 'ALL';

let known: string[] | undefined;

/** The capabilities this kernel has (as dockerd's list: the names up to cap_last_cap). */
export function allCapabilities(): string[] {
  if (!known) {
    let last = ALL_NAMES.length - 1;
    try {
      last = Math.min(last, Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim()));
    } catch {
      // no procfs: every name berth knows
    }
    known = ALL_NAMES.slice(0, last + 1);
  }
  return known;
}

/** "net_admin" → "CAP_NET_ADMIN" ("all" → "ALL"); what = "CapAdd" or "CapDrop", for the error. */
function normalize(names: readonly string[], what: string): string[] {
  return names.map((raw) => {
    const up = raw.toUpperCase();
    if (up === ALL) return ALL;
    const name = up.startsWith('CAP_') ? up : `CAP_${up}`;
    if (!allCapabilities().includes(name)) throw new InvalidParameterError(`invalid ${what}: unknown capability: ${JSON.stringify(name)}`);
    return name;
  });
}

export interface CapabilityRequest {
  capAdd?: readonly string[] | null;
  capDrop?: readonly string[] | null;
  privileged?: boolean;
}

/** Refuses an unknown name with dockerd's message (a 400 at create, as dockerd's). */
export function checkCapabilities(req: CapabilityRequest): void {
  normalize(req.capAdd ?? [], 'CapAdd');
  normalize(req.capDrop ?? [], 'CapDrop');
}

/**
 * The set a container's process gets, as dockerd's TweakCapabilities: all with
 * Privileged; with ALL added, all but the dropped; with ALL dropped, only the added;
 * else the default set less the dropped plus the added.
 */
export function capabilitiesOf(req: CapabilityRequest): string[] {
  if (req.privileged) return allCapabilities();
  const add = normalize(req.capAdd ?? [], 'CapAdd');
  const drop = normalize(req.capDrop ?? [], 'CapDrop');
  if (add.includes(ALL)) return allCapabilities().filter((c) => !drop.includes(c));
  if (drop.includes(ALL)) return [...new Set(add)];
  return [...new Set([...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add])];
}

/** The set as the shim's --caps mask: bit N for capability N, in hexadecimal. */
export function capabilityMask(names: readonly string[]): string {
  let mask = 0n;
  for (const name of names) {
    const bit = ALL_NAMES.indexOf(name as (typeof ALL_NAMES)[number]);
    if (bit < 0) throw new InvalidParameterError(`unknown capability: ${JSON.stringify(name)}`);
    mask |= 1n << BigInt(bit);
  }
  return mask.toString(16);
}
