// A tiny authoritative DNS server for the lab's "internet": the upstream that berth's
// embedded resolver forwards to. UDP and TCP, on an address of either family. It answers
// A and AAAA queries for the names below and NXDOMAIN for every other name; every query
// is logged as "query NAME TYPE from ADDR" (UDP) or "query NAME TYPE from ADDR tcp".
// BIG_NAME has more A records than a plain UDP answer holds: over UDP it is answered
// truncated (TC, no records), over TCP in full, so a resolver must retry over TCP.
// Usage: node dns-server.js [HOST] [PORT]; prints "ready" once listening.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const host = process.argv[2] ?? '203.0.113.10';
const port = Number(process.argv[3] ?? 53);

/** The internet's names. */
export const INTERNET_RECORDS: Record<string, string> = {
  'echo.internet.test': '203.0.113.10',
  'gateway.internet.test': '198.51.100.1',
};

/** The internet's IPv6 names (documentation prefix). */
export const INTERNET_RECORDS6: Record<string, string> = {
  'echo.internet.test': '2001:db8:113::10',
};

export const BIG_NAME = 'big.internet.test';
/** BIG_NAME's addresses: 40 A records, ~680 bytes, past 512. */
export const BIG_RECORDS = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 10}`);

interface Question {
  name: string;
  type: number;
  end: number;
}

function readQuestion(msg: Buffer): Question | undefined {
  const labels: string[] = [];
  let off = 12;
  while (off < msg.length) {
    const len = msg[off] ?? 0;
    if (len === 0) break;
    if (len > 63) return undefined; // no compression in questions we accept
    labels.push(msg.subarray(off + 1, off + 1 + len).toString('ascii'));
    off += len + 1;
  }
  if (off + 5 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(off + 1), end: off + 5 };
}

/** rdata of the records a name has of a type (A = 1, AAAA = 28). */
function recordsOf(name: string, type: number, tcp: boolean): Buffer[] | undefined {
  if (name === BIG_NAME) return type === 1 && tcp ? BIG_RECORDS.map(v4Bytes) : [];
  const v4 = INTERNET_RECORDS[name];
  const v6 = INTERNET_RECORDS6[name];
  if (v4 === undefined && v6 === undefined) return undefined;
  if (type === 1) return v4 ? [v4Bytes(v4)] : [];
  if (type === 28) return v6 ? [v6Bytes(v6)] : [];
  return [];
}

function v4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

/** Enough for the few addresses above: "a:b::c" forms. */
function v6Bytes(ip: string): Buffer {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

function answer(query: Buffer, q: Question, tcp: boolean): Buffer {
  const rdata = recordsOf(q.name, q.type, tcp);
  const truncated = q.name === BIG_NAME && !tcp;
  const header = Buffer.from(query.subarray(0, 12));
  const rd = (query[2] ?? 0) & 0x01;
  header[2] = 0x84 | (truncated ? 0x02 : 0) | rd; // response, authoritative
  header[3] = rdata ? 0 : 3; // NOERROR or NXDOMAIN
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rdata?.length ?? 0, 6);
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(0, 10);
  const records = (rdata ?? []).map((data) => {
    const rr = Buffer.alloc(12 + data.length);
    rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
    rr.writeUInt16BE(data.length === 4 ? 1 : 28, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6); // TTL
    rr.writeUInt16BE(data.length, 10);
    data.copy(rr, 12);
    return rr;
  });
  return Buffer.concat([header, query.subarray(12, q.end), ...records]);
}

const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
socket.on('message', (msg, rinfo) => {
  const q = msg.length >= 12 ? readQuestion(msg) : undefined;
  if (!q) return;
  process.stdout.write(`query ${q.name} ${q.type} from ${rinfo.address}\n`);
  socket.send(answer(msg, q, false), rinfo.port, rinfo.address);
});

const tcp = createServer((c) => {
  let got = Buffer.alloc(0);
  c.on('error', () => undefined);
  c.on('data', (d: Buffer) => {
    got = Buffer.concat([got, d]);
    while (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
      const msg = got.subarray(2, 2 + got.readUInt16BE(0));
      got = got.subarray(2 + msg.length);
      const q = msg.length >= 12 ? readQuestion(msg) : undefined;
      if (!q) continue;
      process.stdout.write(`query ${q.name} ${q.type} from ${c.remoteAddress ?? '?'} tcp\n`);
      const a = answer(msg, q, true);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(a.length, 0);
      c.write(Buffer.concat([len, a]));
    }
  });
});

process.on('SIGTERM', () => process.exit(0));
let listening = 0;
const ready = (): void => {
  if (++listening === 2) process.stdout.write('ready\n');
};
socket.bind(port, host, ready);
tcp.listen(port, host, ready);
