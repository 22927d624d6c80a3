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
  /** not ready: what never came back (NaN for the figures it leaves unknown) */
  notBack?: string;
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
  /** where the figures come from, when not from a finished run of the bench */
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

/** median (min-max); a round that never got there is "never" (JSON keeps NaN as null) */
const fmt = (raw: (number | null)[]) => {
  const xs = raw.filter((x): x is number => x !== null && !Number.isNaN(x));
  const never = raw.length - xs.length;
  if (!xs.length) return 'never';
  const figure = xs.length === 1 ? xs[0]!.toFixed(0) : `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
  return never ? `${figure}; never in ${never}` : figure;
};

export function render(all: Measured[], o: { machine: string; node: string; perNetwork: number; firstPort: number; probed: number }): string {
  const berth = (n: number) => all.find((m) => m.system === 'berth' && m.n === n);
  const ratio = (m: Measured, pick: (r: Round) => number) => {
    const b = berth(m.n);
    const xs = m.rounds.map(pick).filter((x) => x !== null && !Number.isNaN(x));
    if (m.system === 'berth' || !b) return '';
        const r = median(xs) / median(b.rounds.map(pick));
    return xs.length < m.rounds.length ? '∞' : `${r.toFixed(r >= 10 ? 0 : 1)}×`;
  };
  const rows = all.map((m) => {
    const rs = m.rounds;
    return `| ${m.n.toLocaleString('en-US')} | ${LABEL[m.system] ?? m.system} | ${rs.length} | ${fmt(rs.map((r) => r.pingMs))} | ${fmt(rs.map((r) => r.namesMs))} | ${rs.some((r) => r.probes == null) ? '-' : `${sum(rs.map((r) => r.probes)).toLocaleString('en-US')}, ${sum(rs.map((r) => r.failed)).toLocaleString('en-US')} failed`} | ${fmt(rs.map((r) => r.portsMs))} | ${fmt(rs.map((r) => r.readyMs))} | ${ratio(m, (r) => r.pingMs)} | ${ratio(m, (r) => r.readyMs)} | \`${m.loadBefore.split(' ').slice(0, 3).join(' ')}\` → \`${m.loadAfter.split(' ').slice(0, 3).join(' ')}\` |`;
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
    '## Where dockerd 20.10\'s restart goes',
    '',
    'Read in its log (info) and, in the 1,000-container --live-restore round of 2026-12-04, by counting its docker-proxy processes and the DNAT rules of its nat chain DOCKER from outside the lab every 2-8 s (a sampler whose own CPU is in that round).',
    '',
    '- Its API answers only once "Loading containers" is done: dockerd 20.10 restores (or restarts) every container before it serves /_ping, and its embedded DNS answers no name before then either: /_ping and the names are one wait (the ports, in its kernel rules, may be back before).',
    '- --live-restore: the containers run throughout, yet published ports stop forwarding. Within 8 s of the start the DNAT rules of chain DOCKER were gone (1,000 → 0; dockerd sets its chains up afresh), then they came back one container at a time, each with its two docker-proxy processes, ~9 containers a second: all 1,000 back 115 s after the start, while 41,479 of the 173,100 probe connections failed. The rest of its start (to 273 s) logs nothing at info; the names answered at its very end.',
    '- Without --live-restore (its log, 100 and 1,000 containers): it first stops every container it finds running, SIGTERM and, 10 s later, SIGKILL (busybox httpd as PID 1 has no SIGTERM handler, so the kernel drops the signal; an --init or a StopTimeout would shorten this): at 1,000 the kills ran from +12 s to +90 s. Then it removes the stale sandboxes one at a time ("Removing stale sandbox": ~0.2 s each for 101, 0.32 s each for 1,001, +135 s to +453 s), having first set up their port mappings again (at 1,000, hundreds of docker-proxy processes were seen running with no container running, fewer as the sandboxes went). Then it starts the containers again (--restart always), side by side (+453 s to +785 s at 1,000), and serves /_ping after the last. At 1,000, 242 of those starts failed: fork/exec of docker-proxy and of iptables got "resource temporarily unavailable" (the machine\'s tasks ran out, see below), and dockerd does not try again a start that failed while it came up: those containers stayed Exited and their names and ports never came back (the row says "never").',
    '- 1,000 containers with their ports cost dockerd ~25,500 tasks (threads): a shim of ~11 and two docker-proxy processes of ~7 each per container, beside pid_max 32,768 on this machine shared with other work (each container start adds the threads of runc and of the proxies for a while: with hundreds started at once, the limit was hit); the RSS sum (19.7 GB) counts shared pages once per process, the machine\'s used memory grew by ~7 GB. -p 0.0.0.0:PORT:80 does not halve the proxies: 20.10.24 binds :: for it too (seen).',
    '',
    '## What each daemon said of its last start, and what dockerd\'s processes cost',
    '',
    ...all.map((m) => `- ${m.n.toLocaleString('en-US')}, ${LABEL[m.system] ?? m.system} (${m.date.slice(0, 16)}Z, containers made in ${m.madeS.toFixed(0)} s): ${m.rounds.at(-1)?.said.join('; ') || '-'}${m.rounds.filter((r) => r.notBack).map((r) => `. NOT READY: ${r.notBack}`).join('')}${m.footprint ? `. Running before the kill: ${m.footprint}` : ''}${m.note ? `. ${m.note}` : ''}`),
    '',
  ].join('\n');
}
