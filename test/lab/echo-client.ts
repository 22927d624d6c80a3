// Asks the lab's echo server who we are, from whatever netns we were started in.
// Usage: node echo-client.js tcp|udp HOST PORT [TIMEOUT_MS]
// Prints the server's reply line and exits 0; exits 1 with a message on failure or timeout.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

const [proto, host = '', portText = '7777', timeoutText = '3000'] = process.argv.slice(2);
const port = Number(portText);
const timeoutMs = Number(timeoutText);

function fail(message: string): never {
  process.stderr.write(`echo-client: ${message}\n`);
  process.exit(1);
}

function tcp(): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = connect({ host, port });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (reply += d));
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}

function udp(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.on('message', (msg) => {
      socket.close();
      resolve(msg.toString('utf8'));
    });
    socket.on('error', reject);
    socket.send('who am i\n', port, host);
  });
}

if (proto !== 'tcp' && proto !== 'udp') fail('first argument must be tcp or udp');
setTimeout(() => fail(`no answer from ${proto} ${host}:${port} within ${timeoutMs} ms`), timeoutMs).unref();
try {
  const reply = await (proto === 'tcp' ? tcp() : udp());
  process.stdout.write(reply.endsWith('\n') ? reply : `${reply}\n`);
  process.exit(0);
} catch (err) {
  fail(`${proto} ${host}:${port}: ${(err as Error).message}`);
}
