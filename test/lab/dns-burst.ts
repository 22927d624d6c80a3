// A container that asks in bursts: every query sent back to back before any answer is
// read, so that they queue on the resolver's socket (and are read from it in bulk), then
// waits for the answers. Queries are NAME[/TYPE] (A by default); an argument "big:N" is
// a datagram of N bytes (a query with N-29 bytes of padding in its OPT record).
// Prints one JSON line: for each query, in order, its answer's rcode and addresses (null
// when none came).   node dns-burst.js SERVER ROUNDS QUERY...
import { createSocket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

const [server = '127.0.0.11', roundsArg = '1', ...asked] = process.argv.slice(2);
const GIVE_UP_MS = 5000;

function encode(q: string, id: number): Buffer {
  const big = /^big:(\d+)$/.exec(q);
  if (big) {
    const pad = Buffer.alloc(Number(big[1]) - 29);
    return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'x' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, options: [{ code: 12, data: pad }] }] as dnsPacket.Answer[] });
  }
  const [name = q, type = 'A'] = q.split('/');
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: type as dnsPacket.RecordType, name }] });
}

async function main(): Promise<void> {
  const sock = createSocket('udp4');
  const queries = Array.from({ length: Number(roundsArg) }, () => asked).flat();
  const answers: ({ rcode: string; ips: string[] } | null)[] = queries.map(() => null);
  let left = queries.length;
  const done = new Promise<void>((resolve) => {
    sock.on('message', (m) => {
      const id = m.readUInt16BE(0);
      if (id >= queries.length || answers[id] !== null) return;
      const rcode = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'][(m[3] ?? 0) & 0x0f] ?? 'other';
      const ips = (dnsPacket.decode(m).answers ?? []).map((a) => String((a as { data?: unknown }).data));
      answers[id] = { rcode, ips };
      if (--left === 0) resolve();
    });
    setTimeout(resolve, GIVE_UP_MS).unref(); // what never comes stays null
  });
  await new Promise<void>((resolve) => sock.bind(0, resolve));
  queries.forEach((q, id) => sock.send(encode(q, id), 53, server));
  await done;
  process.stdout.write(`${JSON.stringify(answers)}\n`);
  sock.close();
}

void main();
