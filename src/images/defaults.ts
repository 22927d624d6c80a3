import type { ResolvedImage } from './store.js';

// Docker's rule for combining a container's request with its image's config: a
// request Entrypoint replaces the image's and drops the image's Cmd; a request Cmd
// replaces the image's; request Env wins per variable (and comes first); WorkingDir falls back;
// the image's labels and exposed ports are the container's too, request labels winning.

export interface RunRequest {
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workdir: string;
  labels: Record<string, string>;
  exposedPorts: string[];
}

export interface RunSpec {
  /** entrypoint + cmd, what the process runs */
  argv: string[];
  /** how many of argv's first words are the entrypoint (Config.Entrypoint; the rest is Config.Cmd) */
  entrypointLength: number;
  env: string[];
  workdir: string;
  labels: Record<string, string>;
  exposedPorts: string[];
  rootfs?: string;
  /** sha256:… of the image it runs (Config.Image names it as the client did) */
  imageId?: string;
}

export function withImageDefaults(img: ResolvedImage, req: RunRequest): RunSpec {
  const ownEntrypoint = req.entrypoint.length > 0;
  const entrypoint = ownEntrypoint ? req.entrypoint : img.entrypoint;
  const cmd = req.cmd.length > 0 ? req.cmd : ownEntrypoint ? [] : img.cmd;
  return {
    argv: [...entrypoint, ...cmd],
    entrypointLength: entrypoint.length,
    env: mergeEnv(img.env, req.env),
    workdir: req.workdir || img.workdir,
    labels: { ...img.labels, ...req.labels },
    exposedPorts: [...new Set([...req.exposedPorts, ...img.exposedPorts])],
    rootfs: img.rootfs,
  };
}

/** The request's variables as given, then the image's the request does not set (dockerd's order). */
export function mergeEnv(base: string[], over: string[]): string[] {
  const key = (e: string) => e.split('=')[0];
  const overKeys = new Set(over.map(key));
  return [...over, ...base.filter((e) => !overKeys.has(key(e)))];
}
