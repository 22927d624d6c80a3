// A UDP socket with SO_REUSEPORT, made through libc: Node 20's dgram has no reusePort
// option, but it adopts a bound fd (bind({ fd })). Each resolver thread binds its own
// socket on the same gateway:53 and the kernel spreads clients across them by their
// address and port, so several event loops answer in parallel.
import { bind, close, setsockopt, socket } from '../kernel/ffi/libc.js';

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEPORT = 15;

function sockaddrIn(address: string, port: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  address.split('.').forEach((o, i) => b.writeUInt8(Number(o) & 0xff, 4 + i));
  return b;
}

/** A bound, non-blocking UDP fd on address:port shared with SO_REUSEPORT. Throws SysError. */
export function reusePortUdpFd(address: string, port: number): number {
  const fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  try {
    const one = Buffer.alloc(4);
    one.writeInt32LE(1, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, one);
    bind(fd, sockaddrIn(address, port));
    return fd;
  } catch (err) {
    close(fd);
    throw err;
  }
}
