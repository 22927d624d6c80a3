// A quick look at where the resolver's CPU goes, for working on it (not a benchmark of
// record: bench/dns.ts is). Inside scripts/in-lab.sh: one client netns, berth's resolver
// (1 thread) at 127.0.0.11 in it and aardvark-dns on the bridge, dnsperf at each in
// turn for PROBE_ROUNDS rounds; prints QPS and CPU µs per answered query side by side.
// PROBE_PERF=1 also records `perf record -g` of this process during berth's cells
// (/tmp/probe.perf, reported to stdout); PROBE_STRACE=1 counts syscalls of
// the resolver thread (strace -c). PROBE_ONLY=berth skips aardvark-dns.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DNS_PORT, EMBEDDED_DNS_ADDRESS, EmbeddedDns, type EndpointRecord } from '../src/dns/index.js';
import { openKernel } from '../src/kernel/client.js';
import { run } from '../test/lab/exec.js';
import { DnsTopology, inNs, ip, type ClientNs } from './dns-topology.js';

const SECONDS = Number(process.env.PROBE_SECONDS ?? 5);
const ROUNDS = Number(process.env.PROBE_ROUNDS ?? 2);
const TYPE = process.env.PROBE_TYPE ?? 'A';
const AARDVARK = '/usr/lib/podman/aardvark-dns';
const LATENCY = fileURLToPath(new URL('./dns-latency.js', import.meta.url));
const names = Array.from({ length: 200 }, (_, i) => `ctr${i}`);

function records(client: ClientNs): EndpointRecord[] {
  const list: EndpointRecord[] = [{ networkId: 'net1', containerId: 'client', ip: client.ip, names: ['client'] }];
  names.forEach((n, i) => list.push({ networkId: 'net1', containerId: `c${i}`, ip: `10.77.0.${10 + i}`, ip6: `fd77::${(10 + i).toString(16)}`, names: [n] }));
  return list;
}

function ticksMs(statPath: string): number {
  const stat = readFileSync(statPath, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

function processCpuMs(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).reduce((ms, tid) => ms + ticksMs(`/proc/${pid}/task/${tid}/stat`), 0);
}

/** This process's busiest thread since `before` (the resolver's, while dnsperf runs). */
function busiestThread(before: Map<string, number>): string | undefined {
  let best: string | undefined;
  let most = -1;
  for (const tid of readdirSync('/proc/self/task')) {
    const d = ticksMs(`/proc/self/task/${tid}/stat`) - (before.get(tid) ?? 0);
    if (d > most) [best, most] = [tid, d];
  }
  return best;
}

async function dnsperf(client: ClientNs, server: string, file: string): Promise<{ qps: number; completed: number }> {
  const r = await run(inNs(client, ['dnsperf', '-s', server, '-d', file, '-l', String(SECONDS), '-c', '4', '-q', '100', '-t', '2']), { timeoutMs: (SECONDS + 30) * 1000 });
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  const completed = Number(/Queries completed:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN);
  if (Number.isNaN(qps)) throw new Error(`dnsperf failed: ${r.stdout}${r.stderr}`);
  return { qps, completed };
}

function tool(argv: string[]): { done: Promise<string> } {
  const p = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  return { done: new Promise((resolve) => p.on('close', () => resolve(out))) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-probe-'));
  const topo = new DnsTopology('pr');
  const net = await topo.addBridge(1, '10.77.0');
  await ip(['addr', 'add', '10.77.0.254/24', 'dev', net.bridge]);
  const client = await topo.addClient(net, 2);
  const kernel = await openKernel();
  const dns = await EmbeddedDns.start({ upstreams: [], endpoints: records(client), threads: 1 });
  await dns.openSandbox(client.path, 'client', await kernel.bindInNetns(client.path, EMBEDDED_DNS_ADDRESS, DNS_PORT));
  const aard = join(dir, 'aardvark');
  mkdirSync(aard);
  const lines = [`client ${client.ip}  client`, ...names.map((n, i) => `c${i} 10.77.0.${10 + i} fd77::${(10 + i).toString(16)} ${n}`)];
  writeFileSync(join(aard, 'net1'), `10.77.0.254 192.0.2.1\n${lines.join('\n')}\n`);
  const only = (process.env.PROBE_ONLY ?? 'berth,aardvark').split(',');
  if (only.includes('aardvark')) await run([AARDVARK, '--config', aard, '-p', '53', 'run'], { timeoutMs: 10_000 });
  const aardPid = only.includes('aardvark') ? Number(readFileSync(join(aard, 'aardvark.pid'), 'utf8')) : 0;
  const servers = [
    { label: 'berth', address: EMBEDDED_DNS_ADDRESS, cpuMs: async () => (await dns.stats()).cpuMs },
    { label: 'aardvark', address: '10.77.0.254', cpuMs: async () => processCpuMs(aardPid) },
  ].filter((x) => only.includes(x.label));
  for (const sv of servers) {
    const d = await run(inNs(client, ['dig', '+tries=1', `@${sv.address}`, 'ctr7', TYPE]));
    process.stdout.write(`${sv.label}: ${d.stdout.split('\n').filter((l) => /status:|^ctr7|flags:/.test(l)).join(' / ')}\n`);
    const lat = await run(inNs(client, ['node', LATENCY, sv.address, '53', '5000', ...names.map((n) => `${n}/${TYPE}`)]), { timeoutMs: 60_000 });
    process.stdout.write(`${sv.label} latency: ${lat.stdout.trim()}\n`);
  }
  const file = join(dir, 'q.txt');
  writeFileSync(file, names.map((n) => `${n} ${TYPE}`).join('\n') + '\n');
  process.stdout.write(`load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const profiled = process.env.PROBE_PROFILE ?? 'berth';
  for (let round = 0; round < ROUNDS; round++) {
    const cells: string[] = [];
    for (const sv of servers) {
      const last = round === ROUNDS - 1 && sv.label === profiled;
      const c0 = await sv.cpuMs();
      const perf = last && process.env.PROBE_PERF === '1' ? tool(['perf', 'record', '-F', '2999', '-g', '-o', '/tmp/probe.perf', '-p', String(process.pid), '--', 'sleep', String(SECONDS - 1)]) : undefined;
      const strace = last && process.env.PROBE_STRACE === '1' ? tool(['timeout', '-s', 'INT', String(SECONDS - 1), 'strace', '-c', '-f', '-p', String(busiestThread(new Map()))]) : undefined;
      const r = await dnsperf(client, sv.address, file);
      const cpu = ((await sv.cpuMs()) - c0) * 1000 / r.completed;
      if (perf) await perf.done;
      if (strace) process.stdout.write(await strace.done);
      cells.push(`${sv.label} ${Math.round(r.qps)} qps ${cpu.toFixed(2)} µs/q`);
    }
    process.stdout.write(`round ${round + 1}: ${cells.join(' | ')} (load ${loadavg()[0]?.toFixed(2)})\n`);
  }
  process.stdout.write(`stats ${JSON.stringify(await dns.stats())}\n`);
  if (aardPid) process.kill(aardPid, 'SIGTERM');
  await dns.stop();
  await kernel.close();
  await topo.remove();
  if (process.env.PROBE_PERF === '1') {
    const r = await run(['perf', 'report', '-i', '/tmp/probe.perf', '--no-children', '--sort', 'dso,sym', '--stdio', '-g', 'none', '--percent-limit', '0.7'], { timeoutMs: 120_000 });
    process.stdout.write(r.stdout);
    const t = await run(['perf', 'report', '-i', '/tmp/probe.perf', '--no-children', '--sort', 'tid', '--stdio', '-g', 'none'], { timeoutMs: 120_000 });
    process.stdout.write(t.stdout.split('\n').slice(0, 20).join('\n'));
  }
}

main().then(() => process.exit(0), (err: Error) => {
  process.stderr.write(`probe failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
