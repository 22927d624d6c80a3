import { readFileSync } from 'node:fs';

// dockerd's daemon.json for berthd: the same keys as dockerd's for every flag berthd has
// (plus berth's own), turned into the flags they stand for, so each value is checked by
// the very parser its flag uses. A directive given both here and as a flag is an error,
// as dockerd makes it: neither silently wins.

export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';

type Kind = 'string' | 'number' | 'boolean' | 'strings' | 'pools' | 'map';

/** daemon.json key → the flag it stands for, and the JSON type it takes. */
const DIRECTIVES: Record<string, { flag: string; kind: Kind }> = {
  'data-root': { flag: '--data-root', kind: 'string' },
  'exec-root': { flag: '--exec-root', kind: 'string' },
  hosts: { flag: '--host', kind: 'strings' },
  tls: { flag: '--tls', kind: 'boolean' },
  tlsverify: { flag: '--tlsverify', kind: 'boolean' },
  tlscacert: { flag: '--tlscacert', kind: 'string' },
  tlscert: { flag: '--tlscert', kind: 'string' },
  tlskey: { flag: '--tlskey', kind: 'string' },
  group: { flag: '--group', kind: 'string' },
  bip: { flag: '--bip', kind: 'string' },
  'fixed-cidr': { flag: '--fixed-cidr', kind: 'string' },
  bridge: { flag: '--bridge', kind: 'string' },
  ipv6: { flag: '--ipv6', kind: 'boolean' },
  'fixed-cidr-v6': { flag: '--fixed-cidr-v6', kind: 'string' },
  ip6tables: { flag: '--ip6tables', kind: 'boolean' },
  mtu: { flag: '--mtu', kind: 'number' },
  'ip-forward': { flag: '--ip-forward', kind: 'boolean' },
  iptables: { flag: '--iptables', kind: 'boolean' },
  icc: { flag: '--icc', kind: 'boolean' },
  ip: { flag: '--ip', kind: 'string' },
  dns: { flag: '--dns', kind: 'strings' },
  'dns-search': { flag: '--dns-search', kind: 'strings' },
  'dns-opts': { flag: '--dns-opt', kind: 'strings' },
  'default-address-pools': { flag: '--default-address-pool', kind: 'pools' },
  debug: { flag: '--debug', kind: 'boolean' },
  'neigh-gc-thresh3': { flag: '--neigh-gc-thresh3', kind: 'string' },
  'cluster-store': { flag: '--cluster-store', kind: 'string' },
  'cluster-advertise': { flag: '--cluster-advertise', kind: 'string' },
  'cluster-store-opts': { flag: '--cluster-store-opt', kind: 'map' },
  // berth's own (see log-file.ts)
  'log-file': { flag: '--log-file', kind: 'string' },
  'log-max-size': { flag: '--log-max-size', kind: 'string' },
  'log-max-files': { flag: '--log-max-files', kind: 'number' },
};

export class ConfigFileError extends Error {}

/** The flag (long form, as commander names it: "--dns-opt") of each directive in the file. */
export function directiveFlags(file: Record<string, unknown>): Map<string, string> {
  return new Map(Object.keys(file).filter((k) => DIRECTIVES[k]).map((k) => [k, DIRECTIVES[k].flag]));
}

/** Reads the file; a missing default file is no file at all, a missing named one an error. */
export function readConfigFile(path: string, named: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !named) return {};
    throw new ConfigFileError(`unable to read the configuration file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigFileError(`unable to configure berthd with file ${path}: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigFileError(`unable to configure berthd with file ${path}: it must hold one JSON object`);
  const unknown = Object.keys(json).filter((k) => !DIRECTIVES[k]);
  if (unknown.length) {
    throw new ConfigFileError(`unable to configure berthd with file ${path}: the following directives don't match any configuration option: ${unknown.join(', ')}`);
  }
  return json as Record<string, unknown>;
}

/** The file's directives as command-line words ("--mtu", "1400", …), their types checked. */
export function asArguments(file: Record<string, unknown>, path: string): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(file)) {
    const { flag, kind } = DIRECTIVES[key];
    const bad = (want: string) => new ConfigFileError(`unable to configure berthd with file ${path}: "${key}" must be ${want}, not ${JSON.stringify(value)}`);
    switch (kind) {
      case 'string':
        if (typeof value !== 'string') throw bad('a string');
        out.push(flag, value);
        break;
      case 'number':
        if (typeof value !== 'number') throw bad('a number');
        out.push(flag, String(value));
        break;
      case 'boolean':
        if (typeof value !== 'boolean') throw bad('true or false');
        out.push(flag === '--debug' ? (value ? flag : '') : `${flag}=${value}`);
        break;
      case 'strings':
        if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw bad('a list of strings');
        for (const v of value as string[]) out.push(flag, v);
        break;
      case 'pools':
        if (!Array.isArray(value)) throw bad('a list of {"base": CIDR, "size": N}');
        for (const p of value) {
          const pool = p as { base?: unknown; size?: unknown };
          if (typeof pool?.base !== 'string' || typeof pool.size !== 'number') throw bad('a list of {"base": CIDR, "size": N}');
          out.push(flag, `base=${pool.base},size=${pool.size}`);
        }
        break;
      case 'map':
        if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) throw bad('an object of strings');
        for (const [k, v] of Object.entries(value as Record<string, string>)) out.push(flag, `${k}=${v}`);
        break;
    }
  }
  return out.filter((w) => w !== '');
}
