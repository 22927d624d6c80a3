// npm run bench:ports — the time to publish ONE more port as the number already published
// grows (10, 100, 1,000, 10,000), side by side in one run:
//   - berth: PortMapper.publish (host port booked, reservation socket bound, one map
//     element added in one libnftables transaction), and the map element alone; the same
//     again for IPv6 ([::]:port to a container's IPv6 address, in the ip6 table);
//   - Docker 20.10's way: per port, `iptables -t nat -C DOCKER … -j DNAT` then `-A`, and
//     `iptables -t filter -C DOCKER … -j ACCEPT` then `-A`: four iptables processes, with
//     iptables-nft and iptables-legacy.
// Runs inside scripts/in-lab.sh (its own throwaway netns). Writes bench/results/ports.md.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openKernel } from '../src/kernel/client.js';
import { Firewall, type DnatEntry, type NetworkPolicy } from '../src/drivers/bridge/firewall.js';
import { PortMapper, type PublishRequest } from '../src/portmap/mapper.js';
import { median, percentile } from './lib/stats.js';

const run = promisify(execFile);
const LEVELS = (process.env.BENCH_PORTS_LEVELS ?? '10,100,1000,10000').split(',').map(Number);
const SAMPLES = Number(process.env.BENCH_PORTS_SAMPLES ?? 9);
const BRIDGE = 'benchbr0';
const POLICY: NetworkPolicy = { bridge: BRIDGE, subnet: '10.64.0.0/10', subnet6: 'fd00:64::/64', internal: false, masquerade: true, icc: true };
const FILL_FROM = 2000; // host ports 2000.. for the fill, 30000.. for samples (below the ephemeral range)
const SAMPLE_FROM = 30000;

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(process.env.BENCH_OUT ?? join(REPO, 'bench', 'results'), 'ports.md');

function containerIp(i: number): string {
  return `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${(i & 255) || 1}`;
}

function containerIp6(i: number): string {
  return `fd00:64::${(i || 1).toString(16)}`;
}

type Family = 4 | 6;

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** One port of a container that has only the family's address: published on 0.0.0.0 or [::]. */
function request(id: string, i: number, hostPort: number, family: Family): PublishRequest {
  return {
    containerId: id, containerIp: family === 4 ? containerIp(i) : '', containerIp6: family === 6 ? containerIp6(i) : '', exposed: [], publishAll: false,
    network: { name: 'bench', internal: false, hostBindingIpv4: '0.0.0.0' },
    bindings: [{ containerPort: 80, proto: 'tcp', hostIp: '', hostPortStart: hostPort, hostPortEnd: hostPort }],
  };
}

type Row = Map<number, number[]>;

/** berth: the full publish path, and the firewall element alone (its own map, same table), for one family. */
async function benchBerth(family: Family): Promise<{ full: Row; element: Row }> {
  const kernel = await openKernel();
  const firewall = new Firewall(kernel, true);
  await firewall.reset([POLICY]);
  const mapper = await PortMapper.open(kernel, firewall);
  const full: Row = new Map();
  const element: Row = new Map();
  let published = 0;
  let sample = 0;
  for (const level of LEVELS) {
    // fill to `level` in bulk: one transaction per 1,000 ports (as a container with many ports would)
    while (published < level) {
      const n = Math.min(1000, level - published);
      const bindings = Array.from({ length: n }, (_, k) => request('', 0, FILL_FROM + published + k, family).bindings[0]!);
      await mapper.publish({ ...request(`fill${published}`, published + 1, 0, family), bindings });
      published += n;
    }
    const fullTimes: number[] = [];
    const elemTimes: number[] = [];
    for (let k = 0; k < SAMPLES; k++) {
      sample++;
      let t0 = process.hrtime.bigint();
      await mapper.publish(request(`s${sample}`, 60000 + sample, SAMPLE_FROM + sample, family));
      fullTimes.push(ms(t0));
      const entry: DnatEntry = family === 4
        ? { hostIp: '127.0.0.1', proto: 'udp', hostPort: SAMPLE_FROM + sample, containerIp: containerIp(60000 + sample), containerPort: 80 }
        : { hostIp: '2001:db8::1', proto: 'udp', hostPort: SAMPLE_FROM + sample, containerIp: containerIp6(60000 + sample), containerPort: 80 };
      t0 = process.hrtime.bigint();
      await firewall.publish([entry]);
      elemTimes.push(ms(t0));
      await firewall.unpublish([entry]);
    }
    full.set(level, fullTimes);
    element.set(level, elemTimes);
    process.stderr.write(`berth IPv${family}: ${level} published: ${median(fullTimes).toFixed(2)} ms (element ${median(elemTimes).toFixed(2)} ms)\n`);
  }
  for (let k = 0; k <= sample; k++) await mapper.unpublish(`s${k}`);
  for (let p = 0; p < published; p += 1000) await mapper.unpublish(`fill${p}`);
  await kernel.nft('delete table ip berth\ndelete table ip6 berth\ndelete table bridge berth');
  await kernel.close();
  return { full, element };
}

function dnatRule(i: number, hostPort: number): string[] {
  return ['DOCKER', '!', '-i', BRIDGE, '-p', 'tcp', '-m', 'tcp', '--dport', String(hostPort), '-j', 'DNAT', '--to-destination', `${containerIp(i)}:80`];
}

function acceptRule(i: number): string[] {
  return ['DOCKER', '-d', `${containerIp(i)}/32`, '!', '-i', BRIDGE, '-o', BRIDGE, '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', 'ACCEPT'];
}

/** Docker 20.10 adding one port: check, then append, in the nat and the filter DOCKER chains. */
async function dockerAddPort(bin: string, i: number, hostPort: number): Promise<void> {
  for (const [table, rule] of [['nat', dnatRule(i, hostPort)], ['filter', acceptRule(i)]] as const) {
    const exists = await run(bin, ['--wait', '-t', table, '-C', ...rule]).then(() => true, () => false);
    if (!exists) await run(bin, ['--wait', '-t', table, '-A', ...rule]);
  }
}

async function restore(bin: string, from: number, to: number): Promise<void> {
  const nat = [];
  const filter = [];
  for (let i = from; i < to; i++) {
    nat.push(`-A ${dnatRule(i + 1, FILL_FROM + i).join(' ')}`);
    filter.push(`-A ${acceptRule(i + 1).join(' ')}`);
  }
  const input = ['*nat', ...nat, 'COMMIT', '*filter', ...filter, 'COMMIT', ''].join('\n');
  await new Promise<void>((resolve, reject) => {
    const child = execFile(`${bin}-restore`, ['--noflush'], (err) => (err ? reject(err) : resolve()));
    child.stdin?.end(input);
  });
}

async function benchIptables(bin: string): Promise<Row> {
  for (const table of ['nat', 'filter']) await run(bin, ['-t', table, '-N', 'DOCKER']);
  const row: Row = new Map();
  let published = 0;
  let sample = 0;
  for (const level of LEVELS) {
    await restore(bin, published, level);
    published = level;
    const times: number[] = [];
    for (let k = 0; k < SAMPLES; k++) {
      sample++;
      const t0 = process.hrtime.bigint();
      await dockerAddPort(bin, 60000 + sample, SAMPLE_FROM + sample);
      times.push(ms(t0));
    }
    row.set(level, times);
    process.stderr.write(`${bin}: ${level} published: ${median(times).toFixed(2)} ms\n`);
  }
  for (const table of ['nat', 'filter']) {
    await run(bin, ['-t', table, '-F', 'DOCKER']);
    await run(bin, ['-t', table, '-X', 'DOCKER']);
  }
  return row;
}

function cell(row: Row | undefined, level: number): string {
  const t = row?.get(level);
  if (!t?.length) return 'n/a';
  return `${median(t).toFixed(2)} (p90 ${percentile(t, 90).toFixed(2)})`;
}

function ratio(row: Row | undefined, a: number, b: number): string {
  const x = row?.get(a);
  const y = row?.get(b);
  return x?.length && y?.length ? `${(median(y) / median(x)).toFixed(2)}x` : 'n/a';
}

async function main(): Promise<void> {
  if (process.env.BERTH_LAB_WORLD !== '1') throw new Error('run inside scripts/in-lab.sh (npm run bench:ports does)');
  const berth = await benchBerth(4);
  const berth6 = await benchBerth(6);
  const rows: [string, Row][] = [
    ['berth: PortMapper.publish (book + reservation socket + map element)', berth.full],
    ['berth: map element only (one libnftables transaction)', berth.element],
    ['berth IPv6: PortMapper.publish on [::] (book + reservation socket + ip6 map element)', berth6.full],
    ['berth IPv6: ip6 map element only', berth6.element],
  ];
  for (const bin of ['iptables-nft', 'iptables-legacy']) {
    if (!existsSync(`/usr/sbin/${bin}`)) continue;
    try {
      rows.push([`Docker 20.10's way with ${bin} (-C/-A nat DNAT + -C/-A filter ACCEPT: 4 processes)`, await benchIptables(bin)]);
    } catch (e) {
      process.stderr.write(`${bin}: skipped: ${(e as Error).message}\n`);
    }
  }
  const first = LEVELS[0]!;
  const last = LEVELS[LEVELS.length - 1]!;
  const lines = [
    '# Publishing one more port, as the number already published grows',
    '',
    `Median (p90) milliseconds to publish one more TCP port, ${SAMPLES} samples per level, in one run, in a lab netns (the IPv6 rows fill and publish on [::] to containers' IPv6 addresses).`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString()}.`,
    '',
    `| approach | ${LEVELS.map((l) => `${l.toLocaleString('en-US')} published`).join(' | ')} | ${last.toLocaleString('en-US')} vs ${first} |`,
    `|---|${LEVELS.map(() => '---:').join('|')}|---:|`,
    ...rows.map(([name, row]) => `| ${name} | ${LEVELS.map((l) => cell(row, l)).join(' | ')} | ${ratio(row, first, last)} |`),
    '',
  ];
  const berthLast = median(berth.full.get(last) ?? []);
  const v6Last = median(berth6.full.get(last) ?? []);
  lines.push(`At ${last.toLocaleString('en-US')} published ports one more IPv6 port costs ${(v6Last / berthLast).toFixed(2)}x an IPv4 one.`);
  for (const [name, row] of rows.slice(4)) {
    const t = row.get(last);
    if (t?.length) lines.push(`At ${last.toLocaleString('en-US')} published ports berth is ${(median(t) / berthLast).toFixed(0)}x faster than ${name.replace(/ \(.*/, '')}.`);
  }
  lines.push('', 'How: `bash scripts/in-lab.sh node dist/bench/ports.js` (npm run bench:ports). The fill is done in bulk (berth: 1,000 ports per transaction; iptables: iptables-restore --noflush) and is not timed.', '');
  const text = lines.join('\n');
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, text);
  process.stdout.write(text);
}

await main();
