// Anchor: the CNI reference plugins 1.1.1 (Debian), chained bridge (+ host-local IPAM) and
// portmap, invoked the way runtimes do: one exec per plugin, config on stdin, CNI_* in
// the environment; DEL in reverse order with the ADD result as prevResult.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../test/lab/exec.js';
import { Budget } from '../lib/budget.js';
import { added, addNetns, perContainerRules, deleteNetns, inNetns, iptablesRules, linkSummary } from '../lib/netns.js';
import { emptyRun, type SystemRun } from '../lib/results.js';
import { nowMs } from '../lib/timing.js';
import type { AnchorOptions } from './netavark.js';

const CNI_PATH = '/usr/lib/cni';
const CNI_VERSION = '1.0.0';

interface Ctr {
  ns: string;
  id: string;
  net: number;
  hostPort: number;
  result?: unknown;
}

function bridgeConf(k: number, ipamDir: string, prevResult?: unknown): object {
  return {
    cniVersion: CNI_VERSION,
    name: `benchnet${k}`,
    type: 'bridge',
    bridge: `cni${k}`,
    isGateway: true,
    ipMasq: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: `10.22.${k}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir },
    ...(prevResult ? { prevResult } : {}),
  };
}

function portmapConf(k: number, c: Ctr, prevResult: unknown): object {
  return {
    cniVersion: CNI_VERSION,
    name: `benchnet${k}`,
    type: 'portmap',
    capabilities: { portMappings: true },
    runtimeConfig: { portMappings: [{ hostPort: c.hostPort, containerPort: 80, protocol: 'tcp' }] },
    prevResult,
  };
}

async function plugin(host: string, type: string, command: 'ADD' | 'DEL', c: Ctr, conf: object): Promise<string> {
  const env = { CNI_COMMAND: command, CNI_CONTAINERID: c.id, CNI_NETNS: `/run/netns/${c.ns}`, CNI_IFNAME: 'eth0', CNI_PATH };
  const r = await run(inNetns(host, [join(CNI_PATH, type)]), { input: JSON.stringify(conf), env });
  if (r.code !== 0) throw new Error(`CNI ${type} ${command} ${c.ns} exited ${r.code}: ${r.stdout.trim()} ${r.stderr.trim()}`);
  return r.stdout;
}

async function add(host: string, ipamDir: string, c: Ctr): Promise<number> {
  const t0 = nowMs();
  const bridgeResult = JSON.parse(await plugin(host, 'bridge', 'ADD', c, bridgeConf(c.net, ipamDir)));
  c.result = JSON.parse(await plugin(host, 'portmap', 'ADD', c, portmapConf(c.net, c, bridgeResult)));
  return nowMs() - t0;
}

async function del(host: string, ipamDir: string, c: Ctr): Promise<number> {
  const t0 = nowMs();
  await plugin(host, 'portmap', 'DEL', c, portmapConf(c.net, c, c.result));
  await plugin(host, 'bridge', 'DEL', c, bridgeConf(c.net, ipamDir, c.result));
  return nowMs() - t0;
}

export async function runCni(o: AnchorOptions): Promise<SystemRun> {
  const res = emptyRun('CNI plugins 1.1.1', 'exec of bridge (host-local IPAM) then portmap ADD, 1 port mapping, wall time incl. `ip netns exec` per plugin');
  const host = `bcni${process.pid}`;
  const ipamDir = join(o.dir, 'cni-ipam');
  mkdirSync(ipamDir, { recursive: true });
  await addNetns(host);
  const linksBefore = await linkSummary(host);
  const rulesBefore = await iptablesRules(host);
  const setup: number[] = [];
  const made: Ctr[] = [];
  const budget = new Budget(o.budgetS, 0.5);
  const t0 = nowMs();
  try {
    for (let i = 1; i <= o.n && !budget.setupSpent(); i++) {
      const c: Ctr = { ns: `bcni${process.pid}c${i}`, id: randomBytes(32).toString('hex'), net: (i - 1) % o.networks, hostPort: 20000 + i };
      await addNetns(c.ns);
      made.push(c);
      setup.push(await add(host, ipamDir, c));
      if (i % 100 === 0) o.log(`cni: ${i} set up (${budget.elapsedS().toFixed(0)} s)`);
    }
    res.createWallMs = nowMs() - t0;
    res.reached = setup.length;
    res.series.push({ label: 'CNI: bridge+portmap ADD', samples: setup, plot: true });
    const t1 = nowMs();
    while (made.length) {
      const c = made[0];
      res.teardownMs.push(await del(host, ipamDir, c));
      await deleteNetns(c.ns);
      made.shift();
    }
    res.removeWallMs = nowMs() - t1;
    // The bridge plugin leaves its bridges by design (shared by the network); they are not counted.
    res.leaks = [
      ...added(linksBefore, await linkSummary(host)).filter((l) => !/^cni\d+ bridge$/.test(l)).map((l) => `link ${l}`),
      ...perContainerRules(added(rulesBefore, await iptablesRules(host))).map((l) => `iptables ${l}`),
    ];
    const shared = added(rulesBefore, await iptablesRules(host)).length;
    if (shared) res.notes.push(`after teardown ${shared} iptables rules stay: shared chains and jumps, kept by design; per-container leftovers are counted as leaks`);
  } finally {
    for (const c of made) await deleteNetns(c.ns);
    await deleteNetns(host);
  }
  if (res.reached < o.n) res.notes.push(`stopped at ${res.reached} containers: time budget ${o.budgetS} s`);
  res.notes.push('no daemon (exec per plugin): RSS and `network ls` not applicable; the bridges stay by design');
  return res;
}
