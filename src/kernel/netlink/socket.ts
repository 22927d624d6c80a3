import * as libc from '../ffi/libc.js';
import { SysError } from '../ffi/libc.js';
import {
  AF_NETLINK, NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_ROUTE, NLMSGERR_ATTR_MSG,
  NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_DUMP,
  NLM_F_REQUEST, SOCK_CLOEXEC, SOCK_RAW, SOL_NETLINK, SOL_SOCKET, SO_RCVTIMEO,
} from './constants.js';
import { attrString, decodeMessages, encodeMessage, parseAttrs, type NlMessage } from './message.js';

// A synchronous rtnetlink socket. It belongs to the netns of the thread that opened it,
// for its whole life, whatever the thread does afterwards. rtnetlink handles a request
// inside send(), so the blocking recv() that follows returns at once (deletes wait for
// RCU, ~20 ms); the 2 s receive timeout only guards against a kernel that never answers.

const ETIMEDOUT = 110;
const EAGAIN = 11;
const RECV_TIMEOUT_S = 2;

let nextSeq = 1;
const recvBuf = Buffer.alloc(256 * 1024);

export class NetlinkSocket {
  private constructor(private fd: number) {}

  /** Opens a NETLINK_ROUTE socket (or one of `protocol`, e.g. NETLINK_NETFILTER) in the calling thread's current netns. */
  static open(protocol = NETLINK_ROUTE): NetlinkSocket {
    const fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    try {
      const sa = Buffer.alloc(12);
      sa.writeUInt16LE(AF_NETLINK, 0);
      libc.bind(fd, sa);
      const tv = Buffer.alloc(16);
      tv.writeBigInt64LE(BigInt(RECV_TIMEOUT_S), 0);
      libc.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv);
      setIntOpt(fd, NETLINK_CAP_ACK);
      setIntOpt(fd, NETLINK_EXT_ACK);
    } catch (e) {
      libc.close(fd);
      throw e;
    }
    return new NetlinkSocket(fd);
  }

  /** A request that changes something: waits for the ACK, throws SysError on NACK. */
  request(type: number, flags: number, body: Buffer[]): void {
    this.transact(type, NLM_F_REQUEST | NLM_F_ACK | flags, body);
  }

  /** A GET for one object: the reply messages (empty if none). */
  get(type: number, body: Buffer[]): NlMessage[] {
    return this.transact(type, NLM_F_REQUEST | NLM_F_ACK, body);
  }

  dump(type: number, body: Buffer[]): NlMessage[] {
    return this.transact(type, NLM_F_REQUEST | NLM_F_DUMP, body);
  }

  close(): void {
    if (this.fd < 0) return;
    libc.close(this.fd);
    this.fd = -1;
  }

  private transact(type: number, flags: number, body: Buffer[]): NlMessage[] {
    const seq = nextSeq++;
    libc.send(this.fd, encodeMessage(type, flags, seq, body));
    const replies: NlMessage[] = [];
    for (;;) {
      for (const m of decodeMessages(recvBuf, this.receive())) {
        if (m.seq !== seq) continue; // a late answer to a request that timed out
        if (m.type === NLMSG_ERROR || m.type === NLMSG_DONE) {
          throwIfError(m);
          return replies;
        }
        replies.push(m);
      }
    }
  }

  private receive(): number {
    try {
      return libc.recv(this.fd, recvBuf);
    } catch (e) {
      if (e instanceof SysError && e.errno === EAGAIN) throw new SysError(ETIMEDOUT, 'no netlink answer');
      throw e;
    }
  }
}

function setIntOpt(fd: number, opt: number): void {
  const one = Buffer.alloc(4);
  one.writeInt32LE(1, 0);
  libc.setsockopt(fd, SOL_NETLINK, opt, one);
}

/** NLMSG_ERROR carries -errno (0 = ACK); NLMSG_DONE of a dump may carry one too. */
function throwIfError(m: NlMessage): void {
  if (m.payload.length < 4) return;
  const err = m.payload.readInt32LE(0);
  if (err >= 0) return;
  let detail = '';
  if (m.type === NLMSG_ERROR && m.flags & NLM_F_ACK_TLVS) {
    // With NETLINK_CAP_ACK the echoed request is only its header.
    detail = attrString(parseAttrs(m.payload, 4 + NLMSG_HDRLEN).get(NLMSGERR_ATTR_MSG));
  }
  throw new SysError(-err, detail);
}
