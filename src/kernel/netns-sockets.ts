import { bind, close, listen, setsockopt, socket } from './ffi/libc.js';
import { attempt } from './failure.js';
import { inNetns } from './netns.js';
import type { NetnsSockets } from './types.js';

// Sockets born inside a container's netns, for a server that runs in the daemon's: a
// socket stays in the netns it was made in whatever thread later uses it, so the thread
// that serves it never switches netns. Fds are process-wide: the caller hands them to
// whichever thread adopts them (Node's dgram bind({ fd }), net listen({ fd })). They are
// close-on-exec (no child inherits them) and hold their netns alive until closed.

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const LISTEN_BACKLOG = 128;


function sockaddrIn(address: string, port: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  address.split('.').forEach((o, i) => b.writeUInt8(Number(o) & 0xff, 4 + i));
  return b;
}

function int(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n, 0);
  return b;
}

/** UDP and listening TCP sockets on IPv4 address:port inside `netns`; on failure neither is left open. */
export function bindInNetns(netns: string, address: string, port: number): NetnsSockets {
  const what = `cannot bind ${address}:${port} in netns ${netns}`;
  return inNetns(netns, () => {
    const fds: number[] = [];
    try {
      const udp = attempt(what, () => socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      fds.push(udp);
      attempt(what, () => bind(udp, sockaddrIn(address, port)));
      const tcp = attempt(what, () => socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      fds.push(tcp);
      attempt(what, () => {
        setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, int(1));
        bind(tcp, sockaddrIn(address, port));
        listen(tcp, LISTEN_BACKLOG);
      });
      return { udp, tcp };
    } catch (e) {
      for (const fd of fds) close(fd);
      throw e;
    }
  });
}
