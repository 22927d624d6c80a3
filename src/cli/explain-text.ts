import type { Explanation } from '../engine/explain/explain.js';
import type { Hop } from '../engine/explain/walk.js';

// `berth explain` for a person: the hops of the packet, each nftables rule that matched
// under its hop, the reply's way back, then the verdict line and what would change it.

export function explanationText(e: Explanation): string {
  const lines = [`${e.source} → ${e.destination} port ${e.port}/${e.proto}`];
  const hops = (list: Hop[]) => {
    const width = Math.min(48, Math.max(...list.map((h) => h.where.length)));
    list.forEach((h, i) => {
      lines.push(`  ${String(i + 1).padStart(2)}  ${h.where.padEnd(width)}  ${h.decided}`);
      for (const r of h.rules ?? []) {
        const what = r.comment ?? r.text ?? `rule handle ${r.handle}`;
        const verdict = r.verdict === 'jump' || r.verdict === 'goto' ? `${r.verdict} ${r.target}` : r.verdict;
        lines.push(`      ${' '.repeat(width)}  · ${r.family} ${r.table} ${r.chain}: ${what} → ${verdict}`);
      }
    });
  };
  hops(e.hops);
  if (e.reply.length) {
    lines.push('reply:');
    hops(e.reply);
  }
  for (const n of e.notes) lines.push(`note: ${n}`);
  lines.push(e.verdict === 'reachable' ? 'verdict: reachable' : `verdict: blocked by ${e.reason}`);
  if (e.fix) lines.push(`to change it: ${e.fix}`);
  return lines.join('\n') + '\n';
}
