// A CNI runtime for tests, calling plugins the way libcni (and so podman, containerd,
// CRI-O) does, per the spec (protocols.md C.2): each plugin of a conflist exec'd by its
// "type" from CNI_PATH, in the host's netns, CNI_* in the environment and the request
// config on stdin (cniVersion and name inserted, the capabilities it declares turned into
// runtimeConfig, prevResult: the previous plugin's result on ADD, the cached final result
// on CHECK and DEL); ADD in order and stopping at the first error, DEL in reverse, GC on
// every plugin. Error answers are kept as the plugin printed them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inNetnsArgv, run } from './exec.js';

export interface Conflist {
  cniVersion: string;
  name: string;
  plugins: Record<string, unknown>[];
  disableCheck?: boolean;
}

export interface CniAttachment {
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs */
  args?: [string, string][];
  /** what the runtime offers for capabilities (portMappings, ips, mac, aliases …) */
  capabilityArgs?: Record<string, unknown>;
}

/** A plugin's error object (stdout, non-zero exit), with the exit code and stderr. */
export class CniCallError extends Error {
  constructor(readonly plugin: string, readonly exit: number, readonly error: { code?: number; msg?: string; details?: string; cniVersion?: string }, readonly stderr: string) {
    super(`plugin ${plugin} failed (exit ${exit}): ${error.code ?? '?'} ${error.msg ?? ''}${error.details ? ` (${error.details})` : ''}${stderr ? ` stderr: ${stderr.trim()}` : ''}`);
  }
}

export type CniResult = Record<string, any>;

export class CniRuntime {
  /** libcni's result cache: the final ADD result per attachment */
  private readonly cache = new Map<string, CniResult>();

  constructor(
    /** the netns plugins run in (the host's) */
    private readonly hostNs: string,
    readonly pluginDirs: string[],
    readonly conflist: Conflist,
    private readonly env: Record<string, string> = {},
  ) {}

  async add(a: CniAttachment): Promise<CniResult> {
    let prev: CniResult | undefined;
    for (const p of this.conflist.plugins) prev = await this.exec('ADD', p, a, prev);
    this.cache.set(key(a), prev!);
    return prev!;
  }

  async check(a: CniAttachment): Promise<void> {
    const cached = this.cache.get(key(a));
    for (const p of this.conflist.plugins) await this.exec('CHECK', p, a, cached);
  }

  async del(a: CniAttachment): Promise<void> {
    const cached = this.cache.get(key(a));
    for (const p of [...this.conflist.plugins].reverse()) await this.exec('DEL', p, a, cached);
    this.cache.delete(key(a));
  }

  /** GC on every plugin, errors collected, not stopping (the spec). */
  async gc(valid: { containerId: string; ifName: string }[]): Promise<CniCallError[]> {
    const errors: CniCallError[] = [];
    for (const p of this.conflist.plugins) {
      await this.exec('GC', p, undefined, undefined, { 'cni.dev/valid-attachments': valid.map((v) => ({ containerID: v.containerId, ifname: v.ifName })) })
        .catch((err: unknown) => errors.push(err as CniCallError));
    }
    return errors;
  }

  async status(): Promise<void> {
    for (const p of this.conflist.plugins) await this.exec('STATUS', p);
  }

  async version(plugin: Record<string, unknown> = this.conflist.plugins[0]): Promise<CniResult> {
    return (await this.exec('VERSION', plugin, undefined, undefined, undefined, { cniVersion: this.conflist.cniVersion }))!;
  }

  /** One plugin call; `stdinOverride` replaces the derived config (VERSION's stdin is just a version). */
  async exec(command: string, plugin: Record<string, unknown>, a?: CniAttachment, prev?: CniResult, extra: Record<string, unknown> = {}, stdinOverride?: unknown): Promise<CniResult | undefined> {
    const type = String(plugin.type);
    const binary = this.pluginDirs.map((d) => join(d, type)).find((p) => existsSync(p));
    if (!binary) throw new Error(`plugin ${type} not found in ${this.pluginDirs.join(':')}`);
    const env: Record<string, string> = { ...this.env, CNI_COMMAND: command, CNI_PATH: this.pluginDirs.join(':') };
    if (a) {
      Object.assign(env, { CNI_CONTAINERID: a.containerId, CNI_NETNS: a.netns, CNI_IFNAME: a.ifName, CNI_ARGS: (a.args ?? []).map(([k, v]) => `${k}=${v}`).join(';') });
    }
    const res = await run(inNetnsArgv(this.hostNs, [binary]), { env, input: JSON.stringify(stdinOverride ?? this.requestConfig(command, plugin, a, prev, extra)) });
    const out = res.stdout.trim();
    if (res.code !== 0) {
      let error: CniCallError['error'] = {};
      try {
        error = JSON.parse(out);
      } catch {
        error = { msg: out };
      }
      throw new CniCallError(type, res.code ?? -1, error, res.stderr);
    }
    return out ? JSON.parse(out) : prev;
  }

  /** The spec's section 3: the plugin's object, with cniVersion, name, runtimeConfig and prevResult. */
  requestConfig(command: string, plugin: Record<string, unknown>, a?: CniAttachment, prev?: CniResult, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const { capabilities, ...rest } = plugin as { capabilities?: Record<string, boolean> };
    const conf: Record<string, unknown> = { ...rest, cniVersion: this.conflist.cniVersion, name: this.conflist.name, ...extra };
    if (a && ['ADD', 'DEL', 'CHECK'].includes(command)) {
      const runtimeConfig: Record<string, unknown> = {};
      for (const [cap, on] of Object.entries(capabilities ?? {})) if (on && a.capabilityArgs?.[cap] !== undefined) runtimeConfig[cap] = a.capabilityArgs[cap];
      if (Object.keys(runtimeConfig).length) conf.runtimeConfig = runtimeConfig;
    }
    if (prev) conf.prevResult = prev;
    return conf;
  }
}

function key(a: CniAttachment): string {
  return `${a.containerId}/${a.ifName}`;
}
