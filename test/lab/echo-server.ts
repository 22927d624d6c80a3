// Runs in the lab's "internet" namespace. On TCP and UDP it answers every client with the
// source address it sees ("from 198.51.100.2\n"), which is how tests observe NAT.
// Usage: node echo-server.js [PORT] [HOST[,HOST…]]; prints "ready" once every socket listens.
// HOST '::' listens on both families. A UDP socket bound to a wildcard answers from the
// address its route picks, not the one asked: a reply a NAT then cannot match to its
// connection. Hence one pair of sockets per address where the server has several.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const port = Number(process.argv[2] ?? 7777);
const hosts = (process.argv[3] ?? '0.0.0.0').split(',');

function plainAddress(addr: string | undefined): string {
  return (addr ?? 'unknown').replace(/^::ffff:/, '');
}

function listenTcp(host: string): Promise<void> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(`from ${plainAddress(socket.remoteAddress)}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

function listenUdp(host: string): Promise<void> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (_msg, rinfo) => {
    socket.send(`from ${plainAddress(rinfo.address)}\n`, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => resolve());
  });
}

process.on('SIGTERM', () => process.exit(0));
await Promise.all(hosts.flatMap((host) => [listenTcp(host), listenUdp(host)]));
process.stdout.write('ready\n');
