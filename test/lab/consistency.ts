// Compares what berth's store says with what the kernel and the process table hold, in a
// lab whose berthd is at rest: no process, netns mount, veth, address or nftables element
// that the store does not account for, and nothing the store promises that is missing.
// Used by the crash drill (test and bench) after every restart. The kernel tears a
// deleted netns down asynchronously (its veths go some milliseconds later): the check is
// repeated until it comes out clean or a bound passes, and a real leak never does.
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTED_LINK } from '../../src/drivers/bridge/config.js';
import { ROUTE_PROTOCOL } from '../../src/drivers/overlay/direct-routes.js';
import type { ContainerRecord, EndpointRecord, IntentRecord, NetworkRecord } from '../../src/store/records.js';
import { cidrContains } from '../../src/util/ip.js';
import { runOk, sleep } from './exec.js';
import type { Lab } from './lab.js';
import { isUnder, mountsUnder, readMounts } from './teardown.js';

/** What is out of place, by kind; every list empty when the lab is consistent. */
export interface Findings {
  /** a process in a netns no running container owns, a shim no running container knows, a running container's process gone */
  processes: string[];
  /** a netns bind mount or file under the exec-root that no running container holds, or one missing */
  netnsMounts: string[];
  /**
   * a bridge no network record names, a host veth on a berth bridge that no running
   * endpoint names, a running endpoint without its veth, or a direct-routed overlay's route
   * into no such network here or to an address an endpoint here holds
   */
  links: string[];
  /** one IPv4 address in two sandboxes, or a sandbox's addresses unlike its endpoints' records */
  addresses: string[];
  /** a published-port element of no running container, or a running container's port without its element */
  nftElements: string[];
  /** a container state dir under the exec-root that no container record has */
  files: string[];
  /**
   * store rows that contradict each other (addresses held by a container that does not
   * run, an intent left …), or the cluster store (etcd) unlike this host's endpoints on
   * global networks: a record or address of this host nobody here holds, a running one
   * without its record or address, a record not up
   */
  store: string[];
}

export const FINDING_KINDS = ['processes', 'netnsMounts', 'links', 'addresses', 'nftElements', 'files', 'store'] as const;

export function countFindings(f: Findings): number {
  return FINDING_KINDS.reduce((n, k) => n + f[k].length, 0);
}

interface Records {
  containers: ContainerRecord[];
  endpoints: EndpointRecord[];
  networks: NetworkRecord[];
  intents: IntentRecord[];
  /** this host's id in a cluster (the meta table), if it has one */
  hostId?: string;
}

function readStore(dataRoot: string): Records {
  const db = new Database(join(dataRoot, 'berth.db'), { readonly: true, fileMustExist: true });
  try {
    const all = <T>(table: string): T[] => {
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
      return exists ? (db.prepare(`SELECT doc FROM ${table}`).all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as T) : [];
    };
    const meta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get()
      ? (db.prepare("SELECT value FROM meta WHERE key = 'cluster-host-id'").get() as { value: string } | undefined)?.value
      : undefined;
    return { containers: all('containers'), endpoints: all('endpoints'), networks: all('networks'), intents: all('intents'), hostId: meta };
  } finally {
    db.close();
  }
}

interface Proc {
  pid: number;
  cmdline: string;
  netns?: number;
  zombie: boolean;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const zombie = stat[stat.lastIndexOf(')') + 2] === 'Z';
      const cmdline = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0+/g, ' ').trim();
      let netns: number | undefined;
      try {
        netns = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${e}/ns/net`))?.[1]);
      } catch {
        netns = undefined; // a zombie's namespaces are gone
      }
      out.push({ pid: Number(e), cmdline, netns, zombie });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function inode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** One pass of every check (see checkConsistency for the waiting). */
export async function findInconsistencies(lab: Lab): Promise<Findings> {
  const f: Findings = { processes: [], netnsMounts: [], links: [], addresses: [], nftElements: [], files: [], store: [] };
  const r = readStore(lab.dataRoot);
  const running = r.containers.filter((c) => c.state.status === 'running');
  const byId = new Map(r.containers.map((c) => [c.id, c]));
  const netnsDir = join(lab.execRoot, 'netns');
  const ownNetns = (c: ContainerRecord) => !!c.sandboxKey && c.sandboxKey.startsWith(`${netnsDir}/`);

  // ---- store: rows that contradict each other
  for (const i of r.intents) f.store.push(`intent ${i.op} of ${i.began} left on record`);
  const seen = new Map<string, string>();
  for (const ep of r.endpoints) {
    const c = byId.get(ep.containerId);
    if (!c) f.store.push(`endpoint ${ep.id.slice(0, 12)} of a container that does not exist`);
    if (!r.networks.some((n) => n.id === ep.networkId)) f.store.push(`endpoint ${ep.id.slice(0, 12)} on a network that does not exist`);
    if (c && c.state.status !== 'running' && ep.addresses.length) f.store.push(`container ${c.name} (${c.state.status}) holds ${ep.addresses.join(', ')}`);
    const driver = r.networks.find((n) => n.id === ep.networkId)?.driver;
    if (c?.state.status === 'running' && driver === 'bridge' && !ep.addresses.length) f.store.push(`running container ${c.name} has an endpoint on a bridge network without an address (a connect or disconnect left half-way)`);
    for (const a of ep.addresses) {
      const key = `${ep.networkId} ${a.split('/')[0]}`;
      if (seen.has(key)) f.store.push(`${a} recorded for both ${seen.get(key)} and ${c?.name}`);
      seen.set(key, c?.name ?? ep.containerId);
    }
  }
  for (const c of r.containers) {
    if (c.state.status !== 'running' && c.sandboxKey) f.store.push(`container ${c.name} (${c.state.status}) holds sandbox ${c.sandboxKey}`);
    if (c.state.status !== 'running' && c.publishedPorts?.length) f.store.push(`container ${c.name} (${c.state.status}) holds published ports`);
  }

  await checkClusterStore(lab, r, f);

  const stateRoot = join(lab.execRoot, 'containers');
  for (const id of existsSync(stateRoot) ? readdirSync(stateRoot) : []) if (!byId.has(id)) f.files.push(`state dir ${id.slice(0, 12)} of no container`);

  // ---- netns mounts and files under the exec-root
  const mounted = new Set(mountsUnder(netnsDir).filter((m) => m.fsType === 'nsfs').map((m) => m.mountPoint));
  const files = existsSync(netnsDir) ? readdirSync(netnsDir).map((n) => join(netnsDir, n)) : [];
  const wanted = new Set(running.filter(ownNetns).map((c) => c.sandboxKey));
  for (const p of new Set([...mounted, ...files])) if (!wanted.has(p)) f.netnsMounts.push(`${p} (${mounted.has(p) ? 'mounted' : 'file'}) held by no running container`);
  for (const p of wanted) if (!mounted.has(p)) f.netnsMounts.push(`${p} of a running container is not mounted`);

  // ---- processes
  // the lab world's own namespace (the test runner's), the lab's hosts, and every
  // namespace mounted outside this berthd's exec-root (other labs of this world: a compat
  // test runs dockerd in a second lab); a netns held only by a process is never among them
  const otherLabs = readMounts().filter((m) => m.fsType === 'nsfs' && !isUnder(m.mountPoint, lab.execRoot)).map((m) => m.mountPoint);
  const labNetns = new Set(['/proc/self/ns/net', lab.hostNs, lab.internetNs, ...lab.extraNamespaces(), ...otherLabs].map(inode).filter((x): x is number => x !== undefined));
  const sandboxes = new Map<number, ContainerRecord>();
  for (const c of running) {
    // a CNI attachment's netns is its runtime's: its processes are the runtime's container
    const ino = ownNetns(c) || c.attachment ? inode(c.sandboxKey) : undefined;
    if (ino !== undefined) sandboxes.set(ino, c);
    if (c.attachment && ino === undefined) f.netnsMounts.push(`attachment ${c.name}: its runtime's netns ${c.attachment.netns} is gone`);
  }
  const procs = processes();
  const strayNetns = new Map<number, number>();
  for (const p of procs) {
    if (p.zombie || p.netns === undefined || labNetns.has(p.netns) || sandboxes.has(p.netns)) continue;
    f.processes.push(`pid ${p.pid} (${p.cmdline.slice(0, 60)}) in a netns no running container owns`);
    strayNetns.set(p.netns, p.pid);
  }
  const shimOf = new Map(running.map((c) => [c.state.shimPid, c]));
  for (const p of procs) {
    const m = /(?:^|\/)berth-shim --id ([0-9a-f]{64}) --state-dir (\S+)/.exec(p.cmdline);
    if (!m || p.zombie || !m[2].startsWith(`${lab.execRoot}/`)) continue;
    const c = shimOf.get(p.pid);
    if (!c || c.id !== m[1]) f.processes.push(`shim pid ${p.pid} of container ${m[1].slice(0, 12)} (${byId.get(m[1])?.state.status ?? 'unknown'}) runs, no running container knows it`);
  }
  const alive = new Set(procs.filter((p) => !p.zombie).map((p) => p.pid));
  for (const c of running) if (!c.attachment && !alive.has(c.state.pid)) f.processes.push(`container ${c.name} is recorded running but its pid ${c.state.pid} is gone`);

  // ---- veths on berth's bridges
  const links = JSON.parse(await runOk(['nsenter', `--net=${lab.hostNs}`, 'ip', '-d', '-j', 'link', 'show'])) as { ifname: string; master?: string; linkinfo?: { info_kind?: string } }[];
  // overlay networks have a bridge on every host too, with their VXLAN device on it
  const bridgeNets = r.networks.filter((n) => n.driver === 'bridge' || n.driver === 'overlay');
  const bridges = new Set(bridgeNets.map((n) => (n.driverConfig as { bridgeName?: string })?.bridgeName).filter(Boolean));
  const vxlans = new Set(bridgeNets.map((n) => (n.driverConfig as { vxlanName?: string })?.vxlanName).filter(Boolean));
  const runningIds = new Set(running.map((c) => c.id));
  const liveLinks = new Set(r.endpoints.filter((e) => runningIds.has(e.containerId) && e.linkName).map((e) => e.linkName));
  const vethNames = new Set<string>();
  for (const l of links) {
    if (l.linkinfo?.info_kind === 'bridge' && !bridges.has(l.ifname) && !lab.foreignLinks.has(l.ifname)) f.links.push(`bridge ${l.ifname}: no network names it`);
    if (l.linkinfo?.info_kind === 'vxlan' && /^vx-[0-9a-f]{12}$/.test(l.ifname) && !vxlans.has(l.ifname)) f.links.push(`VXLAN device ${l.ifname}: no network names it`);
    // a routed network's host ends are on no bridge
    const routedEnd = l.linkinfo?.info_kind === 'veth' && !l.master && ROUTED_LINK.test(l.ifname);
    if (!routedEnd && (l.linkinfo?.info_kind !== 'veth' || !l.master || !bridges.has(l.master))) continue;
    vethNames.add(l.ifname);
    if (!liveLinks.has(l.ifname)) f.links.push(`${l.ifname} ${routedEnd ? '(routed)' : `on ${l.master}`}: no running endpoint names it`);
  }
  for (const e of r.endpoints) {
    const net = r.networks.find((n) => n.id === e.networkId);
    if (runningIds.has(e.containerId) && (net?.driver === 'bridge' || net?.driver === 'overlay') && e.linkName && !vethNames.has(e.linkName)) {
      f.links.push(`${e.linkName} of running ${byId.get(e.containerId)?.name} on ${net.name} is missing`);
    }
  }

  // ---- routes of direct-routed overlays: into such a network of this host, to another host's endpoint
  const directNets = r.networks.filter((n) => n.driver === 'overlay' && (n.driverConfig as { routing?: string })?.routing === 'direct');
  const ownIps = new Set(r.endpoints.flatMap((e) => e.addresses.map((a) => a.split('/')[0])));
  const routes = JSON.parse(await runOk(['nsenter', `--net=${lab.hostNs}`, 'ip', '-4', '-j', 'route', 'show', 'proto', String(ROUTE_PROTOCOL)])) as { dst: string }[];
  for (const { dst } of routes) {
    const ip = dst.split('/')[0];
    if (!directNets.some((n) => n.ipamConfig.some((c) => cidrContains(c.subnet, ip)))) f.links.push(`route to ${dst} (protocol ${ROUTE_PROTOCOL}): in no direct-routed overlay network of this host`);
    else if (ownIps.has(ip)) f.links.push(`route to ${dst} (protocol ${ROUTE_PROTOCOL}) leads to another host, and an endpoint here holds ${ip}`);
  }

  // ---- addresses inside the sandboxes (and inside any stray netns a process keeps alive)
  const owners = new Map<string, string>();
  const look = async (nsArg: string, who: string, expected?: Set<string>) => {
    const res = await runOk(['nsenter', nsArg, 'ip', '-4', '-j', 'addr', 'show']).catch(() => '[]');
    const have = new Set<string>();
    for (const l of JSON.parse(res) as { ifname: string; addr_info?: { local: string; prefixlen: number }[] }[]) {
      for (const a of l.addr_info ?? []) {
        if (a.local.startsWith('127.') || a.local.startsWith('169.254.')) continue;
        have.add(`${a.local}/${a.prefixlen}`);
        if (owners.has(a.local)) f.addresses.push(`${a.local} is in both ${owners.get(a.local)} and ${who}`);
        owners.set(a.local, who);
      }
    }
    if (!expected) return;
    for (const a of expected) if (!have.has(a)) f.addresses.push(`${who}: recorded ${a} is not on any interface`);
    for (const a of have) if (!expected.has(a)) f.addresses.push(`${who}: ${a} is on an interface but not recorded`);
  };
  for (const [, c] of sandboxes) {
    const sharing = running.filter((o) => o.sandboxKey === c.sandboxKey).map((o) => o.id);
    const expected = new Set(r.endpoints.filter((e) => sharing.includes(e.containerId)).flatMap((e) => e.addresses.filter((a) => !a.includes(':'))));
    await look(`--net=${c.sandboxKey}`, `container ${c.name}`, expected);
  }
  for (const [, pid] of strayNetns) await look(`--net=/proc/${pid}/ns/net`, `stray netns of pid ${pid}`);

  // ---- the published-port map elements
  const element = (proto: string, port: number, ip: string, cport: number) => `${proto} ${port} -> ${ip}:${cport}`;
  // [::1] bindings have no element: berthd relays them (src/portmap/loopback-relay.ts)
  const want = new Set(running.flatMap((c) => (c.publishedPorts ?? []).filter((p) => p.hostIp !== '::1').map((p) => element(p.proto, p.hostPort, p.containerIp, p.containerPort))));
  const have = await publishedElements(lab);
  if (have) {
    for (const e of have) if (!want.has(e)) f.nftElements.push(`element ${e}: no running container publishes it`);
    for (const e of want) if (!have.has(e)) f.nftElements.push(`published ${e} has no element`);
  }
  // ---- routed networks' host ends in the firewall's interface set (exactly the running ones)
  const setJson = await runOk(['nsenter', `--net=${lab.hostNs}`, 'nft', '-j', 'list', 'set', 'ip', 'berth', 'bridges']).catch(() => '');
  if (setJson) {
    const set = (JSON.parse(setJson) as { nftables: { set?: { elem?: unknown[] } }[] }).nftables.find((x) => x.set)?.set;
    const ends = new Set((set?.elem ?? []).filter((e): e is string => typeof e === 'string' && ROUTED_LINK.test(e)));
    for (const e of ends) if (!liveLinks.has(e)) f.nftElements.push(`routed host end ${e} in ip berth bridges: no running endpoint names it`);
    for (const l of vethNames) if (ROUTED_LINK.test(l) && !ends.has(l)) f.nftElements.push(`routed host end ${l} is not in ip berth bridges`);
  }
  return f;
}

/** The etcd endpoint of the lab's berthd (--cluster-store etcd://HOST:PORT,…: the first), when it has a plain-text one. */
function clusterStoreOf(lab: Lab): string | undefined {
  const argv = lab.daemonFlags;
  const at = argv.indexOf('--cluster-store');
  if (at < 0 || argv.includes('--cluster-store-opt')) return undefined; // TLS: the tests of it look themselves
  const first = argv[at + 1]?.replace(/^etcd:\/\//, '').split(',')[0];
  return first ? `http://${first}` : undefined;
}

/** Every key under /berth/v1/<prefix> of the cluster store, decoded; undefined when the store does not answer. */
async function etcdKeys(lab: Lab, endpoint: string, prefix: string): Promise<Map<string, string> | undefined> {
  const out = await runOk(['nsenter', `--net=${lab.hostNs}`, 'etcdctl', '--endpoints', endpoint, '--dial-timeout', '2s', '--command-timeout', '3s',
    'get', '--prefix', `/berth/v1/${prefix}`, '-w', 'json'], { timeoutMs: 10_000 }).catch(() => undefined);
  if (out === undefined) return undefined;
  const b64 = (x: string) => Buffer.from(x, 'base64').toString('utf8');
  return new Map(((JSON.parse(out) as { kvs?: { key: string; value: string }[] }).kvs ?? []).map((kv) => [b64(kv.key), b64(kv.value)]));
}

/** This host's endpoints on global networks against the cluster store's records and address keys. */
async function checkClusterStore(lab: Lab, r: Records, f: Findings): Promise<void> {
  const endpoint = clusterStoreOf(lab);
  if (!endpoint || !r.hostId) return;
  const [records, addresses] = [await etcdKeys(lab, endpoint, 'endpoints/'), await etcdKeys(lab, endpoint, 'addresses/')];
  if (!records || !addresses) return; // a test that stopped its etcd: nothing to compare with
  const running = new Set(r.containers.filter((c) => c.state.status === 'running').map((c) => c.id));
  const global = new Set(r.networks.filter((n) => n.scope === 'global').map((n) => n.id));
  const live = new Map(r.endpoints.filter((e) => global.has(e.networkId) && running.has(e.containerId) && e.addresses.length).map((e) => [e.id, e]));
  const stored = new Map<string, { ip: string; up: boolean; host: string; networkId: string }>();
  for (const [key, value] of records) {
    const rec = JSON.parse(value) as { id: string; ip: string; up: boolean; host: string; networkId: string };
    stored.set(rec.id, rec);
    if (rec.host !== r.hostId) continue;
    const ep = live.get(rec.id);
    if (!ep) f.store.push(`cluster store: ${key} (${rec.ip}) of this host: no running endpoint here holds it`);
    else if (!ep.addresses.some((a) => a.split('/')[0] === rec.ip)) f.store.push(`cluster store: ${key} says ${rec.ip}, the endpoint here holds ${ep.addresses.join(', ')}`);
    else if (!rec.up) f.store.push(`cluster store: ${key} (${rec.ip}) of a running endpoint is not up: other hosts do not serve its names`);
  }
  for (const [key, value] of addresses) {
    const holder = JSON.parse(value) as string;
    if (!stored.has(holder)) f.store.push(`cluster store: ${key} is held by endpoint ${holder.slice(0, 12)}, which has no record`);
  }
  for (const ep of live.values()) {
    const rec = stored.get(ep.id);
    if (!rec) f.store.push(`cluster store: running endpoint ${ep.id.slice(0, 12)} (${ep.addresses.join(', ')}) has no record`);
    else if (!addresses.has(`/berth/v1/addresses/${encodeURIComponent(ep.networkId)}/${encodeURIComponent(rec.ip)}`)) f.store.push(`cluster store: running endpoint ${ep.id.slice(0, 12)} has no key for its address ${rec.ip}`);
  }
}

/**
 * proto port -> ip:port for every element of berth's published maps in both families'
 * tables (undefined without the ip table: --iptables=false; no ip6 table: --ip6tables=false).
 */
async function publishedElements(lab: Lab): Promise<Set<string> | undefined> {
  const out = new Set<string>();
  for (const [family, map] of [['ip', 'published'], ['ip', 'published_any'], ['ip6', 'published'], ['ip6', 'published_any']] as const) {
    const text = await runOk(['nsenter', `--net=${lab.hostNs}`, 'nft', '-j', 'list', 'map', family, 'berth', map]).catch(() => undefined);
    if (text === undefined && family === 'ip') return undefined;
    if (text === undefined) continue;
    for (const item of JSON.parse(text).nftables as Record<string, { elem?: unknown[] }>[]) {
      for (const el of item.map?.elem ?? []) {
        const [key, value] = el as [{ concat: unknown[] }, { concat: unknown[] }];
        const k = key.concat.map(String);
        const v = value.concat.map(String);
        const [proto, port] = k.length === 3 ? [k[1], k[2]] : [k[0], k[1]];
        out.add(`${proto} ${port} -> ${v[0]}:${v[1]}`);
      }
    }
  }
  return out;
}

/**
 * The checks, repeated until clean or until settleMs passed (the kernel's asynchronous
 * netns teardown); returns the last findings, so a leak that stays is reported.
 */
export async function checkConsistency(lab: Lab, settleMs = 10_000): Promise<Findings> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const f = await findInconsistencies(lab);
    if (countFindings(f) === 0 || Date.now() > deadline) return f;
    await sleep(200);
  }
}
