import koffi from 'koffi';
import type { Duplex } from 'node:stream';

// Waiting until the client has read what was written to it, on a unix socket. docker-py
// (so docker-compose) reads the 101 of an exec through a buffered reader and then reads
// the raw socket beneath it: output that arrived together with the headers is lost in
// that buffer. A quick command (`echo`) on a busy machine wrote its output before the
// client had read the headers. So the process starts only once the client has taken the
// 101 off the socket, bounded in time. Node has no API for how much of what a socket sent
// its peer has not read yet; the kernel tells it for a unix stream socket through the
// TIOCOUTQ (SIOCOUTQ) ioctl, one non-blocking call.

const TIOCOUTQ = 0x5411;
const POLL_MS = 1;

type Ioctl = (fd: number, request: number, out: Int32Array) => number;
let ioctl: Ioctl | undefined;

function unread(fd: number): number | undefined {
  ioctl ??= koffi.load('libc.so.6').func('int ioctl(int fd, unsigned long request, _Out_ int *out)') as unknown as Ioctl;
  const out = new Int32Array(1);
  return ioctl(fd, TIOCOUTQ, out) === 0 ? out[0] : undefined;
}

/** The socket's fd, for a unix stream socket (Node keeps it on its handle); undefined for anything else. */
function unixFd(socket: Duplex): number | undefined {
  const s = socket as Duplex & { _handle?: { fd?: number; constructor?: { name?: string } }; remoteFamily?: string };
  if (s.remoteFamily !== undefined) return undefined; // TCP: its queue counts unacknowledged bytes, not unread ones
  const fd = s._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** Resolves once the peer has read everything written so far (unix sockets), or after maxMs. */
export async function peerHasRead(socket: Duplex, maxMs: number): Promise<void> {
  const fd = unixFd(socket);
  if (fd === undefined) return;
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline && !socket.destroyed) {
    const n = unread(fd);
    if (n === undefined || n === 0) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
