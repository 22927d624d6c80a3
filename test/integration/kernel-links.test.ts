import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openKernel } from '../../src/kernel/client.js';
import { kernelWorldSkip } from './kernel-world.js';
import type { Kernel, LinkSpec, SandboxInterface } from '../../src/kernel/types.js';
import { KernelError } from '../../src/util/errors.js';
import { wireSwitchedHost, wireSwitchedLan } from '../lab/topology.js';

// The kernel's non-bridge links against the real kernel: a macvlan born in a sandbox on a
// plain parent that leads to a LAN, links moved into a sandbox and given back, and the
// links a network owns outside its sandboxes. Like kernel.test.ts it runs in the
// throwaway world's own netns (the kernel worker's home), checked with iproute2 and ping.
//
//   world netns (home)            kl-lan netns                 kl-h2 netns
//   eth1 198.18.1.250/24 ─veth─ up0 ─ sw0 198.18.1.1/24 ─ lh2 ─ eth0 198.18.1.2/24
//     └ macvlans → sandboxes under `dir`

const run = promisify(execFile);

const skip = kernelWorldSkip();

const PARENT = 'eth1';
const LAN_NS = '/run/netns/kl-lan';
const LAN_HOST_NS = '/run/netns/kl-h2';
const LAN_HOST = '198.18.1.2';
const ROUTER = '198.18.1.1';

let k: Kernel;
let dir: string;

async function sh(argv: string[], netns?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const full = netns ? ['nsenter', `--net=${netns}`, ...argv] : argv;
  try {
    const { stdout, stderr } = await run(full[0], full.slice(1));
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

async function ipj(args: string[], netns?: string): Promise<any[]> {
  const r = await sh(['ip', '-j', ...args], netns);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

/** `ip -d link` of a netns, as names with their kind: what a failure must leave unchanged. */
async function linksOf(netns?: string): Promise<string[]> {
  return (await ipj(['-d', 'link', 'show'], netns)).map((l) => `${l.ifname}:${l.linkinfo?.info_kind ?? ''}`).sort();
}

/** One answer within 3 s: a link just up may drop its first frames (its qdisc comes up on the kernel's link watch). */
const pings = async (from: string | undefined, to: string): Promise<boolean> =>
  (await sh(['ping', '-c', '1', '-w', '3', to], from)).code === 0;

function macvlan(addr: string, mode: 'bridge' | 'private' | 'vepa' | 'passthru' = 'bridge', over: Partial<SandboxInterface> = {}): SandboxInterface {
  const last = Number(addr.split('.')[3]);
  return {
    link: { kind: 'macvlan', parent: PARENT, mode },
    ifName: 'eth0',
    mac: `02:42:c6:12:01:${last.toString(16).padStart(2, '0')}`,
    addresses: [`${addr}/24`],
    routes: [{ dst: 'default', via: ROUTER }],
    ...over,
  };
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(existsSync('/run') ? '/run' : '/tmp', 'berth-kernel-links-'));
  k = await openKernel();
  await wireSwitchedLan(undefined, 'kl-lan', PARENT);
  await wireSwitchedHost('kl-lan', 'kl-h2', 2);
});

after(async () => {
  if (skip) return;
  await k.close();
  await run('umount', ['-l', dir]).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  for (const ns of ['kl-h2', 'kl-lan']) await run('ip', ['netns', 'delete', ns]).catch(() => undefined);
  await run('ip', ['link', 'del', PARENT]).catch(() => undefined);
});

test('a macvlan is born in the sandbox with its MAC, and the LAN reaches it by its own address and MAC', { skip }, async () => {
  const before = await linksOf();
  const ns = join(dir, 'mv1');
  const i = macvlan('198.18.1.130');
  await k.applySandbox(ns, [i], { create: true });
  try {
    assert.deepEqual(await linksOf(), before, 'nothing new in the daemon\'s netns: the macvlan never lived there');
    const [eth0] = await ipj(['-d', 'link', 'show', 'eth0'], ns);
    assert.equal(eth0.linkinfo.info_kind, 'macvlan');
    assert.equal(eth0.linkinfo.info_data.mode, 'bridge');
    assert.equal(eth0.address, i.mac);
    assert.ok(eth0.flags.includes('UP'));
    const routes = await ipj(['-4', 'route'], ns);
    assert.ok(routes.some((r) => r.dst === 'default' && r.gateway === ROUTER && r.dev === 'eth0'));

    assert.ok(await pings(LAN_HOST_NS, '198.18.1.130'), 'the LAN host reaches the sandbox');
    const neigh = await ipj(['neigh', 'show', '198.18.1.130'], LAN_HOST_NS);
    assert.equal(neigh[0]?.lladdr, i.mac, "the LAN host's neighbour table has the sandbox's own MAC");
    assert.ok(await pings(ns, ROUTER), 'the sandbox reaches the router');
  } finally {
    await k.removeInterface(ns, { ifName: 'eth0', link: i.link });
    await k.deleteNetns(ns);
  }
  assert.deepEqual(await linksOf(), before);
});

test('two macvlans on one parent talk in bridge mode and not in private mode, where both still reach the LAN', { skip }, async () => {
  for (const mode of ['bridge', 'private'] as const) {
    const a = join(dir, `${mode}-a`);
    const b = join(dir, `${mode}-b`);
    await k.applySandbox(a, [macvlan('198.18.1.140', mode)], { create: true });
    await k.applySandbox(b, [macvlan('198.18.1.141', mode)], { create: true });
    try {
      const [eth0] = await ipj(['-d', 'link', 'show', 'eth0'], a);
      assert.equal(eth0.linkinfo.info_data.mode, mode);
      assert.equal(await pings(a, '198.18.1.141'), mode === 'bridge', `${mode}: a → b`);
      assert.ok(await pings(a, LAN_HOST), `${mode}: a → LAN host`);
      assert.ok(await pings(b, LAN_HOST), `${mode}: b → LAN host`);
    } finally {
      // removed before the netns goes: the kernel tears a deleted netns down lazily
      for (const ns of [a, b]) await k.removeInterface(ns, { ifName: 'eth0', link: macvlan('198.18.1.140').link });
      await k.deleteNetns(a);
      await k.deleteNetns(b);
    }
  }
});

test('a MAC another macvlan of the parent holds fails clearly, and the sandbox is left as it was', { skip }, async () => {
  const a = join(dir, 'mac-a');
  const b = join(dir, 'mac-b');
  await k.applySandbox(a, [macvlan('198.18.1.142')], { create: true });
  try {
    const err = await k.applySandbox(b, [macvlan('198.18.1.142')], { create: true }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof KernelError);
    assert.equal(err.code, 'EADDRINUSE');
    assert.match(err.message, /MAC address 02:42:c6:12:01:8e is in use by another macvlan on eth1/);
    assert.equal(existsSync(b), false);
  } finally {
    await k.removeInterface(a, { ifName: 'eth0', link: macvlan('198.18.1.142').link });
    await k.deleteNetns(a);
  }
});

test('a macvlan on a missing parent fails clearly and leaves no netns and no link', { skip }, async () => {
  const before = await linksOf();
  const ns = join(dir, 'nope');
  const err = await k.applySandbox(ns, [macvlan('198.18.1.150', 'bridge', { link: { kind: 'macvlan', parent: 'nope0', mode: 'bridge' } })], { create: true })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof KernelError);
  assert.equal(err.code, 'ENODEV');
  assert.match(err.message, /parent interface nope0 not found/);
  assert.equal(existsSync(ns), false);
  assert.deepEqual(await linksOf(), before);
});

test('a sandbox whose second interface fails keeps nothing: the first macvlan goes, the netns goes', { skip }, async () => {
  const before = await linksOf();
  const ns = join(dir, 'half');
  const tooBig = macvlan('198.18.1.151', 'bridge', { ifName: 'eth1', mtu: 9000, mac: '02:42:c6:12:01:97' });
  const err = await k.applySandbox(ns, [macvlan('198.18.1.150'), tooBig], { create: true }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof KernelError);
  assert.match(err.message, /cannot create macvlan eth1 on eth1: MTU 9000 is larger than the parent's \(1500\)/);
  assert.equal(existsSync(ns), false);
  assert.deepEqual(await linksOf(), before);
  const [eth1] = await ipj(['-d', 'link', 'show', PARENT]);
  assert.equal(eth1.linkinfo?.info_kind, 'veth', 'the parent itself is untouched');
});

test('one passthru macvlan takes a parent; a second one on it fails clearly and is not made', { skip }, async () => {
  const a = join(dir, 'pt-a');
  const b = join(dir, 'pt-b');
  await k.applySandbox(a, [macvlan('198.18.1.160', 'passthru', { mac: undefined })], { create: true });
  try {
    const [eth0] = await ipj(['-d', 'link', 'show', 'eth0'], a);
    assert.equal(eth0.linkinfo.info_data.mode, 'passthru');
    assert.ok(await pings(a, LAN_HOST));
    const err = await k.applySandbox(b, [macvlan('198.18.1.161', 'passthru', { mac: undefined })], { create: true }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof KernelError);
    assert.match(err.message, /cannot create macvlan eth0 on eth1: a passthru macvlan must be the only macvlan on its parent/);
    assert.equal(existsSync(b), false);
  } finally {
    // removed first: a passthru macvlan holds its parent promiscuous until it is gone, and a deleted netns goes lazily
    await k.removeInterface(a, { ifName: 'eth0', link: { kind: 'macvlan', parent: PARENT, mode: 'passthru' } });
    await k.deleteNetns(a);
  }
  const [eth1] = await ipj(['-d', 'link', 'show', PARENT]);
  assert.equal(eth1.promiscuity, 0, 'the parent is no longer promiscuous');
});

test('a veth pair parked in a netns: each end moved into a sandbox, renamed, with MAC and MTU; given back down and bare', { skip }, async () => {
  const parking = join(dir, 'parking');
  await k.createNetns(parking);
  await k.createVethPair('ptpa', 'ptpb', parking);
  await k.createVethPair('ptpa', 'ptpb', parking); // idempotent
  const endA: LinkSpec = { kind: 'existing', name: 'ptpa', netns: parking, giveBack: true };
  const endB: LinkSpec = { kind: 'existing', name: 'ptpb', netns: parking, giveBack: true };
  const a = join(dir, 'ptp-a');
  const b = join(dir, 'ptp-b');
  const iface = (link: LinkSpec, n: number): SandboxInterface => ({
    link, ifName: 'eth1', mac: `02:42:0a:63:00:0${n}`, mtu: 1400, addresses: [`10.99.0.${n}/31`], routes: [],
  });
  await k.applySandbox(a, [iface(endA, 0)], { create: true });
  await k.applySandbox(b, [iface(endB, 1)], { create: true });
  try {
    assert.deepEqual(await linksOf(parking), ['lo:'], 'both ends have left the parking netns');
    const [eth1] = await ipj(['-d', 'link', 'show', 'eth1'], a);
    assert.deepEqual([eth1.linkinfo.info_kind, eth1.address, eth1.mtu], ['veth', '02:42:0a:63:00:00', 1400]);
    assert.ok(await pings(a, '10.99.0.1'), 'a → b straight over the pair');

    await k.removeInterface(a, { ifName: 'eth1', link: endA });
    await k.removeInterface(a, { ifName: 'eth1', link: endA }); // idempotent
    assert.deepEqual(await linksOf(a), ['lo:']);
    const [back] = await ipj(['-d', 'addr', 'show', 'ptpa'], parking);
    assert.equal(back.ifname, 'ptpa', 'back under its parked name');
    assert.equal(back.flags.includes('UP'), false, 'down');
    assert.deepEqual(back.addr_info.filter((x: any) => x.family === 'inet'), [], 'no address left on it');

    // it can be taken again, by another sandbox
    await k.applySandbox(a, [iface(endA, 0)], { create: false });
    assert.ok(await pings(b, '10.99.0.0'));
  } finally {
    await k.deleteNetns(a);
    await k.deleteNetns(b);
    await k.deleteNetns(parking);
  }
});

test('a move onto a name the sandbox has, or back onto a name taken at home, fails clearly and loses no link', { skip }, async () => {
  const parking = join(dir, 'clash-park');
  const ns = join(dir, 'clash');
  await k.createNetns(parking);
  await k.createVethPair('cla', 'clb', parking);
  const link: LinkSpec = { kind: 'existing', name: 'cla', netns: parking, giveBack: true };
  const moved = (ifName: string, mac?: string): SandboxInterface => ({ link, ifName, mac, addresses: [], routes: [] });
  await k.applySandbox(ns, [moved('eth0')], { create: true });
  try {
    // eth0 is taken in the sandbox now: a second move onto it must leave clb parked
    const taken: SandboxInterface = { ...moved('eth0'), link: { kind: 'existing', name: 'clb', netns: parking, giveBack: true } };
    const err = await k.applySandbox(ns, [taken], { create: false }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof KernelError);
    assert.match(err.message, /the sandbox has a link named eth0 already/);
    assert.ok((await linksOf(parking)).includes('clb:veth'), 'clb is still parked');

    // a link named cla appeared at home meanwhile: giving eth0 back fails and it stays in the sandbox
    await sh(['ip', 'link', 'add', 'cla', 'type', 'bridge'], parking);
    const back = await k.removeInterface(ns, { ifName: 'eth0', link }).then(() => undefined, (e: unknown) => e);
    assert.ok(back instanceof KernelError);
    assert.match(back.message, /a link named cla is there already/);
    assert.ok((await linksOf(ns)).includes('eth0:veth'), 'the link stays where it was');
  } finally {
    await k.deleteNetns(ns);
    await k.deleteNetns(parking);
  }
});

test("a link of the daemon's own netns moved in goes back home on removal; a missing one fails clearly", { skip }, async () => {
  const before = await linksOf();
  const ns = join(dir, 'home-move');
  await k.createVethPair('hmv0', 'hmv1');
  const link: LinkSpec = { kind: 'existing', name: 'hmv0', giveBack: true };
  await k.applySandbox(ns, [{ link, ifName: 'eth0', addresses: ['10.98.0.2/24'], routes: [] }], { create: true });
  try {
    assert.ok(!(await linksOf()).includes('hmv0:veth'));
    assert.ok((await linksOf(ns)).includes('eth0:veth'));
    await k.removeInterface(ns, { ifName: 'eth0', link });
    assert.ok((await linksOf()).includes('hmv0:veth'));
    const err = await k.applySandbox(ns, [{ link: { kind: 'existing', name: 'gone0' }, ifName: 'eth0', addresses: [], routes: [] }], { create: false })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof KernelError);
    assert.match(err.message, /link gone0 not found/);
  } finally {
    await k.deleteNetns(ns);
    await k.deleteLink('hmv0');
  }
  assert.deepEqual(await linksOf(), before);
});

test('createVethPair refuses a name held by a link of another kind', { skip }, async () => {
  const parking = join(dir, 'kind-park');
  await k.createNetns(parking);
  try {
    await sh(['ip', 'link', 'add', 'kpa', 'type', 'bridge'], parking);
    const err = await k.createVethPair('kpa', 'kpb', parking).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof KernelError);
    assert.match(err.message, /a link named kpa exists and is not a veth/);
    assert.deepEqual(await linksOf(parking), ['kpa:bridge', 'lo:']);
  } finally {
    await k.deleteNetns(parking);
  }
});

test('a VLAN sub-interface: this kernel lacks 8021q, and the error says so; nothing is made', { skip }, async () => {
  const before = await linksOf();
  const err = await k.ensureVlan(PARENT, 10).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof KernelError);
  assert.equal(err.code, 'EOPNOTSUPP');
  assert.match(err.message, /^cannot create VLAN interface eth1\.10: this kernel has no 802\.1q VLAN support \(the 8021q module\)$/);
  const missing = await k.ensureVlan('nope0', 10).then(() => undefined, (e: unknown) => e);
  assert.ok(missing instanceof KernelError);
  assert.match(missing.message, /parent interface nope0 not found/);
  await assert.rejects(k.ensureVlan(PARENT, 4095), /invalid VLAN ID 4095/);
  assert.deepEqual(await linksOf(), before);
});

test('the host reaches its macvlan child only through a shim with a route to it', { skip }, async () => {
  const before = await linksOf();
  const ns = join(dir, 'shim');
  await k.applySandbox(ns, [macvlan('198.18.1.170')], { create: true });
  try {
    assert.ok(await pings(undefined, LAN_HOST), 'the host is on the LAN through its parent');
    assert.equal(await pings(undefined, '198.18.1.170'), false, 'but a macvlan child is out of its reach (the kernel rule)');
    await k.ensureMacvlanShim('mvshim0', PARENT, '198.18.1.254/32');
    await k.ensureMacvlanShim('mvshim0', PARENT, '198.18.1.254/32'); // idempotent
    await k.addRoute({ dst: '198.18.1.170/32', dev: 'mvshim0' });
    const [shim] = await ipj(['-d', 'link', 'show', 'mvshim0']);
    assert.deepEqual([shim.linkinfo.info_kind, shim.linkinfo.info_data.mode, shim.link], ['macvlan', 'bridge', PARENT]);
    assert.ok(await pings(undefined, '198.18.1.170'), 'host → child through the shim');
    await k.deleteRoute('198.18.1.170/32');
    await k.deleteRoute('198.18.1.170/32'); // idempotent
    assert.ok(!(await ipj(['-4', 'route'])).some((r) => r.dst === '198.18.1.170'));
  } finally {
    await k.deleteLink('mvshim0');
    await k.deleteNetns(ns);
  }
  assert.deepEqual(await linksOf(), before);
});

test('promiscuous mode on a parent goes on and off', { skip }, async () => {
  // the PROMISC flag ip shows is the one asked for; the promiscuity count also holds the
  // kernel's own (a veth has no unicast filter: each macvlan up on it adds one)
  const promisc = async () => (await ipj(['link', 'show', PARENT]))[0].flags.includes('PROMISC');
  assert.equal(await promisc(), false);
  await k.setPromisc(PARENT, true);
  assert.equal(await promisc(), true);
  await k.setPromisc(PARENT, true); // idempotent
  await k.setPromisc(PARENT, false);
  assert.equal(await promisc(), false);
  await assert.rejects(k.setPromisc('nope0', true), /cannot turn promiscuous mode on on nope0: /);
});

test('a link to nowhere: a parent for macvlans that reach each other and nothing else; idempotent; removable', { skip }, async () => {
  const before = await linksOf();
  const deadEnd = join(dir, 'dead-end');
  await k.ensureLinkToNowhere('dm-kl0', deadEnd);
  await k.ensureLinkToNowhere('dm-kl0', deadEnd); // idempotent
  const [dm] = await ipj(['-d', 'link', 'show', 'dm-kl0']);
  assert.equal(dm.linkinfo.info_kind, 'veth');
  assert.ok(dm.flags.includes('UP') && !dm.flags.includes('NO-CARRIER'), 'up, with carrier: its far end is up');
  assert.deepEqual(await linksOf(deadEnd), ['eth0:veth', 'lo:'], 'the far end is alone in its netns');
  const a = join(dir, 'nowhere-a');
  const b = join(dir, 'nowhere-b');
  const on = (addr: string): SandboxInterface => macvlan(addr, 'bridge', { link: { kind: 'macvlan', parent: 'dm-kl0', mode: 'bridge' }, routes: [] });
  await k.applySandbox(a, [on('10.96.0.2')], { create: true });
  await k.applySandbox(b, [on('10.96.0.3')], { create: true });
  try {
    assert.ok(await pings(a, '10.96.0.3'), 'macvlans of one parent that leads nowhere talk');
  } finally {
    for (const ns of [a, b]) await k.removeInterface(ns, { ifName: 'eth0', link: on('10.96.0.2').link });
    for (const ns of [a, b]) await k.deleteNetns(ns);
  }
  await k.deleteLink('dm-kl0');
  await k.deleteNetns(deadEnd);
  assert.deepEqual(await linksOf(), before);
  assert.equal(existsSync(deadEnd), false);
});

test('a pair that died with a sandbox is made again, in its parking netns, by the next join that needs an end', { skip }, async () => {
  const parking = join(dir, 'heal-park');
  const a = join(dir, 'heal-a');
  const b = join(dir, 'heal-b');
  await k.createNetns(parking);
  await k.createVethPair('hla', 'hlb', parking);
  const end = (name: string, pair: string): LinkSpec => ({ kind: 'existing', name, pair, netns: parking, giveBack: true });
  const iface = (link: LinkSpec, n: number): SandboxInterface => ({ link, ifName: 'eth1', addresses: [`10.97.0.${n}/31`], routes: [] });
  await k.applySandbox(a, [iface(end('hla', 'hlb'), 0)], { create: true });
  await k.applySandbox(b, [iface(end('hlb', 'hla'), 1)], { create: true });
  try {
    // a's netns is deleted without its end being given back: the whole pair dies
    await k.deleteNetns(a);
    for (let i = 0; i < 100 && (await linksOf(b)).includes('eth1:veth'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await linksOf(b), ['lo:'], "b's end died with a's");
    await k.removeInterface(b, { ifName: 'eth1', link: end('hlb', 'hla') }); // nothing to give back: fine
    assert.deepEqual(await linksOf(parking), ['lo:']);

    await k.applySandbox(a, [iface(end('hla', 'hlb'), 0)], { create: true });
    assert.deepEqual(await linksOf(parking), ['hlb:veth', 'lo:'], 'made again: one end parked, the other taken');
    await k.applySandbox(b, [iface(end('hlb', 'hla'), 1)], { create: false });
    assert.ok(await pings(a, '10.97.0.1'));
  } finally {
    await k.deleteNetns(a);
    await k.deleteNetns(b);
    await k.deleteNetns(parking);
  }
});
