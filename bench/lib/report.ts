// The markdown report: set-up time by window, totals, and issue 6's targets.
import { dualStackSection } from './dual-stack.js';
import type { SystemRun } from './results.js';
import { median, percentile, standardWindows, windowStats, type Window } from './stats.js';
import { fmtMs } from './timing.js';

export interface ReportContext {
  date: string;
  machine: string;
  loadBefore: string;
  loadAfter: string;
  n: number;
  networks: number;
  node: string;
  plotFile: string;
}

function setupTable(runs: SystemRun[], windows: Window[]): string[] {
  const head = `| system: what is timed | ${windows.map((w) => `containers ${w.label}`).join(' | ')} | all samples |`;
  const out = [head, `|---|${windows.map(() => '---:').join('|')}|---:|`];
  for (const r of runs) {
    for (const s of r.series) {
      const cells = windows.map((w) => {
        const st = windowStats(s.samples, w);
        if (st.count === 0) return '-';
        return st.count < 3 ? `${fmtMs(st.median)} (n=${st.count})` : `${fmtMs(st.median)} / ${fmtMs(st.p99)}`;
      });
      const xs = s.samples.filter((v): v is number => v !== undefined);
      const all = xs.length ? `${fmtMs(median(xs))} / ${fmtMs(percentile(xs, 99))} (n=${xs.length})` : '-';
      out.push(`| ${s.label} | ${cells.join(' | ')} | ${all} |`);
    }
  }
  return out;
}

function s(ms: number | undefined): string {
  return ms === undefined ? '-' : (ms / 1000).toFixed(1);
}

function totalsTable(runs: SystemRun[]): string[] {
  const out = [
    '| system | containers reached | set-up wall (s) | teardown per container median / p99 (ms) | teardown wall (s) | control-plane RSS at the top (MB) | `network ls` round-trip (ms) | leaks after teardown |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of runs) {
    const td = r.teardownMs.length ? `${fmtMs(median(r.teardownMs))} / ${fmtMs(percentile(r.teardownMs, 99))}` : '-';
    const leaks = r.leaks === undefined ? 'not checked' : r.leaks.length === 0 ? 'none' : `${r.leaks.length}: ${r.leaks.slice(0, 3).map((l) => (l.length > 90 ? `${l.slice(0, 90)}…` : l)).join('; ')}${r.leaks.length > 3 ? ' …' : ''}`;
    const rss = r.rssMb === undefined ? 'n/a' : `${r.rssMb.toFixed(0)} (${r.rssWhat})`;
    out.push(`| ${r.system} | ${r.reached} | ${s(r.createWallMs)} | ${td} | ${s(r.removeWallMs)} | ${rss} | ${r.networkLsMs === undefined ? 'n/a' : fmtMs(r.networkLsMs)} | ${leaks} |`);
  }
  return out;
}

/** berth's best per-window median (daemon-timed if it reports it, else API). */
function berthMetric(berth: SystemRun): { label: string; samples: (number | undefined)[] } | undefined {
  return berth.series.find((x) => x.label.includes('daemon-timed')) ?? berth.series.find((x) => x.label.includes('API'));
}

function targets(runs: SystemRun[], windows: Window[], n: number): string[] {
  const berth = runs.find((r) => r.system === 'berth');
  if (!berth) return ['(berth did not run)'];
  const metric = berthMetric(berth);
  const out = ['| target (issue 6, medians) | measured | met |', '|---|---|---|'];
  const row = (t: string, m: string, ok: boolean | undefined) => out.push(`| ${t} | ${m} | ${ok === undefined ? '?' : ok ? 'yes' : `**no**`} |`);
  if (metric) {
    const first = windowStats(metric.samples, windows[0]).median;
    const last = windowStats(metric.samples, windows[windows.length - 1]).median;
    row('network set-up ≤ 5 ms', `${fmtMs(first)} → ${fmtMs(last)} ms (${metric.label})`, last <= 5 && first <= 5);
    row('flat: last window within 1.5x of 1-10', `${(last / first).toFixed(2)}x`, last / first <= 1.5);
    const anchors = runs.filter((r) => r !== berth);
    const ratios = windows.map((w) => {
      const b = windowStats(metric.samples, w).median;
      const best = Math.min(...anchors.flatMap((a) => a.series.filter((x) => x.plot).map((x) => windowStats(x.samples, w).median)).filter((v) => !Number.isNaN(v)));
      return { w, ratio: best / b };
    }).filter((x) => Number.isFinite(x.ratio));
    if (ratios.length) {
      row('≥ 3x faster than the fastest anchor at every point', ratios.map((x) => `${x.w.label}: ${x.ratio.toFixed(1)}x`).join(', '), ratios.every((x) => x.ratio >= 3));
    }
  }
  const cli = berth.series.find((x) => x.label.includes('CLI'));
  if (cli) {
    const xs = cli.samples.filter((v): v is number => v !== undefined);
    if (xs.length) row('whole `berth run -d` ≤ 50 ms', `${fmtMs(median(xs))} ms (n=${xs.length})`, median(xs) <= 50);
  }
  const scale = n >= 1000 ? '' : ` (at ${n}; target is for 1,000)`;
  row(`1,000 created in ≤ 20 s${scale}`, `${s(berth.createWallMs)} s`, n >= 1000 ? (berth.createWallMs ?? Infinity) <= 20_000 : undefined);
  row(`1,000 removed in ≤ 20 s${scale}`, `${s(berth.removeWallMs)} s`, n >= 1000 ? (berth.removeWallMs ?? Infinity) <= 20_000 : undefined);
  row('zero leaked interfaces, mounts, rules, IP allocations', berth.leaks?.length ? berth.leaks.join('; ') : 'none', berth.leaks !== undefined && berth.leaks.length === 0);
  row(`berthd RSS ≤ 150 MB${scale}`, `${berth.rssMb?.toFixed(0) ?? '-'} MB`, berth.rssMb !== undefined && berth.rssMb <= 150);
  row(`\`berth network ls\` ≤ 100 ms${scale}`, `${fmtMs(berth.networkLsMs)} ms`, berth.networkLsMs !== undefined && berth.networkLsMs <= 100);
  return out;
}

export function renderReport(runs: SystemRun[], ctx: ReportContext): string {
  const windows = standardWindows(ctx.n);
  const lines = [
    '# Container network set-up: berth side by side with dockerd, netavark and the CNI plugins',
    '',
    `Run ${ctx.date} on ${ctx.machine}, node ${ctx.node}; load (\`/proc/loadavg\`) before: \`${ctx.loadBefore}\`, after: \`${ctx.loadAfter}\`.`,
    `${ctx.n} containers asked for each system, spread round-robin over ${ctx.networks} bridge networks (a bridge holds at most 1,023 ports).`,
    'Produced by `npm run bench:setup` (bench/setup.ts) in a lab world; compare ratios within one run, the machine is shared and noisy.',
    '',
    '## Per-container set-up time, ms: median / p99, by number of containers existing',
    '',
    ...setupTable(runs, windows),
    '',
    `![set-up time vs containers](${ctx.plotFile})`,
    '',
    '## Teardown, memory, listing, leaks',
    '',
    ...totalsTable(runs),
    '',
    '## Issue 6 targets (berth)',
    '',
    ...targets(runs, windows, ctx.n),
    '',
    ...dualStackSection(runs.find((r) => r.system === 'berth'), windows),
    '## What each figure is',
    '',
    ...runs.flatMap((r) => [`- **${r.system}**: ${r.method}.`, ...r.notes.map((x) => `  - ${x}`)]),
    '',
  ];
  return lines.join('\n');
}
