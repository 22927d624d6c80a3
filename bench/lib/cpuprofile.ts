// A V8 .cpuprofile summarised: self time per function, and total time under chosen frames.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FrameTime {
  frame: string;
  ms: number;
}

function frameName(n: ProfileNode): string {
  const f = n.callFrame;
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/dist\//, '').replace(/^.*\/node_modules\//, 'node_modules/');
  return `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
}

/** Per node: ms of samples taken in it (self time). */
function selfTimes(p: Profile): Map<number, number> {
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  return self;
}

export function summarise(path: string, top = 30): { wallMs: number; idleMs: number; self: FrameTime[]; inclusive: FrameTime[] } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const self = selfTimes(p);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfByFrame = new Map<string, number>();
  for (const [id, ms] of self) {
    const name = frameName(byId.get(id)!);
    selfByFrame.set(name, (selfByFrame.get(name) ?? 0) + ms);
  }
  // inclusive: each frame counted once per path (recursion does not double count)
  const incl = new Map<string, number>();
  const walk = (id: number, onPath: Set<string>): number => {
    const n = byId.get(id)!;
    let total = self.get(id) ?? 0;
    const name = frameName(n);
    const fresh = !onPath.has(name);
    if (fresh) onPath.add(name);
    for (const c of n.children ?? []) total += walk(c, onPath);
    if (fresh) {
      onPath.delete(name);
      incl.set(name, (incl.get(name) ?? 0) + total);
    }
    return total;
  };
  walk(p.nodes[0].id, new Set());
  const sorted = (m: Map<string, number>) => [...m].map(([frame, ms]) => ({ frame, ms })).sort((a, b) => b.ms - a.ms);
  const idleMs = selfByFrame.get('(idle)') ?? 0;
  return {
    wallMs: (p.endTime - p.startTime) / 1000,
    idleMs,
    self: sorted(selfByFrame).filter((f) => f.frame !== '(idle)').slice(0, top),
    inclusive: sorted(incl).filter((f) => !/^\((root|idle|program)\)/.test(f.frame)).slice(0, top),
  };
}

export function renderProfile(path: string, note: string): string {
  const s = summarise(path);
  const row = (f: FrameTime) => `| ${f.ms.toFixed(0)} | ${f.frame.replace(/\|/g, '\\|')} |`;
  return [
    '# berthd CPU profile (main thread) during the set-up benchmark',
    '',
    note,
    '',
    `Profile wall ${(s.wallMs / 1000).toFixed(1)} s, idle ${(s.idleMs / 1000).toFixed(1)} s (waiting on the kernel worker, the shim, the socket).`,
    '',
    '## Self time, top functions', '', '| ms | function |', '|---:|---|', ...s.self.map(row), '',
    '## Inclusive time, top frames', '', '| ms | frame |', '|---:|---|', ...s.inclusive.map(row), '',
  ].join('\n');
}
