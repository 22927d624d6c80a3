// bench-only prototype of the batched UDP path (src/dns/udp-batch.ts) on a resolver-like
// thread: the same handler and name table as worker.ts, one UDP fd adopted by dgram with
// the batch reading behind its 'message' callback. Reports its own CPU time on request.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { DnsHandler } from '../src/dns/handler.js';
import { NameTable, type EndpointRecord } from '../src/dns/names.js';
import { UpstreamClient } from '../src/dns/upstream.js';
import { BatchIo, sendOne } from '../src/dns/udp-batch.js';

const { fd, endpoints, batch } = workerData as { fd: number; endpoints: EndpointRecord[]; batch: boolean };
const table = new NameTable();
table.replaceAll(endpoints);
const handler = new DnsHandler(table, new UpstreamClient(1500));
const io = new BatchIo(64);
let batches = 0;
const s = createSocket('udp4');
s.bind({ fd }, () => {
  s.on('message', (msg, rinfo) => {
    if (!batch) {
      const r = handler.handle(msg, 'client', 'udp');
      if (r instanceof Buffer) s.send(r, rinfo.port, rinfo.address);
      return;
    }
    batches++;
    io.serve({
      fd,
      handle: (m) => handler.handle(m, 'client', 'udp'),
      later: (a, to) => void a.then((r) => r && sendOne(fd, r, to)),
    }, msg, rinfo.address, rinfo.port);
  });
});
function cpuMs(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}
parentPort?.on('message', () => parentPort?.postMessage({ cpuMs: cpuMs(), queries: handler.stats.queries, batches }));
