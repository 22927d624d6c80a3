import { Client, DaemonError, DEFAULT_HOST } from '../cli/client.js';
import { readPortMappings } from './port-mappings.js';
import { CNI_ERRORS, type CniResult } from './types.js';
import { isSupported, mergedInto, NEWEST, olderThan, resultIn, SUPPORTED_VERSIONS } from './versions.js';

// berth-cni: the CNI plugin (spec 1.0/1.1, protocols.md C) that attaches a runtime's netns
// to a berth network. It is a thin client: the environment and the config on stdin are
// read and checked here, and berthd (engine/attachments.ts, over /berth/cni/*) does the
// work, so the attachment is berth's like any container (names, firewall, ports) and
// survives berthd restarts. Config keys: "network" (berth's network, default: the config's
// "name"), "host" (berthd's address, default $BERTH_HOST or unix:///run/berth/berth.sock),
// "bindPorts" (true: berth holds the published host ports' sockets; podman binds them
// itself, so by default berth does not).

/** How long a call to berthd may take before the runtime is told to try again (the spec's code 11). */
const DEADLINE_MS = 30_000;

export interface Invocation {
  env: NodeJS.ProcessEnv;
  stdin: string;
}

export interface Outcome {
  /** process exit code */
  exit: number;
  /** JSON for stdout, '' for none (DEL, CHECK, STATUS succeed silently) */
  stdout: string;
}

/** A CNI error: printed as the spec's error object, exit 1. */
export class PluginError extends Error {
  constructor(readonly code: number, message: string, readonly details?: string) {
    super(message);
  }
}

interface PluginConfig {
  cniVersion: string;
  name: string;
  network: string;
  host: string;
  runtimeConfig: Record<string, unknown>;
  args: Record<string, unknown>;
  prevResult?: CniResult;
  [key: string]: unknown;
}

export async function run(inv: Invocation): Promise<Outcome> {
  let version = NEWEST;
  try {
    const command = inv.env.CNI_COMMAND;
    if (!command) throw new PluginError(CNI_ERRORS.invalidEnv, 'CNI_COMMAND is not set');
    const config = parseConfig(inv.stdin, command);
    version = config.cniVersion;
    if (command === 'VERSION') return ok({ cniVersion: version, supportedVersions: SUPPORTED_VERSIONS });
    const daemon = new Daemon(config.host);
    switch (command) {
      case 'ADD': return ok(await add(config, inv.env, daemon));
      case 'DEL': await daemon.call('POST', '/berth/cni/del', attachmentOf(inv.env, false)); return none();
      case 'CHECK': return await check(config, inv.env, daemon);
      case 'GC': return await gc(config, daemon);
      case 'STATUS': return await status(config, daemon);
      default: throw new PluginError(CNI_ERRORS.invalidEnv, `CNI_COMMAND: unknown command ${command} (ADD, DEL, CHECK, GC, STATUS, VERSION)`);
    }
  } catch (err) {
    const e = err instanceof PluginError ? err : new PluginError(CNI_ERRORS.io, (err as Error).message);
    return { exit: 1, stdout: JSON.stringify({ cniVersion: version, code: e.code, msg: e.message, ...(e.details ? { details: e.details } : {}) }) };
  }
}

async function add(config: PluginConfig, env: NodeJS.ProcessEnv, daemon: Daemon): Promise<CniResult> {
  const key = attachmentOf(env, true);
  const cniArgs = parseCniArgs(env.CNI_ARGS ?? '');
  const rc = config.runtimeConfig;
  const cniSection = obj(config.args.cni, 'args.cni');
  const ips = [...strings(rc.ips, 'runtimeConfig.ips'), ...strings(cniSection.ips, 'args.cni.ips'), ...(cniArgs.IP ? cniArgs.IP.split(',') : [])];
  const mac = str(rc.mac, 'runtimeConfig.mac') ?? cniArgs.MAC;
  const names = [cniArgs.K8S_POD_NAME ?? '', ...aliasesOf(rc.aliases, config.name)];
  const labels: Record<string, string> = {};
  for (const l of Array.isArray(cniSection.labels) ? cniSection.labels : []) {
    const label = obj(l, 'args.cni.labels[]');
    if (typeof label.key === 'string') labels[label.key] = String(label.value ?? '');
  }
  const result = await daemon.call('POST', '/berth/cni/add', {
    ...key,
    network: config.network,
    names,
    ips,
    mac,
    portMappings: readPortMappings(rc.portMappings, 'runtimeConfig.portMappings', (msg) => {
      throw new PluginError(CNI_ERRORS.invalidConfig, msg);
    }),
    bindPorts: config.bindPorts === true,
    labels,
  }) as CniResult;
  return resultIn(config.cniVersion, mergedInto(config.prevResult, result));
}

async function check(config: PluginConfig, env: NodeJS.ProcessEnv, daemon: Daemon): Promise<Outcome> {
  if (olderThan(config.cniVersion, '0.4.0')) throw new PluginError(CNI_ERRORS.incompatibleVersion, `CHECK is not part of CNI ${config.cniVersion} (0.4.0 and later)`);
  if (!config.prevResult) throw new PluginError(CNI_ERRORS.invalidConfig, 'CHECK needs prevResult (the result of ADD)');
  await daemon.call('POST', '/berth/cni/check', attachmentOf(env, true));
  return none();
}

async function gc(config: PluginConfig, daemon: Daemon): Promise<Outcome> {
  if (olderThan(config.cniVersion, '1.1.0')) throw new PluginError(CNI_ERRORS.incompatibleVersion, `GC is not part of CNI ${config.cniVersion} (1.1.0 and later)`);
  const listed = config['cni.dev/valid-attachments'] ?? [];
  if (!Array.isArray(listed)) throw new PluginError(CNI_ERRORS.invalidConfig, 'cni.dev/valid-attachments must be a list');
  const valid = listed.map((a) => {
    const o = obj(a, 'cni.dev/valid-attachments[]');
    return { containerId: String(o.containerID ?? ''), ifName: String(o.ifname ?? '') };
  });
  await daemon.call('POST', '/berth/cni/gc', { network: config.network, valid });
  return none();
}

async function status(config: PluginConfig, daemon: Daemon): Promise<Outcome> {
  if (olderThan(config.cniVersion, '1.1.0')) throw new PluginError(CNI_ERRORS.incompatibleVersion, `STATUS is not part of CNI ${config.cniVersion} (1.1.0 and later)`);
  try {
    await daemon.call('GET', `/berth/cni/status?network=${encodeURIComponent(config.network)}`);
  } catch (err) {
    // not ready for ADD, whatever the reason (the spec's 50)
    if (err instanceof PluginError) throw new PluginError(CNI_ERRORS.notAvailable, err.message, err.details);
    throw err;
  }
  return none();
}

/** The config on stdin: JSON with a supported cniVersion; VERSION needs no more than that. */
function parseConfig(stdin: string, command: string): PluginConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin || '{}');
  } catch (err) {
    throw new PluginError(CNI_ERRORS.decode, `the network config on stdin is not JSON: ${(err as Error).message}`);
  }
  const c = obj(raw, 'network config');
  const cniVersion = str(c.cniVersion, 'cniVersion') ?? '0.1.0';
  if (!isSupported(cniVersion)) {
    throw new PluginError(CNI_ERRORS.incompatibleVersion, `CNI version ${cniVersion} is not supported`, `berth supports ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  const name = str(c.name, 'name') ?? '';
  if (command !== 'VERSION' && !name) throw new PluginError(CNI_ERRORS.invalidConfig, 'the network config has no "name"');
  return {
    ...c,
    cniVersion,
    name,
    network: str(c.network, 'network') || name,
    host: str(c.host, 'host') || process.env.BERTH_HOST || DEFAULT_HOST,
    runtimeConfig: obj(c.runtimeConfig, 'runtimeConfig'),
    args: obj(c.args, 'args'),
    prevResult: c.prevResult === undefined ? undefined : obj(c.prevResult, 'prevResult') as unknown as CniResult,
  };
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** CNI_CONTAINERID and CNI_IFNAME (and CNI_NETNS when the command needs it), checked as the spec says. */
function attachmentOf(env: NodeJS.ProcessEnv, needsNetns: boolean): { containerId: string; ifName: string; netns?: string } {
  const missing = ['CNI_CONTAINERID', 'CNI_IFNAME', ...(needsNetns ? ['CNI_NETNS'] : [])].filter((k) => !env[k]);
  if (missing.length) throw new PluginError(CNI_ERRORS.invalidEnv, `missing environment variable(s): ${missing.join(', ')}`);
  const containerId = env.CNI_CONTAINERID!;
  if (!CONTAINER_ID.test(containerId)) throw new PluginError(CNI_ERRORS.invalidEnv, `CNI_CONTAINERID: ${containerId} is not a valid container id`);
  const ifName = env.CNI_IFNAME!;
  // the kernel's rules for an interface name (dev_valid_name)
  if (ifName.length > 15 || ifName === '.' || ifName === '..' || /[/:\s]/.test(ifName)) {
    throw new PluginError(CNI_ERRORS.invalidEnv, `CNI_IFNAME: ${ifName} is not a valid interface name`);
  }
  return { containerId, ifName, ...(needsNetns ? { netns: env.CNI_NETNS } : {}) };
}

/** CNI_ARGS "K=V;K2=V2": unknown keys are refused unless IgnoreUnknown is set (as the reference plugins do). */
function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(';').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new PluginError(CNI_ERRORS.invalidEnv, `CNI_ARGS: ${pair} is not KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const ignore = /^(1|true)$/i.test(out.IgnoreUnknown ?? '');
  const known = new Set(['IgnoreUnknown', 'IP', 'MAC', 'K8S_POD_NAME', 'K8S_POD_NAMESPACE', 'K8S_POD_INFRA_CONTAINER_ID', 'K8S_POD_UID']);
  const unknown = Object.keys(out).filter((k) => !known.has(k));
  if (unknown.length && !ignore) throw new PluginError(CNI_ERRORS.unsupportedField, `CNI_ARGS: unknown key ${unknown[0]}=${out[unknown[0]]} (set IgnoreUnknown=1 to pass it)`);
  return out;
}

/** The aliases capability: a list, or podman's map of network name to list. */
function aliasesOf(value: unknown, network: string): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return strings(value, 'runtimeConfig.aliases');
  return strings(obj(value, 'runtimeConfig.aliases')[network], `runtimeConfig.aliases.${network}`);
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new PluginError(CNI_ERRORS.invalidConfig, `${what} must be an object`);
  return v as Record<string, unknown>;
}

function str(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new PluginError(CNI_ERRORS.invalidConfig, `${what} must be a string`);
  return v;
}

function strings(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new PluginError(CNI_ERRORS.invalidConfig, `${what} must be a list of strings`);
  return v as string[];
}

function ok(body: unknown): Outcome {
  return { exit: 0, stdout: JSON.stringify(body) };
}

function none(): Outcome {
  return { exit: 0, stdout: '' };
}

/** berthd over its API, with one deadline; its refusals keep their CNI code, a berthd that is not there is "try again later". */
class Daemon {
  private readonly client: Client;

  constructor(readonly host: string) {
    this.client = new Client(host);
  }

  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PluginError(CNI_ERRORS.tryAgainLater, `berthd at ${this.host} did not answer within ${DEADLINE_MS / 1000} s`)), DEADLINE_MS);
    });
    try {
      return (await Promise.race([this.client.call(method, path, body), deadline])).body;
    } catch (err) {
      if (err instanceof PluginError) throw err;
      if (err instanceof DaemonError && err.status === 0) throw new PluginError(CNI_ERRORS.tryAgainLater, `berthd is not running at ${this.host}: ${err.message}`);
      if (err instanceof DaemonError) {
        const code = (err.body as { cniCode?: unknown } | undefined)?.cniCode;
        throw new PluginError(typeof code === 'number' ? code : err.status >= 500 ? CNI_ERRORS.daemon : CNI_ERRORS.invalidConfig, err.message);
      }
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES') throw new PluginError(CNI_ERRORS.tryAgainLater, `berthd is not running at ${this.host} (${e.code})`);
      throw new PluginError(CNI_ERRORS.io, `berthd at ${this.host}: ${e.message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
