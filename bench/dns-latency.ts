// A closed-loop DNS latency client: one query in flight at a time, each timed from send
// to answer. dnsperf reports only averages; this gives p50/p99.
// Usage: node dns-latency.js SERVER PORT COUNT NAME[/TYPE]...  -> one line of JSON (µs):
// p50 … max, and dist, [percentile, µs] pairs for the latency distribution plot.
// TYPE: A (default) or AAAA.
import { createSocket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

const [server = '127.0.0.1', port = '53', countArg = '10000', ...names] = process.argv.slice(2);
const count = Number(countArg);
const TIMEOUT_MS = 1000;
const queries = (names.length ? names : ['vm1']).map((arg) => {
  const [name = arg, type = 'A'] = arg.split('/');
  return dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: type as dnsPacket.RecordType, name }] });
});

/** The percentiles of `dist`: enough points for a distribution curve out to one in 10,000. */
const DIST_PERCENTILES = [1, 5, 10, 25, 50, 75, 90, 95, 98, 99, 99.5, 99.8, 99.9, 99.95, 99.99];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

async function main(): Promise<void> {
  const sock = createSocket('udp4');
  const samples: number[] = [];
  let lost = 0;
  let waiting: ((m: Buffer) => void) | undefined;
  sock.on('message', (m) => waiting?.(m));
  for (let i = 0; i < count; i++) {
    const q = Buffer.from(queries[i % queries.length] as Buffer);
    const id = i & 0xffff;
    q.writeUInt16BE(id, 0);
    const t0 = process.hrtime.bigint();
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), TIMEOUT_MS);
      waiting = (m) => {
        if (m.length < 2 || m.readUInt16BE(0) !== id) return;
        clearTimeout(timer);
        resolve(true);
      };
      sock.send(q, Number(port), server);
    });
    if (ok) samples.push(Number(process.hrtime.bigint() - t0) / 1000);
    else lost++;
  }
  sock.close();
  samples.sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x);
  process.stdout.write(`${JSON.stringify({
    n: samples.length, lost, p50: r(percentile(samples, 50)), p90: r(percentile(samples, 90)),
    p99: r(percentile(samples, 99)), p999: r(percentile(samples, 99.9)), max: r(samples[samples.length - 1] ?? NaN),
    dist: DIST_PERCENTILES.map((p) => [p, r(percentile(samples, p))]),
  })}\n`);
}

void main();
