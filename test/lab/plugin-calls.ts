// The calls a network driver plugin received (test/lab/net-plugin.ts logs them, one JSON
// line each), made comparable between two engines: network and endpoint ids, sandbox
// keys and MACs become <network N>, <endpoint N>, <sandbox N>, <mac N> in the order they
// first appear. Run as a script: JSON lines on stdin → the normalized array on stdout
// (scripts/reference/70-plugin.sh records dockerd's this way).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface PluginCall {
  method: string;
  body: unknown;
}

export function normalizeCalls(calls: PluginCall[]): PluginCall[] {
  const seen = new Map<string, string>();
  const counts: Record<string, number> = {};
  const name = (kind: string, value: string): string => {
    let n = seen.get(value);
    if (!n) seen.set(value, (n = `<${kind} ${(counts[kind] = (counts[kind] ?? 0) + 1)}>`));
    return n;
  };
  const walk = (v: unknown, key = ''): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    if (typeof v !== 'string' || !v) return v;
    if (key === 'NetworkID') return name('network', v);
    if (key === 'EndpointID') return name('endpoint', v);
    if (key === 'SandboxKey') return name('sandbox', v);
    if (key === 'MacAddress') return name('mac', v);
    return v;
  };
  return calls.map((c) => ({ method: c.method, body: walk(c.body) }));
}

export function parseCallLog(text: string): PluginCall[] {
  return text.split('\n').filter(Boolean).map((l) => {
    const { method, body } = JSON.parse(l) as PluginCall;
    return { method, body };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(normalizeCalls(parseCallLog(readFileSync(0, 'utf8'))), null, 2)}\n`);
}
