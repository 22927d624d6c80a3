import { ZERO_TIME, type ContainerRecord } from '../../store/records.js';
import { InvalidParameterError, NotFoundError } from '../../util/errors.js';
import { Filters, invalidFilter } from './filters.js';

// GET /containers/json?filters=…, as dockerd 20.10 filters (daemon/list.go), recorded in
// test/fixtures/dockerd-20.10/filters.json. berth has no health checks, volumes, tasks or
// isolation modes: those keys answer as dockerd does for containers without them.

export const CONTAINER_FILTERS = ['ancestor', 'before', 'exited', 'expose', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume'] as const;

const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'];

/** What the filters need to know about containers beyond their records. */
export interface ContainerFacts {
  networksOf(c: ContainerRecord): { id: string; name: string }[];
  /** the id of the image the container runs (undefined: no image, a bare rootfs) */
  imageIdOf(c: ContainerRecord): string | undefined;
  /** the image id a reference names, undefined when none does */
  findImageId(ref: string): string | undefined;
}

export interface ListOptions {
  all: boolean;
  /** the newest N (docker ps -n/-l); stopped containers count, as with all */
  limit: number;
}

/**
 * The containers to list, newest first. Throws dockerd's 400s for unknown keys and bad
 * values, and a 404 when before/since names no container.
 */
export function filterContainers(list: readonly ContainerRecord[], f: Filters, facts: ContainerFacts, opts: ListOptions): ContainerRecord[] {
  f.accept(CONTAINER_FILTERS);
  const exitCodes = f.get('exited').map((v) => goInt(v));
  for (const v of f.get('status')) if (!STATES.includes(v)) throw invalidFilter('status', v);
  // asking for a status lists stopped containers too (dockerd sets All)
  const all = opts.all || f.has('status') || opts.limit > 0;
  const isTask = taskFilter(f);
  for (const v of f.get('health')) if (!HEALTH.includes(v)) throw new InvalidParameterError(`Unrecognised filter value for health: ${v}`);
  const newest = [...list].sort((a, b) => b.created.localeCompare(a.created));
  const before = f.get('before').map((v) => byIdOrName(newest, v)).at(-1);
  const since = f.get('since').map((v) => byIdOrName(newest, v)).at(-1);
  const ancestors = f.has('ancestor') ? new Set(f.get('ancestor').map((r) => facts.findImageId(r)).filter((id) => id !== undefined)) : undefined;
  const publish = portSet(f, 'publish');
  const expose = portSet(f, 'expose');

  const out: ContainerRecord[] = [];
  let beforeSeen = before === undefined;
  for (const c of newest) {
    if (!beforeSeen) {
      beforeSeen = c.id === before!.id;
      continue;
    }
    if (since && c.id === since.id) break;
    const running = c.state.status === 'running';
    if (!running && !all) continue;
    if (!f.match('name', `/${c.name}`) && !f.match('name', c.name)) continue;
    if (!f.prefix('id', c.id)) continue;
    if (isTask === true) continue; // berth runs no swarm tasks
    if (!f.labels('label', c.config.labels)) continue;
    if (opts.limit > 0 && out.length === opts.limit) break;
    if (exitCodes.length && (running || c.state.startedAt === ZERO_TIME || !exitCodes.includes(c.state.exitCode))) continue;
    if (!f.exact('status', c.state.status)) continue;
    if (!f.exact('health', 'none')) continue;
    if (f.has('volume')) continue; // berth mounts no volumes
    if (ancestors) {
      const image = facts.imageIdOf(c);
      if (image === undefined || !ancestors.has(image)) continue;
    }
    if (f.has('network') && !onNetwork(facts.networksOf(c), f.get('network'))) continue;
    // dockerd 20.10 reads both from the running container's port map: `publish` is a
    // published (host) port, `expose` a container port, exposed or published
    if (publish && !(running && (c.publishedPorts ?? []).some((p) => publish.has(`${p.hostPort}/${p.proto}`)))) continue;
    if (expose && !(running && containerPorts(c).some((k) => expose.has(k)))) continue;
    out.push(c);
  }
  return out;
}

function taskFilter(f: Filters): boolean | undefined {
  if (!f.has('is-task')) return undefined;
  if (f.get('is-task').includes('true')) return true;
  if (f.get('is-task').includes('false')) return false;
  throw invalidFilter('is-task', f.get('is-task'));
}

/** before/since name a container by full id or name (no prefixes, as dockerd). */
function byIdOrName(list: readonly ContainerRecord[], value: string): ContainerRecord {
  const name = value.replace(/^\//, '');
  const found = list.find((c) => c.id === value) ?? list.find((c) => c.name === name);
  if (!found) throw new NotFoundError(`no such container ${value}`);
  return found;
}

function onNetwork(nets: { id: string; name: string }[], values: readonly string[]): boolean {
  return values.some((v) => nets.some((n) => n.name === v || n.id.startsWith(v)));
}

/** The container ports of a running container's port map: exposed and published ones. */
function containerPorts(c: ContainerRecord): string[] {
  const keys = new Set(c.config.exposedPorts);
  for (const k of Object.keys(c.hostConfig.portBindings)) keys.add(k.includes('/') ? k : `${k}/tcp`);
  for (const p of c.publishedPorts ?? []) keys.add(`${p.containerPort}/${p.proto}`);
  return [...keys];
}

/** `80`, `80/udp`, `8000-8080/tcp` → the set of "port/proto" keys; dockerd's messages. */
function portSet(f: Filters, key: 'publish' | 'expose'): Set<string> | undefined {
  if (!f.has(key)) return undefined;
  const out = new Set<string>();
  for (const value of f.get(key)) {
    if (value.includes(':')) throw new InvalidParameterError(`filter for '${key}' should not contain ':': ${value}`);
    const slash = value.indexOf('/');
    const range = slash < 0 ? value : value.slice(0, slash);
    const proto = slash < 0 || slash === value.length - 1 ? 'tcp' : value.slice(slash + 1);
    const [start, end] = portRange(range, key, value);
    for (let p = start; p <= end; p++) out.add(`${p}/${proto}`);
  }
  return out;
}

function portRange(range: string, key: string, value: string): [number, number] {
  const fail = (why: string): never => { throw new InvalidParameterError(`error while looking up for ${key} ${value}: ${why}`); };
  if (range === '') fail('empty string specified for ports');
  const parts = range.split('-');
  const nums = parts.slice(0, 2).map((p) => {
    try {
      return goUint16(p);
    } catch (err) {
      return fail((err as Error).message);
    }
  });
  const [start, end] = nums.length === 1 ? [nums[0], nums[0]] : nums;
  if (end < start) fail(`invalid range specified for port: ${range}`);
  return [start, end];
}

/** strconv.Atoi, with Go's message. */
function goInt(v: string): number {
  if (!/^[+-]?\d+$/.test(v)) throw new InvalidParameterError(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** strconv.ParseUint(v, 10, 16), with Go's message. */
function goUint16(v: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  if (n > 65535) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(v)}: value out of range`);
  return n;
}
