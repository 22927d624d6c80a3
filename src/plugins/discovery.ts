import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameterError } from '../util/errors.js';

// Finding a plugin by name, as dockerd's pkg/plugins does: a unix socket NAME.sock (or
// NAME/NAME.sock) in a socket folder, else a NAME.spec (a URL) or NAME.json ({Name, Addr,
// TLSConfig: {CAFile, CertFile, KeyFile, InsecureSkipVerify}}: HTTPS to it) in a spec folder. The folders are Docker's unless berthd is given its own
// (--plugin-dir, for labs); a plugin found in a socket folder wins over a spec.

export const DEFAULT_SOCKET_DIRS = ['/run/docker/plugins'];
export const DEFAULT_SPEC_DIRS = ['/etc/docker/plugins', '/usr/lib/docker/plugins'];

export type PluginAddress =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number; tls?: PluginTls };

/** A .json spec's TLSConfig, its files read: the plugin is reached over HTTPS. */
export interface PluginTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** InsecureSkipVerify: the plugin's certificate is not checked */
  insecure: boolean;
}

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
      let spec: { Addr?: unknown; TLSConfig?: Record<string, unknown> | null };
      try {
        spec = JSON.parse(json) as typeof spec;
      } catch {
        throw new InvalidParameterError(`plugin ${name}: ${join(dir, name)}.json is not JSON`);
      }
      const where = `${join(dir, name)}.json`;
      const address = parseAddress(typeof spec.Addr === 'string' ? spec.Addr : '', where);
      if (!spec.TLSConfig) return address;
      if (address.kind !== 'tcp') throw new InvalidParameterError(`${where}: TLSConfig is for a tcp:// or https:// address`);
      return { ...address, tls: await readTls(spec.TLSConfig, where) };
    }
  }
  return undefined;
}

/** unix:///path or tcp://host:port (what a spec file holds). */
export function parseAddress(url: string, where: string): PluginAddress {
  const unix = /^unix:\/\/(\/.+)$/.exec(url);
  if (unix) return { kind: 'unix', path: unix[1]! };
  const tcp = /^(?:tcp|https?):\/\/\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(url);
  if (tcp && Number(tcp[2]) > 0 && Number(tcp[2]) < 65536) return { kind: 'tcp', host: tcp[1]!, port: Number(tcp[2]) };
  throw new InvalidParameterError(`${where}: "${url}" is not unix:///PATH or tcp://HOST:PORT`);
}

export function describeAddress(a: PluginAddress): string {
  return a.kind === 'unix' ? `unix://${a.path}` : `${a.tls ? 'https' : 'tcp'}://${a.host}:${a.port}`;
}

async function readTls(t: Record<string, unknown>, where: string): Promise<PluginTls> {
  const file = async (key: string): Promise<Buffer | undefined> => {
    const path = t[key];
    if (path === undefined || path === null || path === '') return undefined;
    if (typeof path !== 'string') throw new InvalidParameterError(`${where}: TLSConfig.${key} must be a file name`);
    return readFile(path).catch((err: NodeJS.ErrnoException) => {
      throw new InvalidParameterError(`${where}: TLSConfig.${key} ${path}: ${err.code ?? err.message}`);
    });
  };
  const tls: PluginTls = { ca: await file('CAFile'), cert: await file('CertFile'), key: await file('KeyFile'), insecure: t.InsecureSkipVerify === true };
  if (!!tls.cert !== !!tls.key) throw new InvalidParameterError(`${where}: TLSConfig: CertFile and KeyFile go together`);
  return tls;
}
