// berth in a lab: berthd started by test/lab, containers created through its API, then
// removed; at every 50th an extra container is made and removed through the CLI (timed
// apart from the creation wall); leak checks against the state before the first one.
// With dualStack, every second container goes to a dual-stack network instead (series of
// their own, so both kinds are timed at the same scale), and the ICMPv6 the containers
// send into each bridge is counted. With the routed kind, containers go (round-robin with
// the other kinds) to one routed network (-o berth.network.mode=routed: no bridge, no
// 1,023-port limit) as a series of its own; with the default kind, to the default bridge
// (no embedded DNS there, as in Docker: no resolver sockets either). With shares, the kinds
// take turns in proportion to them, so every stretch of the run holds each kind.
import { basename, join } from 'node:path';
import { BERTH_BIN, DAEMON_PATH, Lab } from '../../test/lab/lab.js';
import { run } from '../../test/lab/exec.js';
import { pidsWithArgs, mountsUnder, rssMb } from './host.js';
import { apiOk } from './lab-api.js';
import { countIcmp6, DEFAULT_PREFIX, DUAL_PREFIX, readIcmp6, ROUTED_PREFIX, V4_PREFIX, type Icmp6Count } from './dual-stack.js';
import { added, linkSummary } from './netns.js';
import { emptyRun, type SystemRun } from './results.js';
import { median } from './stats.js';
import { nowMs } from './timing.js';

/** The daemon's own timing of a start, when it reports it (proposed API addition). */
const SETUP_HEADER = 'x-berth-setup-ms';

/** IPv4-only bridge networks, dual-stack ones, one routed network, the default bridge */
export type Kind = 'v4' | 'dual' | 'routed' | 'default';

export interface BerthOptions {
  n: number;
  /** bridge networks of each bridge kind */
  networks: number;
  /** the kinds of network the containers go to, in turn */
  kinds: Kind[];
  /** how many containers each kind gets (summing to n); equal shares when absent */
  shares?: number[];
  /** how long ICMPv6 is still counted after the last container started (router solicitations are seconds apart) */
  icmp6SettleS: number;
  log: (line: string) => void;
}

/** The containers' networks, by kind. */
type Nets = Record<Kind, string[]>;

/**
 * The CLI as a user runs it: `berth …` straight from a shell, no nsenter (it only needs the
 * daemon's socket). This sandbox sets NODE_EXTRA_CA_CERTS, which makes every node start
 * parse a CA bundle (~35 ms here); a Debian host has no such variable and the berth CLI
 * never uses TLS, so it is emptied for the CLI (node skips an empty one).
 */
const CLI_ENV = { NODE_EXTRA_CA_CERTS: '' };

async function must(lab: Lab, args: string[]): Promise<string> {
  const r = await run([BERTH_BIN, '-H', `unix://${lab.socket}`, ...args], { timeoutMs: 120_000, env: CLI_ENV });
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}


/** What must be back to its old self after the last removal. */
interface Snapshot {
  links: string[];
  mounts: string[];
  nft: string[];
}

async function snapshot(lab: Lab): Promise<Snapshot> {
  const nft = [];
  for (const family of ['ip', 'ip6']) {
    const r = await lab.inHost(['nft', 'list', 'table', family, 'berth']);
    nft.push(...r.stdout.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => `${family}: ${l}`));
  }
  return {
    links: await linkSummary(basename(lab.hostNs)),
    mounts: mountsUnder(lab.dir),
    nft,
  };
}

/**
 * The kernel destroys a deleted netns (and the veth ends in it) on a work queue of its own,
 * after the last process of the container has gone: host veth ends still there right after
 * the last removal are waited for, up to 10 s, and only what stays counts as leaked.
 */
async function settled(lab: Lab, before: Snapshot, res: SystemRun): Promise<Snapshot> {
  const t0 = nowMs();
  let after = await snapshot(lab);
  while (added(before.links, after.links).length && nowMs() - t0 < 10_000) {
    await new Promise((r) => setTimeout(r, 100));
    after = await snapshot(lab);
  }
  res.notes.push(`host veth ends of removed containers gone ${(nowMs() - t0).toFixed(0)} ms after the last removal (the kernel's netns clean-up)`);
  return after;
}

async function leaks(lab: Lab, before: Snapshot, nets: string[], res: SystemRun): Promise<string[]> {
  const after = await settled(lab, before, res);
  const out = [
    ...added(before.links, after.links).map((l) => `link ${l}`),
    // the netns directory becomes a mount point with the first container, and stays (like /run/netns)
    ...added(before.mounts, after.mounts).filter((m) => m !== join(lab.execRoot, 'netns')).map((m) => `mount ${m}`),
    ...added(before.nft, after.nft).map((l) => `nft +${l}`),
    ...added(after.nft, before.nft).map((l) => `nft -${l}`),
  ];
  for (const n of nets) {
    const body = (await apiOk(lab, 'GET', `/networks/${n}`)).body as { Containers?: Record<string, unknown> };
    const held = Object.keys(body.Containers ?? {}).length;
    if (held) out.push(`network ${n} still lists ${held} endpoints`);
  }
  const all = (await apiOk(lab, 'GET', '/containers/json?all=1')).body as unknown[];
  if (all.length) out.push(`${all.length} containers still known`);
  const sleepers = pidsWithArgs('sleep', '3600').length;
  if (sleepers) out.push(`${sleepers} container processes still running`);
  return out;
}

async function medianOf(times: number, fn: () => Promise<unknown>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = nowMs();
    await fn();
    xs.push(nowMs() - t0);
  }
  return median(xs);
}

export async function runBerth(o: BerthOptions): Promise<SystemRun> {
  const res = emptyRun('berth', 'API POST /containers/create + /start over the unix socket, wall time (network set-up + process start + store)');
  const lab = await Lab.create({ startDaemon: false });
  try {
    await lab.startDaemon();
    const daemonPid = pidsWithArgs(DAEMON_PATH, lab.dataRoot)[0];
    const nets: Nets = { v4: [], dual: [], routed: [], default: o.kinds.includes('default') ? ['bridge'] : [] };
    const dualStack = o.kinds.includes('dual');
    for (let k = 0; k < o.networks; k++) {
      if (o.kinds.includes('v4')) {
        await must(lab, ['network', 'create', `benchnet${k}`]);
        nets.v4.push(`benchnet${k}`);
      }
      if (!dualStack) continue;
      await must(lab, ['network', 'create', '--ipv6', `benchdual${k}`]);
      nets.dual.push(`benchdual${k}`);
    }
    if (o.kinds.includes('routed')) {
      // a /16 of its own: past the /20s the default pools hand out once the /16s are taken (4,094 containers)
      await must(lab, ['network', 'create', '-o', 'berth.network.mode=routed', '--subnet', '10.240.0.0/16', 'benchrouted']);
      nets.routed.push('benchrouted');
    }
    const before = await snapshot(lab);
    const bridges = new Map<string, string>();
    for (const net of [...nets.v4, ...nets.dual]) bridges.set(net, `br-${(await must(lab, ['network', 'inspect', '-f', '{{.Id}}', net])).slice(0, 12)}`);
    if (dualStack) await countIcmp6(lab, [...bridges.values()]);
    const ids = await createAll(lab, o, nets, res);
    if (dualStack) res.icmp6 = await icmp6Counts(lab, o, nets, bridges, res);
    res.rssMb = daemonPid ? rssMb(daemonPid) : undefined;
    res.rssWhat = 'berthd VmRSS';
    res.networkLsMs = await medianOf(5, () => must(lab, ['network', 'ls']));
    res.networkLsWhat = '`berth network ls` (node CLI), median of 5';
    const apiLs = await medianOf(5, () => apiOk(lab, 'GET', '/networks'));
    const nodeStart = await medianOf(5, () => run(['node', '-e', '0'], { env: CLI_ENV }));
    const nodeStartCa = await medianOf(5, () => run(['node', '-e', '0']));
    res.notes.push(`\`network ls\` parts: API GET /networks ${apiLs.toFixed(1)} ms; a bare \`node -e 0\` here ${nodeStart.toFixed(0)} ms (${nodeStartCa.toFixed(0)} ms with this sandbox's NODE_EXTRA_CA_CERTS, which the CLI runs are spared)`);
    const t1 = nowMs();
    for (const id of ids) {
      const ts = nowMs();
      await apiOk(lab, 'DELETE', `/containers/${id}?force=1`);
      res.teardownMs.push(nowMs() - ts);
    }
    res.removeWallMs = nowMs() - t1;
    res.leaks = await leaks(lab, before, [...nets.v4, ...nets.dual, ...nets.routed, ...nets.default], res);
  } catch (err) {
    const log = lab.daemonLog();
    o.log(`berthd log (tail):\n${log.slice(-4000)}`);
    throw err;
  } finally {
    await lab.destroy();
  }
  return res;
}

async function createAll(lab: Lab, o: BerthOptions, nets: Nets, res: SystemRun): Promise<string[]> {
  const prefixes: Record<Kind, string> = { v4: V4_PREFIX, dual: DUAL_PREFIX, routed: ROUTED_PREFIX, default: DEFAULT_PREFIX };
  const kinds = o.kinds.map((k) => ({ prefix: prefixes[k], nets: nets[k] }));
  const timed = kinds.map(() => ({ api: [] as (number | undefined)[], daemon: [] as (number | undefined)[] }));
  const cli: (number | undefined)[] = [];
  const createMs: number[] = [];
  const ids: string[] = [];
  let paused = 0;
  const t0 = nowMs();
  const shares = o.shares ?? kinds.map(() => o.n / kinds.length);
  const given = kinds.map(() => 0);
  for (let i = 1; i <= o.n; i++) {
    // the kind furthest behind its share; round-robin over the networks of one kind
    const k = shares.map((sh, j) => (sh * i) / o.n - given[j]!).reduce((best, d, j, ds) => (d > ds[best]! ? j : best), 0);
    const kindNets = kinds[k].nets;
    const net = kindNets[given[k]! % kindNets.length];
    given[k]!++;
    const ts = nowMs();
    const c = await apiOk(lab, 'POST', `/containers/create?name=bench${i}`, { Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: net } });
    const tc = nowMs();
    createMs.push(tc - ts);
    const id = (c.body as { Id: string }).Id;
    ids.push(id);
    const s = await lab.api('POST', `/containers/${id}/start`);
    if (s.status >= 300) {
      // a limit of the host met on the way (tasks, open files …): what was reached is the result
      const said = (s.body as { message?: string } | undefined)?.message ?? `HTTP ${s.status}`;
      res.notes.push(`stopped at container ${i}: its start failed: ${said}`);
      o.log(`berth: container ${i} could not start (${said}): stopping there`);
      await apiOk(lab, 'DELETE', `/containers/${id}?force=1`);
      ids.pop();
      break;
    }
    timed[k].api[i - 1] = nowMs() - ts;
    const h = s.headers[SETUP_HEADER];
    if (typeof h === 'string' && h !== '') timed[k].daemon[i - 1] = Number(h);
    if (i % 50 === 0) {
      // the CLI sample: one more container, made and removed by `berth`, outside the wall time
      const tPause = nowMs();
      await must(lab, ['run', '-d', '--name', `cli${i}`, '--network', net, '--', 'sleep', '3600']);
      cli[i - 1] = nowMs() - tPause;
      await must(lab, ['rm', '-f', `cli${i}`]);
      paused += nowMs() - tPause;
    }
    if (i % 100 === 0) o.log(`berth: ${i} running (${((nowMs() - t0) / 1000).toFixed(1)} s)`);
  }
  res.createWallMs = nowMs() - t0 - paused;
  res.reached = ids.length;
  // the IPv4 series first: the report compares the first daemon-timed / API series with the anchors
  const daemonTimed = timed.some((t) => t.daemon.some((v) => v !== undefined));
  if (daemonTimed) kinds.forEach((kind, k) => res.series.push({ label: `${kind.prefix}daemon-timed network set-up (X-Berth-Setup-Ms)`, samples: timed[k].daemon, plot: true }));
  else res.notes.push('berthd does not report its own set-up time yet (no X-Berth-Setup-Ms header): the API create+start time is an upper bound on it');
  kinds.forEach((kind, k) => res.series.push({ label: `${kind.prefix}API create+start`, samples: timed[k].api, plot: true }));
  res.series.push({ label: 'berth: CLI `berth run -d` (every 50th, one extra container)', samples: cli, plot: false });
  res.notes.push('set-up wall: the N API create+start pairs back to back, the CLI samples (made and removed apart) excluded');
  if (o.kinds.length > 1) res.notes.push(`containers in turn on ${o.kinds.map((k) => `${k} networks (${nets[k].join(', ')})`).join(', ')}: the plain "berth" rows are the IPv4-only bridge networks, the "dual stack" rows the dual-stack ones, the "routed" rows one routed network`);
  res.notes.push(`API create alone: median ${median(createMs).toFixed(2)} ms (the rest of create+start is start)`);
  return ids;
}

/** The ICMPv6 counters of every bridge, read icmp6SettleS after the last container started. */
async function icmp6Counts(lab: Lab, o: BerthOptions, nets: Nets, bridges: Map<string, string>, res: SystemRun): Promise<Icmp6Count[]> {
  await new Promise((r) => setTimeout(r, o.icmp6SettleS * 1000));
  const counters = await readIcmp6(lab);
  res.notes.push(`ICMPv6 counted at each bridge device's ingress (what containers send to multicast is flooded there too) from before the first container until ${o.icmp6SettleS} s after the last one started`);
  const out: Icmp6Count[] = [];
  for (const [net, bridge] of bridges) {
    const body = (await apiOk(lab, 'GET', `/networks/${net}`)).body as { Containers?: Record<string, unknown> };
    const get = (what: string) => counters.get(`${bridge} ${what}`) ?? 0;
    out.push({ network: net, dualStack: nets.dual.includes(net), bridge, containers: Object.keys(body.Containers ?? {}).length, rs: get('rs'), ns: get('ns'), mld: get('mld'), all: get('all') });
  }
  return out;
}
