// Named network namespaces for the anchors (inside the lab world only) and what is in them.
import { run, runOk } from '../../test/lab/exec.js';
import { median } from './stats.js';
import { nowMs } from './timing.js';

export async function addNetns(name: string): Promise<void> {
  await runOk(['ip', 'netns', 'add', name]);
  await runOk(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

export async function deleteNetns(name: string): Promise<void> {
  await run(['ip', 'netns', 'delete', name]);
}

/** How runtimes here get a process into a named netns (fresh mount ns and /sys, as podman's tests do). */
export function inNetns(name: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', name, ...argv];
}

/** Interface names and kinds in a netns: "name kind" per line, sorted, lo left out. */
export async function linkSummary(name: string): Promise<string[]> {
  const links = JSON.parse(await runOk(['ip', '-n', name, '-d', '-j', 'link', 'show'])) as { ifname: string; linkinfo?: { info_kind?: string } }[];
  return links.filter((l) => l.ifname !== 'lo').map((l) => `${l.ifname} ${l.linkinfo?.info_kind ?? ''}`.trim()).sort();
}

/** Lines of `iptables-save` in a netns that are rules (-A), for leak checks. */
export async function iptablesRules(name: string): Promise<string[]> {
  const r = await run(inNetns(name, ['iptables-save']));
  return r.stdout.split('\n').filter((l) => l.startsWith('-A ')).sort();
}

/** Median cost of the wrapper itself (`ip netns exec NS /bin/true`), to subtract by eye. */
export async function wrapperOverheadMs(name: string, runs = 15): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = nowMs();
    await runOk(inNetns(name, ['/bin/true']));
    xs.push(nowMs() - t0);
  }
  return median(xs);
}

/** What is left over: items in `after` not in `before` (multiset difference). */
export function added(before: readonly string[], after: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const b of before) left.set(b, (left.get(b) ?? 0) + 1);
  const out: string[] = [];
  for (const a of after) {
    const k = left.get(a) ?? 0;
    if (k > 0) left.set(a, k - 1);
    else out.push(a);
  }
  return out;
}

/**
 * Leftover iptables rules that belong to one container (its host port or its /32), as
 * opposed to the shared chains and jumps the anchors leave in place by design.
 */
export function perContainerRules(rules: readonly string[]): string[] {
  return rules.filter((r) => /(dport|:)\s*2\d{4}\b|\b10\.\d+\.\d+\.\d+\/32\b/.test(r));
}
