// Sends fuzz packets at a DNS server over UDP and counts the replies.
// Usage: node dns-fuzz-send.js HOST PORT COUNT SEED NAME... ; prints "sent N replies M".
import { createSocket } from 'node:dgram';
import { fuzzPackets } from './dns-fuzz.js';

const [host = '127.0.0.1', port = '53', count = '1000', seed = '1', ...names] = process.argv.slice(2);
const sock = createSocket('udp4');
let replies = 0;
sock.on('message', () => replies++);
sock.on('error', () => undefined);

async function main(): Promise<void> {
  let sent = 0;
  for (const p of fuzzPackets(Number(count), Number(seed), names.length ? names : ['vm1'])) {
    await new Promise<void>((resolve) => sock.send(p, Number(port), host, () => resolve()));
    sent++;
    // A pause every 200 packets: fuzzing the parser, not the socket buffers.
    if (sent % 200 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 2000));
  process.stdout.write(`sent ${sent} replies ${replies}\n`);
  sock.close();
}

void main();
