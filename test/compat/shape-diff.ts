// Key-by-key comparison of a berth API answer with dockerd's recorded one. Values that
// must differ between two daemons (ids, timestamps, pids) are compared by JSON type only.

export interface ShapeDiff {
  path: string;
  problem: 'missing' | 'extra' | 'type' | 'value';
  docker: unknown;
  berth: unknown;
}

export interface DiffOptions {
  /** dotted paths (regexes, anchored) whose values are compared by type only */
  typeOnly?: RegExp[];
  /** dotted paths (regexes, anchored) not compared at all */
  ignore?: RegExp[];
}

function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

const matchesAny = (path: string, res: RegExp[] | undefined) => !!res?.some((r) => new RegExp(`^(?:${r.source})$`).test(path));

export function shapeDiff(docker: unknown, berth: unknown, opts: DiffOptions = {}, path = ''): ShapeDiff[] {
  if (matchesAny(path, opts.ignore)) return [];
  const dt = jsonType(docker);
  const bt = jsonType(berth);
  if (dt !== bt) return [{ path, problem: 'type', docker, berth }];
  if (dt === 'object') {
    const d = docker as Record<string, unknown>;
    const b = berth as Record<string, unknown>;
    const out: ShapeDiff[] = [];
    for (const k of Object.keys(d)) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in b)) {
        if (!matchesAny(p, opts.ignore)) out.push({ path: p, problem: 'missing', docker: d[k], berth: undefined });
      } else out.push(...shapeDiff(d[k], b[k], opts, p));
    }
    for (const k of Object.keys(b)) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in d) && !matchesAny(p, opts.ignore)) out.push({ path: p, problem: 'extra', docker: undefined, berth: b[k] });
    }
    return out;
  }
  if (matchesAny(path, opts.typeOnly)) return [];
  if (dt === 'array') {
    const d = docker as unknown[];
    const b = berth as unknown[];
    if (d.length !== b.length) return [{ path, problem: 'value', docker, berth }];
    return d.flatMap((x, i) => shapeDiff(x, b[i], opts, `${path}[${i}]`));
  }
  return docker === berth ? [] : [{ path, problem: 'value', docker, berth }];
}

export function describeDiffs(diffs: ShapeDiff[]): string {
  return diffs.map((d) => `${d.path}: ${d.problem} (dockerd ${JSON.stringify(d.docker)}, berth ${JSON.stringify(d.berth)})`).join('\n');
}

/** Network inspect's Containers map is keyed by container id: re-key it by name. */
export function containersByName(net: unknown): Record<string, unknown> {
  const n = net as Record<string, unknown>;
  const containers = (n.Containers ?? {}) as Record<string, { Name: string }>;
  return { ...n, Containers: Object.fromEntries(Object.values(containers).map((c) => [c.Name, c])) };
}

/** A list answer (networks by Name, containers by their first name) as a map, so order does not matter. */
export function byName(list: unknown): Record<string, unknown> {
  return Object.fromEntries((list as { Name?: string; Names?: string[] }[]).map((x) => [x.Name ?? x.Names?.[0] ?? '', x]));
}
