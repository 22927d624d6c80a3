import type { ContainerRecord } from '../store/records.js';
import { InvalidParameterError } from '../util/errors.js';

// Legacy links (`--link NAME[:ALIAS]`): on the default bridge they become /etc/hosts
// entries and environment variables describing the target's exposed ports, as Docker
// writes them; on user-defined networks only the alias, resolvable through the embedded
// DNS for the linking container alone.

export interface LinkSpec {
  name: string;
  alias: string;
}

export function parseLink(spec: string): LinkSpec {
  const [name, alias, extra] = spec.replace(/^\//, '').split(':');
  if (!name || extra !== undefined || alias === '') throw new InvalidParameterError(`invalid link format "${spec}": expected NAME[:ALIAS]`);
  return { name, alias: alias ?? name };
}

/** Docker's variable prefix: the alias upper-cased, anything but [A-Z0-9] as '_'. */
function prefix(alias: string): string {
  return alias.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

const NOT_PASSED = new Set(['HOME', 'HOSTNAME', 'PATH']);

/** The variables a linking container gets for one link. */
export function linkEnv(self: ContainerRecord, link: LinkSpec, target: ContainerRecord, targetIp: string): string[] {
  const p = prefix(link.alias);
  const env = [`${p}_NAME=/${self.name}/${link.alias}`];
  const ports = target.config.exposedPorts
    .map((x) => {
      const [port, proto = 'tcp'] = x.split('/');
      return { port: Number(port), proto };
    })
    .filter((x) => Number.isInteger(x.port))
    .sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
  if (ports.length) env.push(`${p}_PORT=${ports[0].proto}://${targetIp}:${ports[0].port}`);
  for (const { port, proto } of ports) {
    const key = `${p}_PORT_${port}_${proto.toUpperCase()}`;
    env.push(`${key}=${proto}://${targetIp}:${port}`, `${key}_ADDR=${targetIp}`, `${key}_PORT=${port}`, `${key}_PROTO=${proto}`);
  }
  for (const kv of target.config.env) {
    const i = kv.indexOf('=');
    const k = i < 0 ? kv : kv.slice(0, i);
    if (!NOT_PASSED.has(k)) env.push(`${p}_ENV_${k}=${i < 0 ? '' : kv.slice(i + 1)}`);
  }
  return env;
}

/** The /etc/hosts names for a link target: alias, short id, name (Docker's order). */
export function linkHostNames(link: LinkSpec, target: ContainerRecord): string[] {
  return [...new Set([link.alias, target.id.slice(0, 12), target.name])];
}
