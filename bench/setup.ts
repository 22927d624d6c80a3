// `npm run bench:setup`: container network set-up, berth side by side with dockerd 20.10,
// netavark 1.4 and the CNI plugins, in one run inside a lab world (scripts/bench.sh).
// Env: BENCH_N (1000), BENCH_ANCHORS (netavark,cni,docker), BENCH_ANCHOR_BUDGET_S (200),
// BENCH_DOCKER_BUDGET_S (240), BENCH_PROF=1 (CPU profile of berthd), BENCH_OUT (bench/results),
// BENCH_DUAL (1: every second berth container on a dual-stack network; 0: IPv4 only),
// BENCH_ICMP6_SETTLE_S (5: ICMPv6 still counted this long after the last container).
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCni } from './anchors/cni.js';
import { runDocker } from './anchors/docker.js';
import { runNetavark, type AnchorOptions } from './anchors/netavark.js';
import { runBerth, type Kind } from './lib/berth-system.js';
import { envInt, networksFor } from './lib/budget.js';
import { cpuModel, loadavg } from './lib/host.js';
import { renderProfile } from './lib/cpuprofile.js';
import { renderReport } from './lib/report.js';
import type { SystemRun } from './lib/results.js';
import { setupChart } from './lib/svg.js';
import { log } from './lib/lab-api.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ANCHORS: Record<string, { pkg: string; fn: (o: AnchorOptions) => Promise<SystemRun> }> = {
  netavark: { pkg: '/usr/lib/podman/netavark', fn: runNetavark },
  cni: { pkg: '/usr/lib/cni/bridge', fn: runCni },
  docker: { pkg: '/usr/sbin/dockerd', fn: runDocker },
};


function requireLabWorld(): void {
  if (process.env.BERTH_LAB_WORLD !== '1') throw new Error('run this inside a lab world: bash scripts/bench.sh dist/bench/setup.js');
}

async function main(): Promise<void> {
  requireLabWorld();
  const n = envInt('BENCH_N', 1000);
  // BENCH_KINDS: v4, dual (dual-stack bridges), routed (one routed network); BENCH_DUAL=0 is the old v4 alone
  // BENCH_KINDS=v4:4000,routed:5000,default:1000 gives each kind its share (they must sum to BENCH_N)
  const spec = (process.env.BENCH_KINDS ?? (envInt('BENCH_DUAL', 1) === 1 ? 'v4,dual' : 'v4')).split(',').map((k) => k.trim().split(':'));
  const kinds = spec.map(([k]) => k) as Kind[];
  if (!kinds.length || kinds.some((k) => !['v4', 'dual', 'routed', 'default'].includes(k))) throw new Error(`BENCH_KINDS: a list of v4, dual, routed, default, each with an optional :count (got ${process.env.BENCH_KINDS})`);
  const shares = spec.every((x) => x[1] !== undefined) ? spec.map((x) => Number(x[1])) : undefined;
  if (shares && (shares.some((x) => !Number.isInteger(x) || x < 1) || shares.reduce((a, b) => a + b, 0) !== n)) throw new Error(`BENCH_KINDS: the counts must be whole and sum to BENCH_N=${n}`);
  if ((shares?.[kinds.indexOf('default')] ?? (kinds.includes('default') ? n / kinds.length : 0)) > 1023) throw new Error('BENCH_KINDS: the default bridge holds at most 1,023 containers');
  const networks = networksFor(n);
  // berth's containers split over its kinds: as many bridge networks of each as its share needs
  const berthNetworks = networksFor(Math.ceil(shares ? Math.max(...shares.filter((_, j) => kinds[j] === 'v4' || kinds[j] === 'dual')) || 1 : n / kinds.length));
  const out = process.env.BENCH_OUT || join(REPO, 'bench/results');
  const wanted = (process.env.BENCH_ANCHORS ?? 'netavark,cni,docker').split(',').map((x) => x.trim()).filter((x) => x && x !== 'none');
  const profileDir = process.env.BENCH_PROF === '1' ? process.env.BENCH_PROF_DIR : undefined;
  mkdirSync(out, { recursive: true });
  const work = '/run/berth-lab/bench';
  mkdirSync(work, { recursive: true });
  const loadBefore = loadavg();
  log(`N=${n} over ${networks} networks; anchors: ${wanted.join(',') || 'none'}; load ${loadBefore}`);
  const runs: SystemRun[] = [];
  runs.push(await runBerth({ n, networks: berthNetworks, kinds, shares, icmp6SettleS: envInt('BENCH_ICMP6_SETTLE_S', 5), log }));
  log(`berth done: ${runs[0].reached} containers`);
  for (const name of wanted) {
    const a = ANCHORS[name];
    if (!a) throw new Error(`unknown anchor ${name} (netavark, cni, docker)`);
    if (!existsSync(a.pkg)) {
      log(`${name}: ${a.pkg} missing (apt-get install -y netavark aardvark-dns containernetworking-plugins docker.io busybox-static): skipped`);
      continue;
    }
    const budgetS = name === 'docker' ? envInt('BENCH_DOCKER_BUDGET_S', 240) : envInt('BENCH_ANCHOR_BUDGET_S', 200);
    try {
      runs.push(await a.fn({ n, networks, budgetS, dir: join(work, name), log }));
      log(`${name} done: ${runs[runs.length - 1].reached} containers`);
    } catch (err) {
      log(`${name} failed: ${(err as Error).stack ?? err}`);
    }
  }
  const ctx = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpuModel()}`,
    loadBefore,
    loadAfter: loadavg(),
    n,
    networks,
    node: process.version,
    plotFile: 'setup.svg',
  };
  writeFileSync(join(out, 'setup.svg'), setupChart(runs, `Container network set-up vs containers existing (${ctx.date.slice(0, 10)}, load ${loadBefore.split(' ')[0]})`));
  writeFileSync(join(out, 'setup.md'), renderReport(runs, ctx));
  writeFileSync(join(out, 'setup.json'), JSON.stringify({ ctx, runs }, null, 1));
  if (profileDir) writeProfile(profileDir, out, n);
  log(`wrote ${join(out, 'setup.md')}, setup.svg, setup.json`);
}

function writeProfile(dir: string, out: string, n: number): void {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort() : [];
  if (!files.length) return log(`no CPU profile in ${dir}`);
  const note = `berthd run with --cpu-prof while ${n} containers were created through the API (every 50th through the CLI) and removed.`;
  // one file per thread: the main thread's first, then the worker threads'
  const parts = files.map((f, i) => renderProfile(join(dir, f), i === 0 ? note : `Thread profile ${f}.`));
  writeFileSync(join(out, 'setup-profile.md'), parts.join('\n'));
  log(`wrote ${join(out, 'setup-profile.md')}`);
}

main().catch((err) => {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
