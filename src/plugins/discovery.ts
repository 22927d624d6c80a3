import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameterError } from '../util/errors.js';

// Finding a plugin by name, as dockerd's pkg/plugins does: a unix socket NAME.sock (or
// NAME/NAME.sock) in a socket folder, else a NAME.spec (a URL) or NAME.json ({Name, Addr})
// in a spec folder. The folders are Docker's unless berthd is given its own
// (--plugin-dir, for labs); a plugin found in a socket folder wins over a spec.

export const DEFAULT_SOCKET_DIRS = ['/run/docker/plugins'];
export const DEFAULT_SPEC_DIRS = ['/etc/docker/plugins', '/usr/lib/docker/plugins'];

export type PluginAddress =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number };

export interface PluginDirs {
  sockets: string[];
  specs: string[];
}

/** --plugin-dir DIR (repeatable): each folder is searched for sockets and for specs alike; none given: Docker's folders. */
export function pluginDirs(given: string[]): PluginDirs {
  return given.length ? { sockets: given, specs: given } : { sockets: DEFAULT_SOCKET_DIRS, specs: DEFAULT_SPEC_DIRS };
}

/** A plugin name: one path segment (a name with "/" or ".." must not reach outside the folders). */
export function isPluginName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) && !name.includes('..');
}

/** Where the plugin answers, or undefined when no folder has it (a name that is no plugin name included). */
export async function discover(name: string, dirs: PluginDirs): Promise<PluginAddress | undefined> {
  if (!isPluginName(name)) return undefined;
  for (const dir of dirs.sockets) {
    for (const path of [join(dir, `${name}.sock`), join(dir, name, `${name}.sock`)]) {
      if ((await stat(path).catch(() => undefined))?.isSocket()) return { kind: 'unix', path };
    }
  }
  for (const dir of dirs.specs) {
    const spec = await readFile(join(dir, `${name}.spec`), 'utf8').catch(() => undefined);
    if (spec !== undefined) return parseAddress(spec.trim(), `${join(dir, name)}.spec`);
    const json = await readFile(join(dir, `${name}.json`), 'utf8').catch(() => undefined);
    if (json !== undefined) {
      let addr: unknown;
      try {
        addr = (JSON.parse(json) as { Addr?: unknown }).Addr;
      } catch {
        throw new InvalidParameterError(`plugin ${name}: ${join(dir, name)}.json is not JSON`);
      }
      return parseAddress(typeof addr === 'string' ? addr : '', `${join(dir, name)}.json`);
    }
  }
  return undefined;
}

/** unix:///path or tcp://host:port (what a spec file holds). */
export function parseAddress(url: string, where: string): PluginAddress {
  const unix = /^unix:\/\/(\/.+)$/.exec(url);
  if (unix) return { kind: 'unix', path: unix[1]! };
  const tcp = /^(?:tcp|http):\/\/\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(url);
  if (tcp && Number(tcp[2]) > 0 && Number(tcp[2]) < 65536) return { kind: 'tcp', host: tcp[1]!, port: Number(tcp[2]) };
  throw new InvalidParameterError(`${where}: "${url}" is not unix:///PATH or tcp://HOST:PORT`);
}

export function describeAddress(a: PluginAddress): string {
  return a.kind === 'unix' ? `unix://${a.path}` : `tcp://${a.host}:${a.port}`;
}
