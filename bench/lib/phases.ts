// Where berth's per-container network set-up time goes, phase by phase, without the daemon:
// the kernel layer's round trips (createNetns, applySandbox, deleteNetns) driven directly, and
// the event-loop cost of one child spawn (the shim). Run: scripts/bench.sh bench/lib/phases.js
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { openKernel } from '../../src/kernel/client.js';
import type { SandboxInterface } from '../../src/kernel/types.js';
import { exited } from '../../test/lab/exec.js';
import { envInt } from './budget.js';
import { loadavg, rssMb } from './host.js';
import { median, percentile } from './stats.js';
import { fmtMs, nowMs } from './timing.js';

const BRIDGE = 'brbench0';

function line(what: string, xs: number[]): string {
  const first = xs.slice(0, 10);
  const last = xs.slice(-50);
  return `| ${what} | ${fmtMs(median(xs))} / ${fmtMs(percentile(xs, 99))} | ${fmtMs(median(first))} | ${fmtMs(median(last))} |`;
}

async function main(): Promise<void> {
  if (process.env.BERTH_LAB_WORLD !== '1') throw new Error('run inside a lab world: bash scripts/bench.sh bench/lib/phases.js');
  const n = envInt('BENCH_N', 200);
  const dir = '/run/berth-lab/phases/netns';
  mkdirSync(dir, { recursive: true });
  const kernel = await openKernel();
  await kernel.ensureBridge(BRIDGE, 1500);
  await kernel.addAddress(BRIDGE, '10.77.0.1/16');
  const t = { sandbox: [] as number[], netns: [] as number[], attach: [] as number[], both: [] as number[], del: [] as number[], spawnSync: [] as number[], spawnExit: [] as number[] };
  const load = loadavg();
  for (let i = 1; i <= n; i++) {
    const ns = `${dir}/c${i}`;
    const mac = `02:42:0a:4d:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const veth = (hostName: string, m: string): SandboxInterface => ({
      link: { kind: 'veth', hostName, master: BRIDGE }, ifName: 'eth0', mac: m,
      mtu: 1500, addresses: [`10.77.${i >> 8}.${(i & 255) || 1}/16`], routes: [{ dst: 'default', via: '10.77.0.1' }],
    });
    const t0 = nowMs();
    await kernel.createNetns(ns);
    const t1 = nowMs();
    await kernel.applySandbox(ns, [veth(`vb${i}`, mac)], { create: false });
    const t2 = nowMs();
    t.netns.push(t1 - t0);
    t.attach.push(t2 - t1);
    t.both.push(t2 - t0);
    // the hot path berthd takes: both in one worker call, on a netns of its own
    const t3 = nowMs();
    await kernel.applySandbox(`${ns}-sb`, [veth(`vs${i}`, mac.replace('02:42', '02:43'))], { create: true });
    t.sandbox.push(nowMs() - t3);
    const s0 = nowMs();
    const child = spawn('/bin/true', [], { stdio: 'ignore', detached: true });
    t.spawnSync.push(nowMs() - s0);
    await exited(child);
    t.spawnExit.push(nowMs() - s0);
  }
  const rss = rssMb(process.pid) ?? 0;
  for (let i = 1; i <= n; i++) {
    const t0 = nowMs();
    await kernel.deleteNetns(`${dir}/c${i}`);
    await kernel.deleteNetns(`${dir}/c${i}-sb`);
    t.del.push(nowMs() - t0);
  }
  await kernel.deleteLink(BRIDGE);
  await kernel.close();
  const out = [
    `# Phases of berth's set-up path, kernel layer driven directly (${n} containers, one bridge)`,
    '',
    `${new Date().toISOString()}, load \`${load}\` → \`${loadavg()}\`; this process's RSS ${rss.toFixed(0)} MB.`,
    '',
    '| phase | median / p99 ms | median of first 10 | median of last 50 |',
    '|---|---:|---:|---:|',
    line('kernel.createNetns (worker: unshare + bind mount)', t.netns),
    line('kernel.applySandbox on a made netns (worker: veth in netns, MAC, addr, route, bridge port)', t.attach),
    line('network set-up, kernel part (both)', t.both),
    line('kernel.applySandbox with create (one worker call: both of the above; what berthd does)', t.sandbox),
    line('`spawn()` call itself: event loop blocked (fork)', t.spawnSync),
    line('spawn of /bin/true until its exit', t.spawnExit),
    line('kernel.deleteNetns', t.del),
    '',
  ];
  process.stdout.write(out.join('\n'));
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
