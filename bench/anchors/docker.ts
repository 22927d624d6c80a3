// Anchor of the set-up bench: dockerd 20.10 (dockerd.ts) in its own lab netns;
// containers from a busybox-static rootfs imported as an image.
// Driven sequentially through its API (20.10 deadlocks on parallel rm, moby#46661).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../test/lab/exec.js';
import { Budget } from '../lib/budget.js';
import type { EngineClient } from '../lib/engine-client.js';
import { rssMb } from '../lib/host.js';
import { added, addNetns, deleteNetns, linkSummary } from '../lib/netns.js';
import { emptyRun, type SystemRun } from '../lib/results.js';
import { median } from '../lib/stats.js';
import { nowMs } from '../lib/timing.js';
import { importBusybox, LabDockerd } from './dockerd.js';
import type { AnchorOptions } from './netavark.js';

export async function runDocker(o: AnchorOptions): Promise<SystemRun> {
  const res = emptyRun('dockerd 20.10', 'API POST /containers/create + /start (busybox `sleep`, user bridge network, no ports), wall time');
  const host = `bdk${process.pid}`;
  const dir = join(o.dir, 'docker');
  mkdirSync(dir, { recursive: true });
  await addNetns(host);
  let dockerd: LabDockerd | undefined;
  try {
    dockerd = await LabDockerd.start({ netns: host, dir, nameserver: '192.0.2.53' });
    o.log(`docker: dockerd up in ${(dockerd.startMs / 1000).toFixed(1)} s`);
    const d = dockerd.client;
    await importBusybox(d, dir);
    const nets: string[] = [];
    for (let k = 0; k < o.networks; k++) {
      await d.api('POST', '/networks/create', { Name: `benchnet${k}`, Driver: 'bridge', IPAM: { Config: [{ Subnet: `10.30.${k * 4}.0/22` }] } });
      nets.push(`benchnet${k}`);
    }
    const pidfile = join(dir, 'dockerd.pid');
    await drive(o, d, nets, host, res, () => topRss(pidfile, host, res));
  } finally {
    await dockerd?.stop();
    await deleteNetns(host);
  }
  return res;
}

/** Set-up while the budget lasts, then the measurements at the top, then sequential removal. */
async function drive(o: AnchorOptions, d: EngineClient, nets: string[], host: string, res: SystemRun, atTop: () => Promise<void>): Promise<void> {
  const linksBefore = await linkSummary(host);
  const api: (number | undefined)[] = [];
  const cli: (number | undefined)[] = [];
  const ids: string[] = [];
  const budget = new Budget(o.budgetS, 0.55);
  const t0 = nowMs();
  for (let i = 1; i <= o.n && !budget.setupSpent(); i++) {
    const net = nets[(i - 1) % nets.length];
    const ts = nowMs();
    if (i % 50 === 0) {
      ids.push((await d.cli(['run', '-d', '--pull', 'never', '--network', net, 'bb:latest', 'sleep', '3600'])).trim());
      cli[i - 1] = nowMs() - ts;
      api[i - 1] = undefined;
    } else {
      const c = await d.api('POST', '/containers/create', { Image: 'bb:latest', Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: net } });
      const id = (c.body as { Id: string }).Id;
      ids.push(id);
      await d.api('POST', `/containers/${id}/start`);
      api[i - 1] = nowMs() - ts;
    }
    if (i % 100 === 0) o.log(`docker: ${i} running (${budget.elapsedS().toFixed(0)} s)`);
  }
  res.createWallMs = nowMs() - t0;
  res.reached = ids.length;
  res.series.push({ label: 'dockerd: API create+start', samples: api, plot: true });
  res.series.push({ label: 'dockerd: CLI `docker run -d` (every 50th)', samples: cli, plot: false });
  await atTop();
  const ls: number[] = [];
  for (let k = 0; k < 5; k++) {
    const ts = nowMs();
    await d.cli(['network', 'ls']);
    ls.push(nowMs() - ts);
  }
  res.networkLsMs = median(ls);
  res.networkLsWhat = '`docker network ls` (Go CLI 28.x), median of 5';
  const t1 = nowMs();
  for (const id of ids) {
    const ts = nowMs();
    await d.api('DELETE', `/containers/${id}?force=1`, undefined, 120_000);
    res.teardownMs.push(nowMs() - ts);
  }
  res.removeWallMs = nowMs() - t1;
  res.leaks = added(linksBefore, await linkSummary(host)).map((l) => `link ${l}`);
  if (res.reached < o.n) res.notes.push(`stopped at ${res.reached} containers: time budget ${o.budgetS} s (set-up ${(0.55 * o.budgetS).toFixed(0)} s of it)`);
}

/** dockerd's RSS, and in a note what containerd and the per-container shims add. */
async function topRss(pidfile: string, host: string, res: SystemRun): Promise<void> {
  res.rssMb = rssMb(Number(readFileSync(pidfile, 'utf8').trim()));
  res.rssWhat = 'dockerd VmRSS';
  const pids = (await run(['ip', 'netns', 'pids', host])).stdout.split('\n').filter(Boolean).map(Number);
  const containerd = pids.filter((p) => /(^|\/)containerd$/.test(readCmd(p).split('\0')[0]));
  const shims = pids.filter((p) => readCmd(p).includes('containerd-shim'));
  const mb = (ps: number[]) => ps.reduce((a, p) => a + (rssMb(p) ?? 0), 0);
  res.notes.push(`at the top also: containerd ${mb(containerd).toFixed(0)} MB, ${shims.length} containerd-shim processes ${mb(shims).toFixed(0)} MB`);
}

function readCmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
