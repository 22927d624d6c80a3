import { InvalidParameterError } from '../util/errors.js';

// `docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]'`: the Dockerfile instructions an
// import may carry, applied to the new image's config.

export interface ImageConfig {
  env: string[];
  cmd: string[] | null;
  entrypoint: string[] | null;
  workdir: string;
  user: string;
  labels: Record<string, string>;
  exposedPorts: string[];
}

export function emptyImageConfig(): ImageConfig {
  return { env: [], cmd: null, entrypoint: null, workdir: '', user: '', labels: {}, exposedPorts: [] };
}

/** Applies each change line in order; unknown or malformed instructions are 400s. */
export function applyChanges(lines: string[], base: ImageConfig = emptyImageConfig()): ImageConfig {
  const cfg: ImageConfig = { ...base, env: [...base.env], labels: { ...base.labels }, exposedPorts: [...base.exposedPorts] };
  for (const line of lines) {
    const m = /^\s*(\w+)\s+([\s\S]*?)\s*$/.exec(line);
    if (!m) throw new InvalidParameterError(`invalid change: ${JSON.stringify(line)}`);
    applyOne(cfg, m[1].toUpperCase(), m[2]);
  }
  return cfg;
}

function applyOne(cfg: ImageConfig, op: string, arg: string): void {
  switch (op) {
    case 'ENV': return setEnv(cfg, pairs(arg, 'ENV'));
    case 'LABEL': return void pairs(arg, 'LABEL').forEach(([k, v]) => (cfg.labels[k] = v));
    case 'CMD': cfg.cmd = commandForm(arg); return;
    case 'ENTRYPOINT': cfg.entrypoint = commandForm(arg); return;
    case 'WORKDIR': cfg.workdir = arg; return;
    case 'USER': cfg.user = arg; return;
    case 'EXPOSE':
      for (const p of arg.split(/\s+/)) cfg.exposedPorts.push(p.includes('/') ? p : `${p}/tcp`);
      return;
    default:
      throw new InvalidParameterError(`${op} is not a valid change command for an import (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR)`);
  }
}

function setEnv(cfg: ImageConfig, kv: [string, string][]): void {
  for (const [k, v] of kv) {
    cfg.env = cfg.env.filter((e) => e.split('=')[0] !== k);
    cfg.env.push(`${k}=${v}`);
  }
}

/** "K=V K2=\"a b\"" or the legacy single "K V" form. */
function pairs(arg: string, op: string): [string, string][] {
  if (!arg.includes('=')) {
    const m = /^(\S+)\s+([\s\S]+)$/.exec(arg);
    if (!m) throw new InvalidParameterError(`${op} needs KEY=VALUE: ${JSON.stringify(arg)}`);
    return [[m[1], m[2]]];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  for (const m of arg.matchAll(re)) out.push([m[1], m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2]]);
  if (!out.length) throw new InvalidParameterError(`${op} needs KEY=VALUE: ${JSON.stringify(arg)}`);
  return out;
}

/** Exec form (a JSON array of strings) or shell form ("/bin/sh -c <line>"). */
function commandForm(arg: string): string[] {
  if (arg.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(arg);
    } catch {
      parsed = undefined;
    }
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed as string[];
  }
  return ['/bin/sh', '-c', arg];
}
