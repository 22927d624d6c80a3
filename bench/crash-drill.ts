// npm run bench:crash-drill — the long kill -9 drill (issue 12): a mixed workload of
// 1,000 operations (creates, runs, bursts of 30 concurrent starts, connects, disconnects,
// stops, removals, published ports, static addresses, network creates and removals)
// against berthd, killed with SIGKILL at ≥ 50 random moments and started again; after each
// restart kernel, processes and store are compared (test/lab/consistency.ts). Every count
// must be 0. Runs inside scripts/in-lab.sh. Writes bench/results/crash-drill.md.
// Knobs: BENCH_DRILL_OPS, BENCH_DRILL_KILLS, BENCH_DRILL_SEED.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crashDrill } from '../test/lab/crash-drill.js';
import { FINDING_KINDS } from '../test/lab/consistency.js';
import { Lab } from '../test/lab/lab.js';
import { loadavg } from './lib/host.js';
import { median, percentile } from './lib/stats.js';

const OPS = Number(process.env.BENCH_DRILL_OPS ?? 1000);
const KILLS = Number(process.env.BENCH_DRILL_KILLS ?? 60);
const SEED = Number(process.env.BENCH_DRILL_SEED ?? 2026);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(process.env.BENCH_OUT ?? join(REPO, 'bench', 'results'), 'crash-drill.md');

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const lab = await Lab.create();
  const t0 = Date.now();
  let report;
  try {
    report = await crashDrill(lab, { seed: SEED, operations: OPS, kills: KILLS, concurrency: 6, burst: 30, maxContainers: 60, log: (l) => console.log(l) });
  } catch (err) {
    console.log(`berthd log (tail):\n${lab.daemonLog().slice(-4000)}`);
    throw err;
  } finally {
    await lab.destroy();
  }
  const wallS = (Date.now() - t0) / 1000;
  const zero = (n: number) => (n === 0 ? '0' : `**${n}**`);
  const rows: [string, string][] = [
    ['operations run', String(report.operations)],
    ['kill -9 of berthd (each followed by a start and the check)', String(report.kills)],
    ['operations cut by a kill (outcome learnt again from berthd)', String(report.cut)],
    ['intents start-up found on record and finished or undone', String(report.intents)],
    ['stray processes start-up killed (of starts cut between the spawn and the record)', String(report.killed)],
    ...FINDING_KINDS.map((k): [string, string] => [`findings: ${k}`, zero(report.findings[k])]),
    ['containers or networks lost (not as their last confirmed operation left them)', zero(report.lost.length)],
    ['5xx answers', zero(report.serverErrors.length)],
    ['first operation after a restart failed', zero(report.firstOperationFailures.length)],
    ['start after a kill until berthd answers, median / p95 / max (ms)', `${median(report.restartMs).toFixed(0)} / ${percentile(report.restartMs, 95).toFixed(0)} / ${Math.max(...report.restartMs).toFixed(0)}`],
  ];
  const md = [
    '# Crash drill: kill -9 of berthd under a mixed workload',
    '',
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load before ${loadBefore}; seed ${SEED}; ${wallS.toFixed(0)} s in all.`,
    `Workload: ${OPS} operations from 6 workers (bursts start 30 containers at once; at most 60 containers), berthd killed ${KILLS} times at random moments; `
      + 'after each start the workload pauses while kernel, processes and store are compared (test/lab/consistency.ts: processes in unknown netns and unknown shims, '
      + 'netns mounts, veths and bridges, addresses inside every sandbox, published-port map elements, state dirs, store rows), '
      + 'every container and network is checked against its last confirmed operation, and a run with a published port, then rm, must work at once. '
      + 'No anchor runs this drill: dockerd, netavark and the CNI plugins have no equivalent of berth\'s start-up reconciliation to compare with.',
    '',
    '| what | count |',
    '|---|---|',
    ...rows.map(([a, b]) => `| ${a} | ${b} |`),
    '',
    ...(report.examples.length ? ['Findings (first 20):', '', ...report.examples.map((e) => `- ${e}`), ''] : []),
    ...(report.lost.length || report.serverErrors.length || report.firstOperationFailures.length
      ? ['Failures:', '', ...[...report.lost, ...report.serverErrors, ...report.firstOperationFailures].slice(0, 20).map((e) => `- ${e}`), '']
      : []),
  ].join('\n');
  writeFileSync(OUT, md);
  console.log(md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
