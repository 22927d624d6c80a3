// A hand-written SVG line chart: set-up time (log scale) against number of containers.
import type { SystemRun } from './results.js';
import { rollingMedian } from './stats.js';

const W = 900;
const M = { left: 70, right: 20, top: 40, bottom: 60 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Round numbers for the log axis: 1, 2, 5, 10, 20, 50 … within [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

function linTicks(max: number): number[] {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(v);
  return out;
}

export function setupChart(runs: SystemRun[], title: string, width = 25): string {
  const lines = runs.flatMap((r) => r.series.filter((s) => s.plot).map((s) => ({ label: s.label, pts: rollingMedian(s.samples, width) })));
  const H = 420 + M.bottom + Math.ceil(lines.length / 2) * 18;
  const all = lines.flatMap((l) => l.pts);
  const xMax = Math.max(10, ...all.map((p) => p[0]));
  const yLo = Math.max(0.1, Math.min(...all.map((p) => p[1])) / 1.5);
  const yHi = Math.max(1, ...all.map((p) => p[1])) * 1.5;
  const pw = W - M.left - M.right;
  const ph = 420 - M.top;
  const x = (v: number) => M.left + (v / xMax) * pw;
  const y = (v: number) => M.top + ph - ((Math.log10(v) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  for (const t of logTicks(yLo, yHi)) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  for (const t of linTicks(xMax)) {
    out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x(t).toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${M.top + ph + 36}" text-anchor="middle">containers existing (this one included)</text>`);
  out.push(`<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">set-up time per container, ms (log; rolling median of ${width})</text>`);
  lines.forEach((l, i) => {
    const color = COLORS[i % COLORS.length];
    const d = l.pts.map((p, j) => `${j ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    if (l.pts.length === 1) out.push(`<circle cx="${x(l.pts[0][0]).toFixed(1)}" cy="${y(l.pts[0][1]).toFixed(1)}" r="3" fill="${color}"/>`);
    else out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    const ly = M.top + ph + 60 + Math.floor(i / 2) * 18;
    const lx = M.left + (i % 2) * (pw / 2);
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 30}" y="${ly}">${esc(l.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
