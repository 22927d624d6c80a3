// The latency distribution of DNS answers as an SVG chart (bench:dns → dns-latency.svg):
// one curve per resolver and condition, the latency (µs, log) at each percentile, the
// percentiles spread by their nines (50, 90, 99, 99.9, 99.99 equally apart), so the tail a
// p99 target is about is as wide as the body. Drawn like svg.ts's set-up chart.

/** One curve: [percentile, µs] pairs, as dns-latency.ts reports them. */
export interface LatencyCurve {
  label: string;
  dist: [number, number][];
}

const W = 900;
const PH = 380;
const M = { left: 70, right: 20, top: 40, bottom: 60 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const X_TICKS = [50, 90, 99, 99.9, 99.99];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** 50 → 0.3, 90 → 1, 99 → 2 … */
const nines = (p: number) => -Math.log10(1 - p / 100);

export function latencyChart(curves: LatencyCurve[], title: string): string {
  const pts = curves.flatMap((c) => c.dist).filter(([p, us]) => p >= 50 && us > 0);
  if (!pts.length) return '';
  const yLo = Math.min(...pts.map(([, us]) => us)) / 1.5;
  const yHi = Math.max(...pts.map(([, us]) => us)) * 1.5;
  const [xLo, xHi] = [nines(50), nines(99.99)];
  const pw = W - M.left - M.right;
  const H = M.top + PH + M.bottom + Math.ceil(curves.length / 2) * 18;
  const x = (p: number) => M.left + ((nines(p) - xLo) / (xHi - xLo)) * pw;
  const y = (us: number) => M.top + PH - ((Math.log10(us) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * PH;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  for (let e = Math.floor(Math.log10(yLo)); e <= Math.ceil(Math.log10(yHi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v < yLo || v > yHi) continue;
      out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
      out.push(`<text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
    }
  }
  for (const p of X_TICKS) {
    out.push(`<line x1="${x(p).toFixed(1)}" x2="${x(p).toFixed(1)}" y1="${M.top}" y2="${M.top + PH}" stroke="#eee"/>`);
    out.push(`<text x="${x(p).toFixed(1)}" y="${M.top + PH + 16}" text-anchor="middle">p${p}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${PH}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${M.top + PH + 36}" text-anchor="middle">percentile of answers (spread by nines)</text>`);
  out.push(`<text transform="translate(18 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">latency from send to answer, µs (log)</text>`);
  curves.forEach((c, i) => {
    const color = COLORS[i % COLORS.length];
    const d = c.dist.filter(([p, us]) => p >= 50 && us > 0).map(([p, us], j) => `${j ? 'L' : 'M'}${x(p).toFixed(1)},${y(us).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${i % 2 ? ' stroke-dasharray="6 3"' : ''}/>`);
    const ly = M.top + PH + 60 + Math.floor(i / 2) * 18;
    const lx = M.left + (i % 2) * (pw / 2);
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="3"${i % 2 ? ' stroke-dasharray="6 3"' : ''}/>`);
    out.push(`<text x="${lx + 30}" y="${ly}">${esc(c.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The median of each percentile over several runs of the same cell. */
export function medianDist(runs: [number, number][][]): [number, number][] {
  const first = runs[0] ?? [];
  return first.map(([p], k) => {
    const v = runs.map((r) => r[k]?.[1] ?? NaN).filter((n) => !Number.isNaN(n)).sort((a, b) => a - b);
    return [p, v[Math.floor(v.length / 2)] ?? NaN];
  });
}
