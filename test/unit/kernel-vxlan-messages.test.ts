import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AF_BRIDGE, AF_INET, AF_INET6, CTA_ID, CTA_IP_V4_DST, CTA_IP_V4_SRC, CTA_TUPLE_IP, CTA_TUPLE_ORIG, CTA_TUPLE_REPLY,
  IFINFOMSG_LEN, IFLA_IFNAME, IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_LINKINFO, IFLA_MASTER, IFLA_MTU, IFLA_VXLAN_ID,
  IFLA_VXLAN_LEARNING, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, IFLA_VXLAN_PORT, IFLA_VXLAN_PROXY, IFLA_VXLAN_TTL,
  IPCTNL_MSG_CT_DELETE, NDA_DST, NDA_LLADDR, NDMSG_LEN, NFGENMSG_LEN, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE,
  NTF_MASTER, NTF_SELF, NUD_NOARP, NUD_PERMANENT, RTM_DELNEIGH, RTM_NEWLINK, RTM_NEWNEIGH,
} from '../../src/kernel/netlink/constants.js';
import { ctMsgType, flushConntrackOf, nfgenmsg } from '../../src/kernel/netlink/conntrack.js';
import { attr, attrString, attrU32, nested, parseAttrs } from '../../src/kernel/netlink/message.js';
import { deleteFdb, deleteNeighbour, replaceFdbPort, replaceFdbVtep, replaceNeighbour } from '../../src/kernel/netlink/neigh.js';
import type { NetlinkSocket } from '../../src/kernel/netlink/socket.js';
import type { NlMessage } from '../../src/kernel/netlink/message.js';
import { createVxlan, parseVxlanInfo, vxlanMtu } from '../../src/kernel/netlink/vxlan.js';
import { SysError } from '../../src/kernel/ffi/libc.js';
import { assertVni } from '../../src/kernel/validate.js';
import { InvalidParameterError } from '../../src/util/errors.js';

// The overlay data path's netlink messages as bytes, against linux/if_link.h,
// linux/neighbour.h and linux/netfilter/nfnetlink_conntrack.h. The real kernel proves
// them in test/integration/kernel-vxlan.test.ts.

interface Sent { type: number; flags: number; body: Buffer }

function recorder(fail?: (type: number) => number | undefined, dump: NlMessage[] = []): { s: NetlinkSocket; sent: Sent[] } {
  const sent: Sent[] = [];
  const s = {
    request: (type: number, flags: number, body: Buffer[]) => {
      sent.push({ type, flags, body: Buffer.concat(body) });
      const errno = fail?.(type);
      if (errno) throw new SysError(errno);
    },
    dump: () => dump,
  };
  return { s: s as unknown as NetlinkSocket, sent };
}

const ndm = (b: Buffer) => ({ family: b.readUInt8(0), ifindex: b.readInt32LE(4), state: b.readUInt16LE(8), flags: b.readUInt8(10) });

test('a VXLAN device: VNI, local address, port 4789 big-endian, no learning, proxy, TTL, MTU and master; no group', () => {
  const { s, sent } = recorder();
  createVxlan(s, { name: 'vx-4242', vni: 4242, local: '10.98.0.1', port: 4789, ttl: 64, mtu: 1450, master: 9 });
  const [m] = sent;
  assert.equal(m.type, RTM_NEWLINK);
  assert.equal(m.flags, NLM_F_CREATE | NLM_F_EXCL);
  const a = parseAttrs(m.body, IFINFOMSG_LEN);
  assert.equal(attrString(a.get(IFLA_IFNAME)), 'vx-4242');
  assert.equal(attrU32(a.get(IFLA_MTU)), 1450);
  assert.equal(attrU32(a.get(IFLA_MASTER)), 9);
  const info = parseAttrs(a.get(IFLA_LINKINFO)!);
  assert.equal(attrString(info.get(IFLA_INFO_KIND)), 'vxlan');
  const data = parseAttrs(info.get(IFLA_INFO_DATA)!);
  assert.equal(attrU32(data.get(IFLA_VXLAN_ID)), 4242);
  assert.deepEqual([...data.get(IFLA_VXLAN_LOCAL)!], [10, 98, 0, 1]);
  assert.deepEqual([...data.get(IFLA_VXLAN_PORT)!], [0x12, 0xb5], '4789 in network order');
  assert.deepEqual([...data.get(IFLA_VXLAN_LEARNING)!], [0]);
  assert.deepEqual([...data.get(IFLA_VXLAN_PROXY)!], [1]);
  assert.deepEqual([...data.get(IFLA_VXLAN_TTL)!], [64]);
  assert.equal(data.has(2), false, 'no IFLA_VXLAN_GROUP: no multicast, no flooding');
  assert.equal(data.has(3), false, 'no IFLA_VXLAN_LINK: the underlay route decides');
  assert.deepEqual(parseVxlanInfo(info.get(IFLA_INFO_DATA)!), { vni: 4242, local: '10.98.0.1', port: 4789, ttl: 64, learning: false, proxy: true });
});

test('an IPv6 underlay: the local address goes in IFLA_VXLAN_LOCAL6; no master, no IFLA_MASTER', () => {
  const { s, sent } = recorder();
  createVxlan(s, { name: 'vx-1', vni: 1, local: 'fd00:98::1', port: 4789, ttl: 64, mtu: 1430, master: 0 });
  const a = parseAttrs(sent[0].body, IFINFOMSG_LEN);
  assert.equal(a.has(IFLA_MASTER), false);
  const data = parseAttrs(parseAttrs(a.get(IFLA_LINKINFO)!).get(IFLA_INFO_DATA)!);
  assert.equal(data.has(IFLA_VXLAN_LOCAL), false);
  assert.equal(data.get(IFLA_VXLAN_LOCAL6)!.length, 16);
  assert.equal(parseVxlanInfo(parseAttrs(a.get(IFLA_LINKINFO)!).get(IFLA_INFO_DATA)!).local, 'fd00:98::1');
});

test('the MTU is the underlay\'s less 50 bytes on IPv4 and 70 on IPv6', () => {
  assert.equal(vxlanMtu(1500, 4), 1450);
  assert.equal(vxlanMtu(1500, 6), 1430);
  assert.equal(vxlanMtu(9000, 4), 8950);
  assert.equal(vxlanMtu(1400, 4), 1350);
});

test('VNIs: 1..16777215 (24 bits, 0 reserved)', () => {
  for (const ok of [1, 4242, 16777215]) assertVni(ok);
  for (const bad of [0, -1, 16777216, 1.5, NaN]) assert.throws(() => assertVni(bad), InvalidParameterError, String(bad));
});

test('a peer\'s FDB entry: AF_BRIDGE, the device itself (NTF_SELF), permanent, MAC and VTEP, replaced in place (never appended)', () => {
  const { s, sent } = recorder();
  replaceFdbVtep(s, 7, '02:42:0a:f0:00:03', '10.98.0.2');
  const [m] = sent;
  assert.equal(m.type, RTM_NEWNEIGH);
  assert.equal(m.flags, NLM_F_CREATE | NLM_F_REPLACE);
  assert.equal(m.flags & 0x800, 0, 'not NLM_F_APPEND: that would add a second destination');
  assert.deepEqual(ndm(m.body), { family: AF_BRIDGE, ifindex: 7, state: NUD_PERMANENT, flags: NTF_SELF });
  const a = parseAttrs(m.body, NDMSG_LEN);
  assert.deepEqual([...a.get(NDA_LLADDR)!], [2, 0x42, 10, 0xf0, 0, 3]);
  assert.deepEqual([...a.get(NDA_DST)!], [10, 98, 0, 2]);
});

test('the bridge\'s entry for a peer: NTF_MASTER, static (NUD_NOARP: "permanent" would make it local), no destination', () => {
  const { s, sent } = recorder();
  replaceFdbPort(s, 7, '02:42:0a:f0:00:03');
  assert.deepEqual(ndm(sent[0].body), { family: AF_BRIDGE, ifindex: 7, state: NUD_NOARP, flags: NTF_MASTER });
  assert.equal(parseAttrs(sent[0].body, NDMSG_LEN).has(NDA_DST), false);
});

test('permanent neighbours in the address\'s family; deletes of missing entries are not errors', () => {
  const { s, sent } = recorder((type) => (type === RTM_DELNEIGH ? 2 : undefined));
  replaceNeighbour(s, 7, '10.240.0.3', '02:42:0a:f0:00:03');
  replaceNeighbour(s, 7, 'fd00:4242::3', '02:42:0a:f0:00:03');
  assert.deepEqual(ndm(sent[0].body), { family: AF_INET, ifindex: 7, state: NUD_PERMANENT, flags: 0 });
  assert.deepEqual(ndm(sent[1].body), { family: AF_INET6, ifindex: 7, state: NUD_PERMANENT, flags: 0 });
  assert.equal(parseAttrs(sent[1].body, NDMSG_LEN).get(NDA_DST)!.length, 16);
  assert.equal(deleteNeighbour(s, 7, '10.240.0.3'), false);
  assert.equal(deleteFdb(s, 7, '02:42:0a:f0:00:03', 'self'), false);
  assert.equal(ndm(sent[3].body).flags, NTF_SELF);
  assert.equal(sent[3].type, RTM_DELNEIGH);
});

function ctEntry(src: number[], dst: number[], id: number): NlMessage {
  const tuple = (type: number, a: number[], b: number[]) =>
    nested(type, [nested(CTA_TUPLE_IP, [attr(CTA_IP_V4_SRC, Buffer.from(a)), attr(CTA_IP_V4_DST, Buffer.from(b))])]);
  const idAttr = Buffer.alloc(4);
  idAttr.writeUInt32BE(id, 0);
  return {
    type: ctMsgType(0), flags: 2, seq: 1,
    payload: Buffer.concat([nfgenmsg(AF_INET), tuple(CTA_TUPLE_ORIG, src, dst), tuple(CTA_TUPLE_REPLY, dst, src), attr(CTA_ID, idAttr)]),
  };
}

test('a conntrack flush deletes each entry of the IP by its own original tuple and id, in its family, and no other', () => {
  const dump = [ctEntry([10, 240, 0, 1], [10, 240, 0, 2], 1), ctEntry([10, 98, 0, 1], [10, 98, 0, 2], 2), ctEntry([10, 240, 0, 2], [1, 1, 1, 1], 3)];
  const { s, sent } = recorder(undefined, dump);
  assert.equal(flushConntrackOf(s, '10.240.0.2'), 2);
  assert.deepEqual(sent.map((m) => m.type), [ctMsgType(IPCTNL_MSG_CT_DELETE), ctMsgType(IPCTNL_MSG_CT_DELETE)]);
  for (const [i, m] of sent.entries()) {
    assert.equal(m.body.readUInt8(0), AF_INET);
    const a = parseAttrs(m.body, NFGENMSG_LEN);
    assert.deepEqual(a.get(CTA_TUPLE_ORIG), parseAttrs(dump[i * 2].payload, NFGENMSG_LEN).get(CTA_TUPLE_ORIG));
    assert.equal(a.get(CTA_ID)!.readUInt32BE(0), i * 2 + 1);
    assert.equal(a.has(CTA_TUPLE_REPLY), false);
  }
});

test('a conntrack entry gone before its delete (ENOENT) is not counted and not an error', () => {
  const { s } = recorder(() => 2, [ctEntry([10, 240, 0, 1], [10, 240, 0, 2], 1)]);
  assert.equal(flushConntrackOf(s, '10.240.0.2'), 0);
});
