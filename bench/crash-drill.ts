// npm run bench:crash-drill — the long kill -9 drill (issue 12): a mixed workload of
// 1,000 operations (creates, runs, bursts of 30 concurrent starts, connects, disconnects,
// stops, removals, published ports, static addresses, network creates and removals)
// against berthd, killed with SIGKILL at ≥ 50 random moments and started again; after each
// restart kernel, processes and store are compared (test/lab/consistency.ts); then the
// same with a real etcd in the lab and an overlay network among the drill's. Every count
// must be 0. Runs inside scripts/in-lab.sh. Writes bench/results/crash-drill.md.
// Knobs: BENCH_DRILL_OPS, BENCH_DRILL_KILLS, BENCH_DRILL_SEED.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crashDrill, type DrillReport } from '../test/lab/crash-drill.js';
import { FINDING_KINDS } from '../test/lab/consistency.js';
import { Lab } from '../test/lab/lab.js';
import { loadavg } from './lib/host.js';
import { median, percentile } from './lib/stats.js';

const OPS = Number(process.env.BENCH_DRILL_OPS ?? 1000);
const KILLS = Number(process.env.BENCH_DRILL_KILLS ?? 60);
const SEED = Number(process.env.BENCH_DRILL_SEED ?? 2026);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(process.env.BENCH_OUT ?? join(REPO, 'bench', 'results'), 'crash-drill.md');

const CLUSTER_FLAGS = ['--cluster-store', 'etcd://127.0.0.1:2379', '--cluster-advertise', 'uplink0'];

interface Run {
  label: string;
  report: DrillReport;
  wallS: number;
}

/** One drill on a fresh lab; overlay: with a real etcd in the lab and an overlay network among the drill's networks. */
async function drill(overlay: boolean): Promise<Run> {
  const lab = await Lab.create(overlay ? { startDaemon: false, daemonArgs: CLUSTER_FLAGS } : {});
  const t0 = Date.now();
  try {
    if (overlay) {
      await lab.startEtcd();
      await lab.startDaemon();
    }
    const report = await crashDrill(lab, { seed: SEED, operations: OPS, kills: KILLS, concurrency: 6, burst: 30, maxContainers: 60, overlay, log: (l) => console.log(l) });
    return { label: overlay ? 'bridge networks + an overlay on etcd' : 'bridge networks', report, wallS: (Date.now() - t0) / 1000 };
  } catch (err) {
    console.log(`berthd log (tail):\n${lab.daemonLog().slice(-4000)}`);
    throw err;
  } finally {
    await lab.destroy();
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const runs = [await drill(false), await drill(true)];
  const zero = (n: number) => (n === 0 ? '0' : `**${n}**`);
  const rows: [string, (r: DrillReport) => string][] = [
    ['operations run', (r) => String(r.operations)],
    ['kill -9 of berthd (each followed by a start and the check)', (r) => String(r.kills)],
    ['operations cut by a kill (outcome learnt again from berthd)', (r) => String(r.cut)],
    ['intents start-up found on record and finished or undone', (r) => String(r.intents)],
    ['stray processes start-up killed (of starts cut between the spawn and the record)', (r) => String(r.killed)],
    ...FINDING_KINDS.map((k): [string, (r: DrillReport) => string] => [`findings: ${k}`, (r) => zero(r.findings[k])]),
    ['containers or networks lost (not as their last confirmed operation left them)', (r) => zero(r.lost.length)],
    ['5xx answers', (r) => zero(r.serverErrors.length)],
    ['first operation after a restart failed', (r) => zero(r.firstOperationFailures.length)],
    ['start after a kill until berthd answers, median / p95 / max (ms)', (r) => `${median(r.restartMs).toFixed(0)} / ${percentile(r.restartMs, 95).toFixed(0)} / ${Math.max(...r.restartMs).toFixed(0)}`],
  ];
  const problems = (r: DrillReport) => [...r.lost, ...r.serverErrors, ...r.firstOperationFailures];
  const md = [
    '# Crash drill: kill -9 of berthd under a mixed workload',
    '',
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load before ${loadBefore}; seed ${SEED}; ${runs.map((r) => `${r.label}: ${r.wallS.toFixed(0)} s`).join(', ')}.`,
    `Workload: ${OPS} operations from 6 workers (bursts start 30 containers at once; at most 60 containers), berthd killed ${KILLS} times at random moments; `
      + 'after each start the workload pauses while kernel, processes and store are compared (test/lab/consistency.ts: processes in unknown netns and unknown shims, '
      + 'netns mounts, veths and bridges, addresses inside every sandbox, published-port map elements, state dirs, store rows, and with a cluster store '
      + 'the etcd records and address keys of this host against its running endpoints), '
      + 'every container and network is checked against its last confirmed operation, and a run with a published port, then rm, must work at once. '
      + 'The second drill runs the same workload with a real etcd 3.4 in the lab (`--cluster-store`): one of the networks is an overlay, and some network creates make overlays, '
      + 'so the kills also cut claims and releases in etcd. '
      + 'No anchor runs this drill: dockerd, netavark and the CNI plugins have no equivalent of berth\'s start-up reconciliation to compare with.',
    '',
    `| what | ${runs.map((r) => r.label).join(' | ')} |`,
    `|---|${runs.map(() => '---').join('|')}|`,
    ...rows.map(([a, f]) => `| ${a} | ${runs.map((r) => f(r.report)).join(' | ')} |`),
    '',
    ...runs.flatMap((r) => (r.report.examples.length ? [`Findings, ${r.label} (first 20):`, '', ...r.report.examples.map((e) => `- ${e}`), ''] : [])),
    ...runs.flatMap((r) => (problems(r.report).length ? [`Failures, ${r.label}:`, '', ...problems(r.report).slice(0, 20).map((e) => `- ${e}`), ''] : [])),
  ].join('\n');
  writeFileSync(OUT, md);
  console.log(md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
