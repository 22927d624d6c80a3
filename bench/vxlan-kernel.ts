// The overlay data path's kernel layer, measured: two "hosts" (netns) on an underlay
// bridge (MTU 1500), a container on each host's br-ov, one VXLAN device per host with
// only berth's static entries. Prints one JSON line: ping RTT and iperf3 TCP throughput
// through VXLAN vs the underlay, and the cost of programming peers (1,000 in one call;
// one peer per call, as the overlay driver does when one endpoint appears).
// Usage (root; makes its own throwaway world): bash scripts/in-lab.sh node dist/bench/vxlan-kernel.js
// Knobs: BENCH_PINGS (default 500), BENCH_IPERF_S (default 3; 0 skips iperf3).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openKernel } from '../src/kernel/client.js';
import type { Kernel, VxlanPeer } from '../src/kernel/types.js';
import { median, percentile } from './lib/stats.js';

const run = promisify(execFile);
const PINGS = Number(process.env.BENCH_PINGS ?? 500);
const IPERF_S = Number(process.env.BENCH_IPERF_S ?? 3);
const VX = 'vx-4242';
const macOf = (ip: string): string => ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');

const inNs = async (ns: string, argv: string[]): Promise<string> => (await run('nsenter', ['--net=' + ns, ...argv])).stdout;

async function world(k: Kernel, dir: string): Promise<void> {
  await k.ensureBridge('vxul0', 1500);
  for (const h of [1, 2]) {
    const host = join(dir, `h${h}`);
    const c = join(dir, `c${h}`);
    const ip = `10.240.0.${h + 1}`;
    await k.applySandbox(host, [{
      link: { kind: 'veth', hostName: `vxu${h}`, master: 'vxul0' },
      ifName: 'eth0', mac: `02:98:00:00:00:0${h}`, mtu: 1500, addresses: [`10.98.0.${h}/24`], routes: [],
    }], { create: true });
    await inNs(host, ['ip', 'link', 'add', 'br-ov', 'up', 'type', 'bridge']);
    const vx = await k.ensureVxlan({ name: VX, vni: 4242, local: `10.98.0.${h}`, master: 'br-ov' }, host);
    await k.createNetns(c);
    await inNs(host, ['ip', 'link', 'add', `vc${h}`, 'mtu', String(vx.mtu), 'master', 'br-ov', 'up', 'type', 'veth',
      'peer', 'name', 'eth0', 'mtu', String(vx.mtu), 'address', macOf(ip), 'netns', c]);
    await inNs(c, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await inNs(c, ['ip', 'link', 'set', 'eth0', 'up']);
  }
  await k.setVxlanPeers(VX, [{ mac: macOf('10.240.0.3'), ips: ['10.240.0.3'], vtep: '10.98.0.2' }], join(dir, 'h1'));
  await k.setVxlanPeers(VX, [{ mac: macOf('10.240.0.2'), ips: ['10.240.0.2'], vtep: '10.98.0.1' }], join(dir, 'h2'));
}

async function rtt(from: string, to: string): Promise<{ p50: number; p99: number; n: number }> {
  const out = await inNs(from, ['ping', '-c', String(PINGS), '-i', '0.002', '-W1', to]);
  const us = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
  return { p50: Math.round(median(us)), p99: Math.round(percentile(us, 99)), n: us.length };
}

async function iperf(server: string, client: string, addr: string): Promise<number> {
  const srv = spawn('nsenter', ['--net=' + server, 'iperf3', '-s', '-1', '-B', addr], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const out = JSON.parse(await inNs(client, ['iperf3', '-J', '-c', addr, '-t', String(IPERF_S)]));
    return Math.round(out.end.sum_received.bits_per_second / 1e7) / 100; // Gbit/s, 2 decimals
  } finally {
    srv.kill();
  }
}

const ms = (t0: bigint): number => Math.round(Number(process.hrtime.bigint() - t0) / 1e4) / 100;

async function programming(k: Kernel, host: string): Promise<Record<string, number>> {
  const peers: VxlanPeer[] = [];
  for (let i = 0; i < 1000; i++) {
    const ip = `10.241.${(i >> 8) + 1}.${i & 255}`;
    peers.push({ mac: macOf(ip), ips: [ip], vtep: '10.98.0.2' });
  }
  const set: number[] = [];
  const del: number[] = [];
  for (let r = 0; r < 5; r++) {
    let t0 = process.hrtime.bigint();
    await k.setVxlanPeers(VX, peers, host);
    set.push(ms(t0));
    t0 = process.hrtime.bigint();
    await k.deleteVxlanEntries(VX, { macs: peers.map((p) => p.mac), ips: peers.flatMap((p) => p.ips) }, host);
    del.push(ms(t0));
  }
  const one: number[] = [];
  for (const p of peers.slice(0, 200)) {
    const t0 = process.hrtime.bigint();
    await k.setVxlanPeers(VX, [p], host);
    one.push(ms(t0));
  }
  return { set1000Ms: median(set), delete1000Ms: median(del), onePeerP50Ms: median(one), onePeerP99Ms: percentile(one, 99) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync('/run/berth-bench-vxlan-');
  const k = await openKernel();
  await world(k, dir);
  const [h1, h2, c1, c2] = ['h1', 'h2', 'c1', 'c2'].map((n) => join(dir, n));
  const result: Record<string, unknown> = {
    rttUnderlayUs: await rtt(h1, '10.98.0.2'),
    rttVxlanUs: await rtt(c1, '10.240.0.3'),
  };
  if (IPERF_S > 0) {
    result.iperfUnderlayGbps = await iperf(h2, h1, '10.98.0.2');
    result.iperfVxlanGbps = await iperf(c2, c1, '10.240.0.3');
  }
  result.programming = await programming(k, h1);
  console.log(JSON.stringify(result));
  await k.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
