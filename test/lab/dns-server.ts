// A tiny authoritative DNS server for the lab's "internet": the upstream that berth's
// embedded resolver forwards to. UDP only. It answers A queries for the names below and
// NXDOMAIN for every other name; every query is logged as "query NAME TYPE from ADDR".
// Usage: node dns-server.js [HOST] [PORT]; prints "ready" once listening.
import { createSocket } from 'node:dgram';

const host = process.argv[2] ?? '203.0.113.10';
const port = Number(process.argv[3] ?? 53);

/** The internet's names. */
export const INTERNET_RECORDS: Record<string, string> = {
  'echo.internet.test': '203.0.113.10',
  'gateway.internet.test': '198.51.100.1',
};

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

function answer(query: Buffer, q: Question): Buffer {
  const addr = INTERNET_RECORDS[q.name];
  const found = addr !== undefined;
  const header = Buffer.from(query.subarray(0, 12));
  const rd = (query[2] ?? 0) & 0x01;
  header[2] = 0x84 | rd; // response, authoritative
  header[3] = found ? 0 : 3; // NOERROR or NXDOMAIN
  const withA = found && q.type === 1;
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(withA ? 1 : 0, 6);
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(0, 10);
  const question = query.subarray(12, q.end);
  if (!withA) return Buffer.concat([header, question]);
  const rr = Buffer.alloc(16);
  rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
  rr.writeUInt16BE(1, 2); // A
  rr.writeUInt16BE(1, 4); // IN
  rr.writeUInt32BE(60, 6); // TTL
  rr.writeUInt16BE(4, 10);
  addr.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
  return Buffer.concat([header, question, rr]);
}

const socket = createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  const q = msg.length >= 12 ? readQuestion(msg) : undefined;
  if (!q) return;
  process.stdout.write(`query ${q.name} ${q.type} from ${rinfo.address}\n`);
  socket.send(answer(msg, q), rinfo.port, rinfo.address);
});
process.on('SIGTERM', () => process.exit(0));
socket.bind(port, host, () => process.stdout.write('ready\n'));
