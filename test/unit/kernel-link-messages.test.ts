import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  IFLA_ADDRESS, IFLA_IFNAME, IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_LINK, IFLA_LINKINFO, IFLA_MACVLAN_MODE, IFLA_MTU,
  IFLA_NET_NS_FD, IFLA_VLAN_ID, IFINFOMSG_LEN, NLM_F_CREATE, NLM_F_EXCL, RTM_NEWLINK,
} from '../../src/kernel/netlink/constants.js';
import { createMacvlan, createVlan, moveLink } from '../../src/kernel/netlink/links.js';
import { attrString, attrU32, parseAttrs } from '../../src/kernel/netlink/message.js';
import type { NetlinkSocket } from '../../src/kernel/netlink/socket.js';

// The RTM_NEWLINK messages for macvlan, VLAN and moved links, as bytes: the real kernel
// proves macvlan and moves (test/integration/kernel-links.test.ts); this kernel has no
// 8021q, so the VLAN request is checked here against linux/if_link.h.

interface Sent { type: number; flags: number; body: Buffer }

function recorder(): { s: NetlinkSocket; sent: Sent[] } {
  const sent: Sent[] = [];
  const s = { request: (type: number, flags: number, body: Buffer[]) => void sent.push({ type, flags, body: Buffer.concat(body) }) };
  return { s: s as unknown as NetlinkSocket, sent };
}

test('a macvlan: parent ifindex, kind and mode, MAC, MTU and the target netns in one exclusive create', () => {
  const { s, sent } = recorder();
  createMacvlan(s, { name: 'eth0', parent: 7, mode: 'private', mac: '02:42:c6:12:01:82', mtu: 1400, nsFd: 42 });
  const [m] = sent;
  assert.equal(m.type, RTM_NEWLINK);
  assert.equal(m.flags, NLM_F_CREATE | NLM_F_EXCL);
  const a = parseAttrs(m.body, IFINFOMSG_LEN);
  assert.equal(attrString(a.get(IFLA_IFNAME)), 'eth0');
  assert.equal(attrU32(a.get(IFLA_LINK)), 7);
  assert.equal(attrU32(a.get(IFLA_MTU)), 1400);
  assert.equal(attrU32(a.get(IFLA_NET_NS_FD)), 42);
  assert.deepEqual([...a.get(IFLA_ADDRESS)!], [0x02, 0x42, 0xc6, 0x12, 0x01, 0x82]);
  const info = parseAttrs(a.get(IFLA_LINKINFO)!);
  assert.equal(attrString(info.get(IFLA_INFO_KIND)), 'macvlan');
  assert.equal(attrU32(parseAttrs(info.get(IFLA_INFO_DATA)!).get(IFLA_MACVLAN_MODE)), 1, 'MACVLAN_MODE_PRIVATE');
});

test('a VLAN: kind vlan on the parent, the 802.1q tag as a u16', () => {
  const { s, sent } = recorder();
  createVlan(s, 'eth1.10', 3, 10);
  const a = parseAttrs(sent[0].body, IFINFOMSG_LEN);
  assert.equal(attrString(a.get(IFLA_IFNAME)), 'eth1.10');
  assert.equal(attrU32(a.get(IFLA_LINK)), 3);
  const info = parseAttrs(a.get(IFLA_LINKINFO)!);
  assert.equal(attrString(info.get(IFLA_INFO_KIND)), 'vlan');
  const id = parseAttrs(info.get(IFLA_INFO_DATA)!).get(IFLA_VLAN_ID)!;
  assert.equal(id.length, 2);
  assert.equal(id.readUInt16LE(0), 10);
});

test('a move: the link by index, the target netns fd and its name there; no create flags', () => {
  const { s, sent } = recorder();
  moveLink(s, 12, 5, 'eth1');
  assert.equal(sent[0].flags, 0);
  assert.equal(sent[0].body.readInt32LE(4), 12, 'ifinfomsg index');
  const a = parseAttrs(sent[0].body, IFINFOMSG_LEN);
  assert.deepEqual([attrU32(a.get(IFLA_NET_NS_FD)), attrString(a.get(IFLA_IFNAME))], [5, 'eth1']);
});
