// Datagrams in bulk: once libuv has said a resolver socket is readable (and handed over
// the first datagram), the rest of what is queued on it is read with recvmmsg and every
// answer written back with one sendmmsg. Per query, that leaves the kernel's own work and
// the handler; Node's per-datagram cost (a recvmsg, a JS callback with a Buffer and an
// rinfo, an address lookup, a send request, a sendmsg) is paid once per batch instead.
// libuv keeps the epoll and the fds: this only reads and writes them while it is called
// from their 'message' callback, never after the socket is closed (fd numbers are reused).
//
// One BatchIo per thread: every buffer lives in one block of native memory, made once,
// the mmsghdr/iovec arrays pointing into it. A datagram is handled from a view of it, so
// the handler must not keep the query past handle() (it copies what it forwards).
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');
// pointers as plain numbers (intptr_t): the structs are built in memory we own
const recvmmsg = libc.func('int recvmmsg(int fd, intptr_t msgvec, unsigned int vlen, int flags, intptr_t timeout)') as (fd: number, vec: number, n: number, flags: number, timeout: number) => number;
const sendmmsg = libc.func('int sendmmsg(int fd, intptr_t msgvec, unsigned int vlen, int flags)') as (fd: number, vec: number, n: number, flags: number) => number;
const sendto = libc.func('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)') as (fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrLen: number) => number;

const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const AF_INET = 2;
/** struct mmsghdr on x86-64 and aarch64: msghdr (56 bytes) + msg_len, padded */
const MMSGHDR = 64;
const IOVEC = 16;
/** room for a sockaddr_in6 */
const NAME = 32;
/** A datagram bigger than this is dropped, not answered (a query's one question, its OPT and a cookie are far below). */
export const MAX_QUERY = 4096;
/** Answers of one round, back to back: the biggest UDP answer always fits. */
const ARENA = 128 * 1024;
/** Reads per wake-up before libuv serves the thread's other sockets again. */
const MAX_ROUNDS = 4;

/** An answer now, or later (forwarded), or none. */
export type Answer = Buffer | undefined | Promise<Buffer | undefined>;

export interface BatchSocket {
  fd: number;
  /** Answers one query (the bytes are valid only during the call). */
  handle(msg: Buffer): Answer;
  /** A datagram too big for a slot came in (and was dropped). */
  unread(): void;
  /** A later answer to `to` (a sockaddr): the socket may have been closed since. */
  later(answer: Promise<Buffer | undefined>, to: Buffer): void;
}

export class BatchIo {
  private readonly mem: unknown;
  private readonly base: number;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly ab: ArrayBuffer;
  private readonly recvHdr: number;
  private readonly sendHdr: number;
  private readonly sendIov: number;
  private readonly names: number;
  private readonly data: number;
  private readonly arena: number;
  private queued = 0;
  private arenaUsed = 0;
  /** Answers one round can send: its datagrams and the one libuv read. */
  private readonly sendSlots: number;

  constructor(private readonly slots = 64) {
    this.sendSlots = slots + 1;
    this.recvHdr = 0;
    this.sendHdr = slots * MMSGHDR;
    const recvIov = this.sendHdr + this.sendSlots * MMSGHDR;
    this.sendIov = recvIov + slots * IOVEC;
    this.names = this.sendIov + this.sendSlots * IOVEC;
    this.data = this.names + (slots + 1) * NAME; // the extra name: the datagram libuv read
    this.arena = this.data + slots * MAX_QUERY;
    const size = this.arena + ARENA;
    this.mem = koffi.alloc('uint8_t', size);
    this.base = Number(koffi.address(this.mem));
    this.ab = koffi.view(this.mem, size);
    this.u8 = new Uint8Array(this.ab);
    this.u32 = new Uint32Array(this.ab);
    this.u8.fill(0); // no control data, no flags: every field not set below stays 0
    for (let i = 0; i < slots; i++) {
      const h = this.recvHdr + i * MMSGHDR;
      this.ptr(h, this.base + this.names + i * NAME);
      this.ptr(h + 16, this.base + recvIov + i * IOVEC);
      this.ptr(h + 24, 1);
      this.ptr(recvIov + i * IOVEC, this.base + this.data + i * MAX_QUERY);
      this.ptr(recvIov + i * IOVEC + 8, MAX_QUERY);
    }
    for (let i = 0; i < this.sendSlots; i++) {
      const s = this.sendHdr + i * MMSGHDR;
      this.ptr(s + 16, this.base + this.sendIov + i * IOVEC);
      this.ptr(s + 24, 1);
    }
  }

  /** Writes a 64-bit value (addresses stay below 2^53) at byte offset off. */
  private ptr(off: number, v: number): void {
    this.u32[off >>> 2] = v >>> 0;
    this.u32[(off >>> 2) + 1] = Math.floor(v / 0x1_0000_0000);
  }

  /**
   * Answers `first` (read by libuv, from address:port) and then whatever else waits on the
   * socket, a round of up to `slots` datagrams at a time; every answer sent in bulk.
   */
  serve(s: BatchSocket, first: Buffer, address: string, port: number): void {
    this.queued = 0; // whatever an earlier call left (it cannot throw midway, but a stale send must never go out)
    this.arenaUsed = 0;
    const firstName = this.names + this.slots * NAME;
    this.writeSockaddrIn(firstName, address, port);
    // libuv reads whole datagrams: the one it read is held to the slots' limit all the same
    if (first.length > MAX_QUERY) s.unread();
    else this.take(s, s.handle(first), firstName, 16);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const n = this.receive(s.fd);
      for (let i = 0; i < n; i++) {
        const h = this.recvHdr + i * MMSGHDR;
        const len = this.u32[(h + 56) >>> 2] as number;
        const nameLen = this.u32[(h + 8) >>> 2] as number;
        if ((this.u32[(h + 48) >>> 2] as number) & MSG_TRUNC) {
          s.unread();
          continue;
        }
        const msg = Buffer.from(this.ab, this.data + i * MAX_QUERY, len);
        this.take(s, s.handle(msg), this.names + i * NAME, nameLen);
      }
      this.flush(s.fd); // before the next read reuses the names
      if (n < this.slots) break;
    }
    this.flush(s.fd);
  }

  /** Queues a sync answer to the name at offset nameOff; a later one gets a copy of the name. */
  private take(s: BatchSocket, a: Answer, nameOff: number, nameLen: number): void {
    if (a === undefined) return;
    if (a instanceof Promise) {
      s.later(a, Buffer.from(this.u8.subarray(nameOff, nameOff + nameLen)));
      return;
    }
    if (this.queued === this.sendSlots || this.arenaUsed + a.length > ARENA) this.flush(s.fd);
    const at = this.arena + this.arenaUsed;
    this.u8.set(a, at);
    const iov = this.sendIov + this.queued * IOVEC;
    this.ptr(iov, this.base + at);
    this.ptr(iov + 8, a.length);
    const h = this.sendHdr + this.queued * MMSGHDR;
    this.ptr(h, this.base + nameOff);
    this.u32[(h + 8) >>> 2] = nameLen;
    this.queued++;
    this.arenaUsed += (a.length + 7) & ~7;
  }

  /** Reads up to `slots` datagrams without waiting; 0 when none (or on any error). */
  private receive(fd: number): number {
    for (let i = 0; i < this.slots; i++) this.u32[(this.recvHdr + i * MMSGHDR + 8) >>> 2] = NAME;
    const n = recvmmsg(fd, this.base + this.recvHdr, this.slots, MSG_DONTWAIT, 0);
    return n > 0 ? n : 0;
  }

  /** Sends what is queued; an answer the kernel refuses (ICMP error, full buffer) is lost, as a datagram may be. */
  private flush(fd: number): void {
    let i = 0;
    while (i < this.queued) {
      const n = sendmmsg(fd, this.base + this.sendHdr + i * MMSGHDR, this.queued - i, MSG_DONTWAIT);
      i += n > 0 ? n : 1;
    }
    this.queued = 0;
    this.arenaUsed = 0;
  }

  /** sockaddr_in for a dotted quad (the sockets are AF_INET), at byte offset off. */
  private writeSockaddrIn(off: number, address: string, port: number): void {
    const parts = address.split('.');
    this.u8[off] = AF_INET;
    this.u8[off + 1] = 0;
    this.u8[off + 2] = port >>> 8;
    this.u8[off + 3] = port & 0xff;
    for (let i = 0; i < 4; i++) this.u8[off + 4 + i] = Number(parts[i]) & 0xff;
  }

  /** Sends one answer to a sockaddr (a forwarded one, after its batch); lost like a datagram if refused. */
  sendTo(fd: number, answer: Buffer, to: Buffer): void {
    sendto(fd, answer, answer.length, MSG_DONTWAIT, to, to.length);
  }

  /** Gives the memory back; the thread must not serve with it any more. */
  free(): void {
    koffi.free(this.mem);
  }
}
