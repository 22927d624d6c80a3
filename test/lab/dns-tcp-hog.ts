// A container that hogs the resolver's TCP side: opens COUNT connections to SERVER:53 one
// after another and leaves them idle, then asks NAME (type A) on one more connection and
// prints `ready rcode=R answers=N`, and holds every socket until it is killed.
//   node dns-tcp-hog.js SERVER COUNT NAME
import { connect, type Socket } from 'node:net';

const [server = '127.0.0.11', countArg = '100', name = 'localhost'] = process.argv.slice(2);
const held: Socket[] = [];

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: server, port: 53, allowHalfOpen: true }); // keeps what the server closes
    s.once('connect', () => resolve(s));
    s.once('error', reject);
    s.on('error', () => undefined); // a reset by the server later is expected
    s.on('data', () => undefined);
  });
}

function query(qname: string): Buffer {
  const labels = qname.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const msg = Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

function ask(s: Socket, qname: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    s.removeAllListeners('data');
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) resolve(buf.subarray(2));
    });
    s.once('close', () => reject(new Error('closed before the answer')));
    s.write(query(qname));
  });
}

for (let i = 0; i < Number(countArg); i++) held.push(await open());
const last = await open();
held.push(last);
const answer = await ask(last, name);
process.stdout.write(`ready rcode=${answer.readUInt8(3) & 0x0f} answers=${answer.readUInt16BE(6)}\n`);
setInterval(() => undefined, 1 << 30);
