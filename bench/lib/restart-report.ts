// bench:restart's figures: every (system, size) measured, kept in restart.json so that runs
// of a few systems or sizes (1,000 dockerd containers take many minutes to make) add to one
// table instead of replacing it; restart.md is rendered from all of them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { median, sum } from './stats.js';

export interface Round {
  pingMs: number;
  portsMs: number;
  namesMs: number;
  readyMs: number;
  /** port connections tried from before the kill to after ready, and how many failed */
  probes: number;
  failed: number;
  /** the daemon's own lines about its start */
  said: string[];
}

export interface Measured {
  system: string;
  n: number;
  date: string;
  loadBefore: string;
  loadAfter: string;
  /** seconds to make the containers */
  madeS: number;
  rounds: Round[];
  footprint?: string;
  /** how it differs from the common workload */
  note?: string;
}

export const SYSTEM_ORDER = ['berth', 'dockerd-live', 'dockerd'];
const LABEL: Record<string, string> = {
  berth: 'berthd',
  'dockerd-live': 'dockerd 20.10 --live-restore',
  dockerd: 'dockerd 20.10, containers restarted (--restart always)',
};

/** The measurements already in file, those of fresh replacing any of the same system and size. */
export function merged(file: string, fresh: Measured[]): Measured[] {
  const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { measured: Measured[] }).measured : [];
  const key = (m: Measured) => `${m.system}/${m.n}`;
  const replaced = new Set(fresh.map(key));
  return [...old.filter((m) => !replaced.has(key(m))), ...fresh]
    .sort((a, b) => a.n - b.n || SYSTEM_ORDER.indexOf(a.system) - SYSTEM_ORDER.indexOf(b.system));
}

export function writeJson(file: string, all: Measured[]): void {
  writeFileSync(file, `${JSON.stringify({ measured: all }, null, 1)}\n`);
}

const fmt = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;

export function render(all: Measured[], o: { machine: string; node: string; perNetwork: number; firstPort: number; probed: number }): string {
  const berth = (n: number) => all.find((m) => m.system === 'berth' && m.n === n);
  const ratio = (m: Measured, pick: (r: Round) => number) => {
    const b = berth(m.n);
    return m.system === 'berth' || !b ? '' : `${(median(m.rounds.map(pick)) / median(b.rounds.map(pick))).toFixed(1)}×`;
  };
  const rows = all.map((m) => {
    const rs = m.rounds;
    return `| ${m.n.toLocaleString('en-US')} | ${LABEL[m.system] ?? m.system}${m.note ? ` (${m.note})` : ''} | ${rs.length} | ${fmt(rs.map((r) => r.pingMs))} | ${fmt(rs.map((r) => r.namesMs))} | ${sum(rs.map((r) => r.probes)).toLocaleString('en-US')}, ${sum(rs.map((r) => r.failed)).toLocaleString('en-US')} failed | ${fmt(rs.map((r) => r.portsMs))} | ${fmt(rs.map((r) => r.readyMs))} | ${ratio(m, (r) => r.pingMs)} | ${ratio(m, (r) => r.readyMs)} | \`${m.loadBefore.split(' ').slice(0, 3).join(' ')}\` → \`${m.loadAfter.split(' ').slice(0, 3).join(' ')}\` |`;
  });
  return [
    '# Restart after kill -9 with N containers running: berthd beside dockerd 20.10',
    '',
    `On ${o.machine}, node ${o.node}, shared with other work (load: 1, 5, 15 min averages before → after each system's rounds). Produced by \`npm run bench:restart\` (bench/restart.ts) in a lab world; knobs BENCH_RESTART_N, BENCH_RESTART_ROUNDS, BENCH_RESTART_SYSTEMS (berth,dockerd-live,dockerd). Each row's date and every round are in restart.json.`,
    '',
    `The workload, the same for every system: N containers running busybox httpd on port 80, each publishing it (-p ${o.firstPort}+i:80) and named on a user network (${o.perNetwork} per network), and a prober container connected to every network. The daemon is killed with SIGKILL and started again; every figure is timed from the start of the new daemon. Ready = /_ping answers, every published port forwards, every name resolves (the embedded DNS at 127.0.0.11, asked from the prober).`,
    '',
    '| containers | system | rounds | /_ping answers (ms) | every name resolves (ms) | port connections during the restart, failed | every port forwarding (ms) | ready: all three (ms) | /_ping ÷ berthd | ready ÷ berthd | load |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
    '',
    'Medians (min-max) over the rounds.',
    '',
    `- Probes (bench/lib/restart-probes.ts), beside the restart, not after it: the ports one from the lab host to its uplink address, from before the kill until 0.5 s after every probed port forwards again, a round of connections (1 s timeout) every 0.2 s, up to ${o.probed} ports spread evenly (the host's neighbour table is one for all namespaces: 1,024 entries here); a port counts as forwarding from its last failed connection on (0 when none failed). The names one from the prober's netns, asking the last name until it answers and then every name until all have (c-ares, one try of 250 ms). Besides, all N ports must have their DNAT entry after each restart (berth's nftables map, dockerd's iptables chain DOCKER).`,
    '- dockerd: Debian docker.io 20.10.24 in the lab host\'s netns, overlay2, its default userland proxy (two docker-proxy processes per published port, 0.0.0.0 and ::; a connection from the host to its own address is DNATed by iptables and never reaches the proxy), log level info for its milestones. Its containerd (1.6.20) runs as a process of its own which dockerd is pointed at (--containerd), as Debian\'s docker.service runs beside containerd.service: killing dockerd leaves containerd, the shims, the containers and the iptables rules. (Left to itself, dockerd 20.10 starts containerd as its child with a parent-death signal: a dockerd killed with -9 takes its containerd along, and the next dockerd starts a new one, which finds the shims again. Seen here: after the kill only the shims and the containers were left.) Every docker-proxy dies with dockerd (parent-death signal too) and the new dockerd starts them again.',
    '- dockerd without --live-restore kills the running containers at its start; they carry --restart always, so ready means all are running again with their ports and names. The prober is restarted too: its name probe can only begin once the prober runs again, so that figure includes the probe\'s own start (~0.1 s). Both dockerd rows use one set of containers per size (made once, --restart always on all): the --live-restore rounds first.',
    '- dockerd\'s milestones are its own log lines (Loading containers: start/done, Daemon has completed initialization, API listen), seconds after its start.',
    '',
    '## What each daemon said of its last start, and what dockerd\'s processes cost',
    '',
    ...all.map((m) => `- ${m.n.toLocaleString('en-US')}, ${LABEL[m.system] ?? m.system} (${m.date.slice(0, 16)}Z, containers made in ${m.madeS.toFixed(0)} s): ${m.rounds.at(-1)?.said.join('; ') || '-'}${m.footprint ? `. Running: ${m.footprint}` : ''}`),
    '',
  ].join('\n');
}
