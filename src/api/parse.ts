import { InvalidParameterError } from '../util/errors.js';

// Typed reads of JSON request bodies: every external value is checked at the edge.

export type Json = Record<string, unknown>;

export function obj(v: unknown, what: string): Json {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidParameterError(`${what} must be an object`);
  return v as Json;
}

export function str(o: Json, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new InvalidParameterError(`${key} must be a string`);
  return v;
}

export function bool(o: Json, key: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new InvalidParameterError(`${key} must be a boolean`);
  return v;
}

export function strList(o: Json, key: string): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new InvalidParameterError(`${key} must be a list of strings`);
  return v as string[];
}

export function strMap(o: Json, key: string): Record<string, string> {
  const v = o[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidParameterError(`${key} must be an object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw new InvalidParameterError(`${key}.${k} must be a string`);
    out[k] = x;
  }
  return out;
}

/** A value read as given: null when the client sent none (or null), so a shape can say null where dockerd does. */
export function asGiven<T>(o: Json, key: string, read: (o: Json, key: string) => T): T | null {
  return o[key] === undefined || o[key] === null ? null : read(o, key);
}

/** HostConfig.PortBindings: "80/tcp" → a list (or null) of { HostIp, HostPort } strings. */
export function portBindings(o: Json): Record<string, { HostIp: string; HostPort: string }[]> {
  const v = obj(o.PortBindings, 'PortBindings');
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const [key, list] of Object.entries(v)) {
    if (list === null) {
      // kept as sent: it publishes the port on a random host port (fromPortBindings)
      out[key] = null as unknown as [];
      continue;
    }
    if (!Array.isArray(list)) throw new InvalidParameterError(`PortBindings.${key} must be a list of {HostIp, HostPort}`);
    out[key] = list.map((b, i) => {
      const binding = obj(b, `PortBindings.${key}[${i}]`);
      for (const k of ['HostIp', 'HostPort']) {
        if (binding[k] !== undefined && binding[k] !== null && typeof binding[k] !== 'string') {
          throw new InvalidParameterError(`PortBindings.${key}[${i}].${k} must be a string`);
        }
      }
      return { HostIp: (binding.HostIp as string | undefined) ?? '', HostPort: (binding.HostPort as string | undefined) ?? '' };
    });
  }
  return out;
}
