import assert from 'node:assert/strict';
import type { Lab, RunResult } from '../lab/lab.js';

// Small assertions shared by the integration tests: every one goes through the real
// CLI and the real kernel.

export async function ok(lab: Lab, args: string[]): Promise<string> {
  const r = await lab.berth(args);
  assert.equal(r.code, 0, `berth ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

export async function fails(lab: Lab, args: string[], message: RegExp): Promise<RunResult> {
  const r = await lab.berth(args);
  assert.notEqual(r.code, 0, `berth ${args.join(' ')} should fail but printed: ${r.stdout}`);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1, `expected one error line, got: ${r.stderr}`);
  return r;
}

export async function hostOk(lab: Lab, argv: string[]): Promise<string> {
  const r = await lab.inHost(argv);
  assert.equal(r.code, 0, `${argv.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

export async function inspect(lab: Lab, name: string, format: string): Promise<string> {
  return ok(lab, ['inspect', '-f', format, name]);
}

/** Runs a long-lived container (sleep) detached and returns its id. */
export async function runSleeper(lab: Lab, name: string, extra: string[] = []): Promise<string> {
  return ok(lab, ['run', '-d', '--name', name, ...extra, '--', 'sleep', '3600']);
}

export async function pingFrom(lab: Lab, container: string, target: string, extra: string[] = []): Promise<boolean> {
  const r = await lab.berth(['exec', container, 'ping', '-c1', '-W1', ...extra, target]);
  return r.code === 0;
}

/** What `name` resolves to inside the container (getent hosts: the first address), '' when it does not. */
export async function resolves(lab: Lab, container: string, name: string): Promise<string> {
  const r = await lab.berth(['exec', container, 'getent', 'hosts', name]);
  return r.code === 0 ? r.stdout.trim().split(/\s+/)[0] : '';
}

/** Every container pings every other, by address and by name (`where`: container → the lab it runs in). */
export async function pingsEveryOther(where: Record<string, Lab>, ips: Record<string, string>): Promise<void> {
  for (const [from, lab] of Object.entries(where)) {
    for (const to of Object.keys(where)) {
      if (to === from) continue;
      assert.ok(await pingFrom(lab, from, ips[to]!), `${from} -> ${ips[to]}`);
      assert.ok(await pingFrom(lab, from, to), `${from} -> ${to} by name`);
    }
  }
}

/** Host-side view: interfaces in the lab host netns (name → {kind, master}). */
export async function hostLinks(lab: Lab): Promise<{ ifname: string; master?: string; linkinfo?: { info_kind?: string } }[]> {
  return JSON.parse(await hostOk(lab, ['ip', '-d', '-j', 'link', 'show']));
}

export async function nftTables(lab: Lab): Promise<string> {
  return hostOk(lab, ['nft', 'list', 'tables']);
}

/**
 * The kernel destroys a deleted netns, and the host veth ends of its interfaces, on a work
 * queue of its own, a little after the last process in it has gone: a check of host links
 * right after a removal asks again until `count` is 0 or 5 s passed. A real leak stays.
 */
export async function settledCount(count: () => Promise<number>, timeoutMs = 5000): Promise<number> {
  let n = 0;
  await poll(async () => ((n = await count()) === 0 ? true : undefined), timeoutMs, 50);
  return n;
}

/** Asks again every 20 ms until `fn` holds; returns how long it took (ms), or throws naming `what` after timeoutMs. */
export async function eventually(what: string, fn: () => Promise<boolean>, timeoutMs = 5_000): Promise<number> {
  const start = Date.now();
  if ((await poll(async () => ((await fn()) ? true : undefined), timeoutMs)) === undefined) throw new Error(`not within ${timeoutMs} ms: ${what}`);
  return Date.now() - start;
}

/** Asks again every 100 ms until `fn` gives a value (not undefined) and returns it, or throws naming `what` after timeoutMs. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const v = await poll(fn, timeoutMs, 100);
  if (v === undefined) throw new Error(`${what}: not within ${timeoutMs} ms`);
  return v;
}

/** The one poller: fn every intervalMs until it gives a value (returned), or undefined once timeoutMs passed (fn is asked at least once). */
async function poll<T>(fn: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 20): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
