// Cross-host data path of an overlay network, routing=direct vs routing=vxlan, with the
// underlay itself as the anchor: two lab hosts (each a netns with its own berthd) on one
// underlay switch with a real etcd, one container per host on each network. Measured side
// by side in one run, the modes interleaved round by round (a busy shared machine then
// slows all of them alike): iperf3 TCP throughput (one stream) and ping RTT, host to
// host on the underlay and container to container across the hosts on each network.
// Prints one JSON line and writes bench/results/overlay-routing.md.
// Usage (root; makes its own throwaway world): bash scripts/in-lab.sh node dist/bench/overlay-routing.js
// Knobs: BENCH_ROUNDS (default 3), BENCH_IPERF_S (default 3), BENCH_PINGS (default 300), BENCH_MTU (underlay MTU, default 1500).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, CLUSTER_STORE, type ClusterHost } from '../test/lab/cluster.js';
import { median, percentile } from './lib/stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IPERF_S = Number(process.env.BENCH_IPERF_S ?? 3);
const PINGS = Number(process.env.BENCH_PINGS ?? 300);
const MTU = Number(process.env.BENCH_MTU ?? 1500);
const OUT = process.env.BENCH_OUT ?? join(process.cwd(), 'bench/results');

type Mode = 'underlay' | 'vxlan' | 'direct';
const MODES: Mode[] = ['underlay', 'vxlan', 'direct'];

/** Where the client runs and what it connects to, per mode. */
interface Path {
  clientNs: string;
  serverNs: string;
  serverAddr: string;
  /** MTU of the interface the client sends on */
  mtu: number;
}

async function must(h: ClusterHost, args: string[]): Promise<string> {
  const r = await h.berth(args);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

async function container(h: ClusterHost, name: string, net: string): Promise<{ ns: string; ip: string; mtu: number }> {
  await must(h, ['run', '-d', '--name', name, '--network', net, '--', 'sleep', '3600']);
  const ns = await must(h, ['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', name]);
  const ip = await must(h, ['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, name]);
  const mtu = Number(await must(h, ['exec', name, 'cat', '/sys/class/net/eth0/mtu']));
  return { ns, ip, mtu };
}

async function iperf(h: ClusterHost, p: Path): Promise<number> {
  const r = await h.inNetns(p.clientNs, ['iperf3', '-J', '-c', p.serverAddr, '-t', String(IPERF_S)], { timeoutMs: (IPERF_S + 20) * 1000 });
  if (r.code !== 0) throw new Error(`iperf3 to ${p.serverAddr}: ${r.stderr.trim() || r.stdout.slice(0, 300)}`);
  return (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9;
}

async function rtt(h: ClusterHost, p: Path): Promise<number[]> {
  const r = await h.inNetns(p.clientNs, ['ping', '-q', '-c', '1', '-W1', p.serverAddr]);
  if (r.code !== 0) throw new Error(`no ping to ${p.serverAddr}`);
  const out = await h.inNetns(p.clientNs, ['ping', '-c', String(PINGS), '-i', '0.002', '-W1', p.serverAddr], { timeoutMs: 60_000 });
  return [...out.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
}

const round2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const cluster = await Cluster.create({ hosts: 2, mtu: MTU, checkConsistency: false, daemonArgs: ['--cluster-store', CLUSTER_STORE, '--cluster-advertise', 'eth0'] });
  try {
    const [h1, h2] = [cluster.host(1), cluster.host(2)];
    await must(h1, ['network', 'create', '-d', 'overlay', '--subnet', '10.80.0.0/24', 'vx']);
    await must(h1, ['network', 'create', '-d', 'overlay', '-o', 'berth.overlay.routing=direct', '--subnet', '10.81.0.0/24', 'dr']);
    for (const net of ['vx', 'dr']) {
      for (let i = 0; i < 100 && (await h2.berth(['network', 'inspect', net])).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    }
    const paths: Record<Mode, Path> = {
      underlay: { clientNs: h1.hostNs, serverNs: h2.hostNs, serverAddr: h2.hostUplinkAddr, mtu: MTU },
      vxlan: await pathOn(h1, h2, 'vx'),
      direct: await pathOn(h1, h2, 'dr'),
    };
    for (const m of MODES) cluster.spawnIn(paths[m].serverNs, ['iperf3', '-s', '-B', paths[m].serverAddr]);
    await new Promise((r) => setTimeout(r, 500));
    const gbps: Record<Mode, number[]> = { underlay: [], vxlan: [], direct: [] };
    const us: Record<Mode, number[]> = { underlay: [], vxlan: [], direct: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const m of MODES) {
        us[m].push(...(await rtt(h1, paths[m])));
        gbps[m].push(await iperf(h1, paths[m]));
      }
    }
    const result = Object.fromEntries(MODES.map((m) => [m, {
      mtu: paths[m].mtu,
      gbpsMedian: round2(median(gbps[m])),
      gbpsRounds: gbps[m].map(round2),
      // each round's ratio to the underlay of that same round: drift of a shared machine cancels out
      ofUnderlay: round2(median(gbps[m].map((g, i) => g / gbps.underlay[i]))),
      rttP50Us: Math.round(median(us[m])),
      rttP99Us: Math.round(percentile(us[m], 99)),
    }]));
    console.log(JSON.stringify({ rounds: ROUNDS, iperfSeconds: IPERF_S, pingsPerRound: PINGS, ...result }));
    writeFileSync(join(OUT, 'overlay-routing.md'), report(result as Record<Mode, Row>));
  } finally {
    await cluster.destroy();
  }
}

async function pathOn(h1: ClusterHost, h2: ClusterHost, net: string): Promise<Path> {
  const a = await container(h1, `${net}-a`, net);
  const b = await container(h2, `${net}-b`, net);
  return { clientNs: a.ns, serverNs: b.ns, serverAddr: b.ip, mtu: a.mtu };
}

interface Row { mtu: number; gbpsMedian: number; gbpsRounds: number[]; ofUnderlay: number; rttP50Us: number; rttP99Us: number }

function report(r: Record<Mode, Row>): string {
  const what: Record<Mode, string> = {
    underlay: 'underlay, host to host (anchor)',
    vxlan: 'overlay routing=vxlan, container to container',
    direct: 'overlay routing=direct, container to container',
  };
  return [
    '# Overlay data path: direct routing vs VXLAN vs the underlay',
    '',
    `Two lab hosts (netns, each with its own berthd) on one underlay switch (veth, MTU ${MTU}) with a real etcd;`,
    `one container per host on each overlay. iperf3 TCP, one stream, ${IPERF_S} s, ${ROUNDS} rounds with the three`,
    `paths interleaved; ping RTT from ${PINGS} pings per round at 2 ms. Everything shares one machine's CPUs (veth`,
    'throughput is CPU-bound: the figures are ratios on this machine, not a NIC\'s line rate).',
    `Run: \`bash scripts/in-lab.sh node dist/bench/overlay-routing.js\` (${new Date().toISOString().slice(0, 10)}).`,
    '',
    '| path | MTU | TCP Gbit/s (median) | rounds | of underlay (median of per-round ratios) | RTT p50 µs | RTT p99 µs |',
    '|---|---:|---:|---|---:|---:|---:|',
    ...MODES.map((m) => `| ${what[m]} | ${r[m].mtu} | ${r[m].gbpsMedian} | ${r[m].gbpsRounds.join(', ')} | ${r[m].ofUnderlay} | ${r[m].rttP50Us} | ${r[m].rttP99Us} |`),
    '',
  ].join('\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
