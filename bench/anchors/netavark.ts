// Anchor: podman's netavark 1.4 (Debian), exec'd per container the way podman does:
// `netavark --config DIR --rootless false setup /run/netns/CTR < opts.json`, with podman's
// own IPAM (static_ips filled in), one bridge per 250 containers and one port mapping each.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../test/lab/exec.js';
import { Budget } from '../lib/budget.js';
import { added, addNetns, perContainerRules, deleteNetns, inNetns, iptablesRules, linkSummary, wrapperOverheadMs } from '../lib/netns.js';
import { emptyRun, type SystemRun } from '../lib/results.js';
import { nowMs } from '../lib/timing.js';

const NETAVARK = '/usr/lib/podman/netavark';

export interface AnchorOptions {
  n: number;
  networks: number;
  budgetS: number;
  /** A directory under the lab world's /run for the anchor's state. */
  dir: string;
  log: (line: string) => void;
}

interface NetInfo {
  name: string;
  id: string;
  driver: 'bridge';
  network_interface: string;
  subnets: { subnet: string; gateway: string }[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  ipam_options: { driver: string };
}

function network(k: number): NetInfo {
  return {
    name: `benchnet${k}`,
    id: randomBytes(32).toString('hex'),
    driver: 'bridge',
    network_interface: `podman${k + 1}`,
    subnets: [{ subnet: `10.89.${k}.0/24`, gateway: `10.89.${k}.1` }],
    ipv6_enabled: false,
    internal: false,
    dns_enabled: false,
    ipam_options: { driver: 'host-local' },
  };
}

/** Container i (1-based): its network and address, round-robin over the networks. */
function optsFor(i: number, nets: NetInfo[]): string {
  const k = (i - 1) % nets.length;
  const host = Math.floor((i - 1) / nets.length) + 2;
  const net = nets[k];
  return JSON.stringify({
    container_id: randomBytes(32).toString('hex'),
    container_name: `ctr${i}`,
    networks: { [net.name]: { interface_name: 'eth0', static_ips: [`10.89.${k}.${host}`], aliases: [`ctr${i}`] } },
    network_info: { [net.name]: net },
    port_mappings: [{ host_ip: '', container_port: 80, host_port: 20000 + i, range: 1, protocol: 'tcp' }],
  });
}

async function netavark(host: string, configDir: string, cmd: 'setup' | 'teardown', ctrNs: string, opts: string): Promise<number> {
  const t0 = nowMs();
  const r = await run(inNetns(host, [NETAVARK, '--config', configDir, '--rootless', 'false', cmd, `/run/netns/${ctrNs}`]), { input: opts });
  const ms = nowMs() - t0;
  if (r.code !== 0) throw new Error(`netavark ${cmd} ${ctrNs} exited ${r.code}: ${r.stderr.trim()}`);
  return ms;
}

export async function runNetavark(o: AnchorOptions): Promise<SystemRun> {
  const res = emptyRun('netavark 1.4', 'exec of `netavark setup` (iptables driver, static IP, 1 port mapping, no DNS), wall time incl. `ip netns exec`');
  const host = `bnv${process.pid}`;
  const configDir = join(o.dir, 'netavark');
  mkdirSync(configDir, { recursive: true });
  await addNetns(host);
  const overhead = await wrapperOverheadMs(host);
  res.notes.push(`\`ip netns exec\` wrapper alone: ${overhead.toFixed(1)} ms median (included in the figures)`);
  const linksBefore = await linkSummary(host);
  const rulesBefore = await iptablesRules(host);
  const nets = Array.from({ length: o.networks }, (_, k) => network(k));
  const setup: number[] = [];
  const made: { ns: string; opts: string }[] = [];
  const budget = new Budget(o.budgetS, 0.5);
  const t0 = nowMs();
  try {
    for (let i = 1; i <= o.n && !budget.setupSpent(); i++) {
      const ns = `bnv${process.pid}c${i}`;
      await addNetns(ns);
      const opts = optsFor(i, nets);
      made.push({ ns, opts });
      setup.push(await netavark(host, configDir, 'setup', ns, opts));
      if (i % 100 === 0) o.log(`netavark: ${i} set up (${budget.elapsedS().toFixed(0)} s)`);
    }
    res.createWallMs = nowMs() - t0;
    res.reached = setup.length;
    res.series.push({ label: 'netavark: setup exec', samples: setup, plot: true });
    const t1 = nowMs();
    while (made.length) {
      const m = made[0];
      res.teardownMs.push(await netavark(host, configDir, 'teardown', m.ns, m.opts));
      await deleteNetns(m.ns);
      made.shift();
    }
    res.removeWallMs = nowMs() - t1;
    res.leaks = [
      ...added(linksBefore, await linkSummary(host)).map((l) => `link ${l}`),
      ...perContainerRules(added(rulesBefore, await iptablesRules(host))).map((l) => `iptables ${l}`),
    ];
    const shared = added(rulesBefore, await iptablesRules(host)).length;
    if (shared) res.notes.push(`after teardown ${shared} iptables rules stay: shared chains and jumps, kept by design; per-container leftovers are counted as leaks`);
  } finally {
    for (const m of made) await deleteNetns(m.ns);
    await deleteNetns(host);
  }
  if (res.reached < o.n) res.notes.push(`stopped at ${res.reached} containers: time budget ${o.budgetS} s`);
  res.notes.push('no daemon (exec per container): RSS and `network ls` not applicable');
  return res;
}
