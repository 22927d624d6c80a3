import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { openKernel } from '../../src/kernel/client.js';
import { Firewall, type LinkEntry, type NetworkPolicy } from '../../src/drivers/bridge/firewall.js';
import type { Kernel } from '../../src/kernel/types.js';
import { PortMapper, type PublishRequest } from '../../src/portmap/mapper.js';
import { parsePortSpec } from '../../src/portmap/spec.js';
import { inNetnsArgv, run, runOk } from '../lab/exec.js';
import { LabProcess } from '../lab/process.js';

// Published ports and access control at the kernel level, without the engine: this test's
// own lab world is the "host"; it builds two bridges with netns "containers", a LAN host,
// and drives berth's Firewall and PortMapper directly. Every reachability cell is asserted
// both ways: a connection that should fail and succeeds fails the test, and vice versa.
//
//   host (this netns)  lan0 198.18.0.1/24 ── lan1 198.18.0.2 (own netns)
//                      br1 10.1.0.1/24 ── c1 10.1.0.2 (servers on 80, 81, 82), c2 10.1.0.3
//                      br2 10.2.0.1/24 ── c3 10.2.0.2
// and the same in IPv6 (every cell of the matrix is asserted for both families):
//                      lan0 2001:db8:18::1/64 ── lan1 2001:db8:18::2
//                      br1 fd00:1::1/64 ── c1 fd00:1::2, c2 fd00:1::3
//                      br2 fd00:2::1/64 ── c3 fd00:2::2
// In routed mode (ports-routed.test.ts) br1 is not made: c1 and c2 hang off host ends
// rt00000a0000001/2 that hold 10.1.0.1/32 and fd00:1::1/128 and a host route to each, as a
// routed network's are; every cell is expected the same.

const ECHO_SERVER = fileURLToPath(new URL('../lab/echo-server.js', import.meta.url));
const ECHO_CLIENT = fileURLToPath(new URL('../lab/echo-client.js', import.meta.url));
const DIR = '/run/berth-ports-test';
const HOST = '198.18.0.1';
const LAN = '198.18.0.2';
const LAN_NS = '/run/netns/ports-lan1';
const C1 = '10.1.0.2';
const C2 = '10.1.0.3';
const C3 = '10.2.0.2';
const GW1 = '10.1.0.1';
const HOST6 = '2001:db8:18::1';
const LAN6 = '2001:db8:18::2';
const C1_6 = 'fd00:1::2';
const C2_6 = 'fd00:1::3';
const C3_6 = 'fd00:2::2';
const GW1_6 = 'fd00:1::1';

function labReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (process.env.BERTH_LAB_WORLD !== '1' || /^\s*(eth0|ifb0):/m.test(readFileSync('/proc/net/dev', 'utf8'))) return 'runs only inside scripts/in-lab.sh';
  return undefined;
}
const skip = labReason();

let kernel: Kernel;
let firewall: Firewall;
let mapper: PortMapper;
const servers: LabProcess[] = [];
const ns = (name: string) => `${DIR}/${name}`;

/** bridge: net1 is the bridge br1; routed: net1 has no bridge, its containers' host ends are routed (berth.network.mode=routed) */
export type Mode = 'bridge' | 'routed';
let mode: Mode = 'bridge';
/** the host ends of net1's containers in routed mode (the network's prefix, then 7 characters) */
const ROUTED_PREFIX = 'rt00000a';
const routedEnd = (n: number) => `${ROUTED_PREFIX}000000${n}`;
const net1 = (icc: boolean): NetworkPolicy => ({ bridge: mode === 'routed' ? `${ROUTED_PREFIX}*` : 'br1', subnet: '10.1.0.0/24', subnet6: 'fd00:1::/64', internal: false, masquerade: true, icc });
const NET2: NetworkPolicy = { bridge: 'br2', subnet: '10.2.0.0/24', subnet6: 'fd00:2::/64', internal: false, masquerade: true, icc: true };

async function container(name: string, bridge: string, [ip, ip6]: [string, string], [gw, gw6]: [string, string], n: number): Promise<void> {
  await kernel.createNetns(ns(name));
  const defaults = [{ dst: 'default', via: gw }, { dst: 'default', via: gw6 }];
  if (mode === 'routed' && bridge === 'br1') {
    // as the bridge driver plans a routed endpoint (src/drivers/bridge/routed.ts)
    await kernel.applySandbox(ns(name), [{
      link: { kind: 'routed-veth', hostName: routedEnd(n), gateways: [`${gw}/32`, `${gw6}/128`], routes: [`${ip}/32`, `${ip6}/128`] },
      ifName: 'eth0', mac: `02:42:0a:00:00:0${n}`, mtu: 1500, addresses: [`${ip}/24`, `${ip6}/64`], noPrefixRoute: true,
      routes: [{ dst: `${gw}/32` }, { dst: '10.1.0.0/24', via: gw }, { dst: `${gw6}/128` }, { dst: 'fd00:1::/64', via: gw6 }, ...defaults],
    }], { create: false });
    await firewall.addRoutedEnd({ name: routedEnd(n), internal: false });
    return;
  }
  await kernel.applySandbox(ns(name), [{
    link: { kind: 'veth', hostName: `vethp${n}`, master: bridge }, ifName: 'eth0', mac: `02:42:0a:00:00:0${n}`, mtu: 1500,
    addresses: [`${ip}/24`, `${ip6}/64`], routes: defaults,
  }], { create: false });
}

/** Registers every test of the matrix, for net1 as a bridge or as a routed network. */
export function portsMatrix(m: Mode): void {
  mode = m;
  before(async () => {
    if (skip) return;
    mkdirSync(DIR, { recursive: true });
    kernel = await openKernel();
    await kernel.writeSysctl('net.ipv4.ip_forward', '1');
    await kernel.writeSysctl('net.ipv6.conf.all.forwarding', '1');
    for (const [br, gw, gw6] of [['br1', GW1, GW1_6], ['br2', '10.2.0.1', 'fd00:2::1']] as const) {
      if (br === 'br1' && mode === 'routed') continue;
      await kernel.ensureBridge(br);
      await kernel.writeSysctl(`net/ipv6/conf/${br}/disable_ipv6`, '0');
      await kernel.addAddress(br, `${gw}/24`);
      await kernel.addAddress(br, `${gw6}/64`);
    }
    firewall = new Firewall(kernel, true);
    await firewall.reset([]);
    await firewall.addNetwork(net1(true));
    await firewall.addNetwork(NET2);
    await container('c1', 'br1', [C1, C1_6], [GW1, GW1_6], 1);
    await container('c2', 'br1', [C2, C2_6], [GW1, GW1_6], 2);
    await container('c3', 'br2', [C3, C3_6], ['10.2.0.1', 'fd00:2::1'], 3);
    // What applySandbox does (hairpin) when a container publishes for published ports (br_netfilter re-bridges a DNAT back to
    // its own port): hairpin mode on the container's bridge port.
    if (mode === 'bridge') await runOk(['ip', 'link', 'set', 'vethp1', 'type', 'bridge_slave', 'hairpin', 'on']);
    await runOk(['ip', 'netns', 'add', 'ports-lan1']);
    await runOk(['ip', '-batch', '-'], { input: [
      'link add lan0 type bridge', `addr add ${HOST}/24 dev lan0`, `addr add ${HOST6}/64 dev lan0 nodad`, 'link set lan0 up',
      'link add lanh2 type veth peer name eth0 netns ports-lan1', 'link set lanh2 master lan0', 'link set lanh2 up', ''].join('\n') });
    await runOk(['ip', '-n', 'ports-lan1', '-batch', '-'], { input: [
      'link set lo up', `addr add ${LAN}/24 dev eth0`, `addr add ${LAN6}/64 dev eth0 nodad`, 'link set eth0 up',
      `route add default via ${HOST}`, `route add ::/0 via ${HOST6} dev eth0`,
      // a hostile neighbour: routes to the container subnets and to 127.0.0.1 via the host
      // (IPv6 needs no such trick for ::1: the kernel drops it on arrival from outside, RFC 4291)
      `route add 10.1.0.0/24 via ${HOST}`, `route add fd00:1::/64 via ${HOST6} dev eth0`,
      `route add 127.0.0.1/32 via ${HOST} dev eth0 table 100`,
      'rule add pref 1 lookup local', 'rule del pref 0', 'rule add pref 0 to 127.0.0.1/32 lookup 100', ''].join('\n') });
    await runOk(['ip', 'netns', 'exec', 'ports-lan1', 'sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=1', 'net.ipv4.conf.eth0.route_localnet=1']);

    mapper = await PortMapper.open(kernel, firewall);
    for (const port of [80, 81, 82]) {
      const p = new LabProcess(inNetnsArgv(ns('c1'), ['node', ECHO_SERVER, String(port), '::']));
      servers.push(p);
      await p.waitForOutput('ready\n');
    }
    await mapper.publish(request('c1', C1, ['8080:80', '8080:80/udp', '127.0.0.1:8081:81', '127.0.0.1:8081:81/udp', '[::1]:8081:81', '[::1]:8081:81/udp'], C1_6));
  });

  after(async () => {
    if (skip) return;
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    await mapper?.unpublish('c1');
    await kernel?.close();
  });

  function request(id: string, ip: string, specs: string[], ip6 = ''): PublishRequest {
    return { containerId: id, containerIp: ip, containerIp6: ip6, network: { name: 'net1', internal: false, hostBindingIpv4: '0.0.0.0' }, bindings: specs.flatMap(parsePortSpec), exposed: [], publishAll: false };
  }

  type Proto = 'tcp' | 'udp';
  type From = 'lan' | 'host' | 'c1' | 'c2' | 'c3';

  /** The source address the echo server saw, or undefined when nothing answered. */
  async function reach(from: From, proto: Proto, addr: string, port: number): Promise<string | undefined> {
    const argv = ['node', ECHO_CLIENT, proto, addr, String(port), '1500'];
    const where = from === 'host' ? argv : inNetnsArgv(from === 'lan' ? LAN_NS : ns(from), argv);
    const r = await run(where, { timeoutMs: 15_000 });
    return r.code === 0 ? /^from (\S+)$/m.exec(r.stdout)?.[1] : undefined;
  }

  /** [from, proto, address, port, expected source seen by the container, or null for "must not connect"] */
  type Cell = [From, Proto, string, number, string | null];

  async function assertCells(cells: Cell[]): Promise<void> {
    const got = await Promise.all(cells.map(([from, proto, addr, port]) => reach(from, proto, addr, port)));
    const wrong = cells
      .map((c, i) => ({ c, seen: got[i] }))
      .filter(({ c, seen }) => (seen ?? null) !== c[4])
      .map(({ c, seen }) => `${c[0]} -> ${c[1]} ${c[2]}:${c[3]}: expected ${c[4] === null ? 'no connection' : `from ${c[4]}`}, got ${seen === undefined ? 'no connection' : `from ${seen}`}`);
    assert.deepEqual(wrong, [], `reachability cells that differ:\n${wrong.join('\n')}`);
  }

  const both = (cells: [From, string, number, string | null][]): Cell[] =>
    cells.flatMap(([from, addr, port, seen]) => (['tcp', 'udp'] as const).map((proto): Cell => [from, proto, addr, port, seen]));

  /** Runs fn with br_netfilter on (bridged frames walk the ip hooks) and then off. */
  async function withAndWithoutBrNetfilter(fn: () => Promise<void>): Promise<void> {
    for (const value of ['1', '0']) {
      await kernel.writeSysctl('net/bridge/bridge-nf-call-iptables', value);
      try {
        await fn();
      } catch (e) {
        throw new Error(`with bridge-nf-call-iptables=${value}: ${(e as Error).message}`);
      } finally {
        await kernel.writeSysctl('net/bridge/bridge-nf-call-iptables', '1');
      }
    }
  }

  test('reachability matrix with icc on: published ports from everywhere, 127.0.0.1 ports from the host only, unpublished only from the same network', { skip }, () => withAndWithoutBrNetfilter(async () => {
    await assertCells(both([
      // LAN host: published on 0.0.0.0 yes, with its own address seen; nothing else
      ['lan', HOST, 8080, LAN],
      ['lan', HOST, 8081, null],
      ['lan', '127.0.0.1', 8081, null],
      ['lan', C1, 82, null],
      ['lan', C1, 80, null],
      // the host itself via 127.0.0.1: both published ports; nothing on an unpublished one
      ['host', '127.0.0.1', 8080, GW1],
      ['host', '127.0.0.1', 8081, GW1],
      ['host', '127.0.0.1', 82, null],
      // the host via its LAN address: 0.0.0.0 binding yes, 127.0.0.1 binding no; containers directly (as Docker)
      ['host', HOST, 8080, HOST],
      ['host', HOST, 8081, null],
      ['host', C1, 82, GW1],
      // same network: hairpin through the host address and the gateway address (masqueraded), direct with icc
      ['c2', HOST, 8080, GW1],
      ['c2', GW1, 8080, GW1],
      ['c2', HOST, 8081, null],
      ['c2', C1, 82, C2],
      // another network: published port yes (its own address seen), the container directly no
      ['c3', HOST, 8080, C3],
      ['c3', HOST, 8081, null],
      ['c3', C1, 82, null],
      // the container itself through its published port
      ['c1', HOST, 8080, GW1],
    ]));
  }));

  test('the same matrix over IPv6: [::] ports from everywhere, [::1] ports from the host only, unpublished only from the same network', { skip }, () => withAndWithoutBrNetfilter(async () => {
    await assertCells(both([
      // LAN host: published on :: yes, with its own address seen; nothing else (a LAN host
      // cannot even send to the host's ::1: the kernel drops a loopback address from outside)
      ['lan', HOST6, 8080, LAN6],
      ['lan', HOST6, 8081, null],
      ['lan', C1_6, 82, null],
      ['lan', C1_6, 80, null],
      // the host itself via ::1: both published ports, answered via the gateway; nothing unpublished
      ['host', '::1', 8080, GW1_6],
      ['host', '::1', 8081, GW1_6],
      ['host', '::1', 82, null],
      // the host via its LAN address: the :: binding yes, the ::1 binding no; containers directly (as Docker)
      ['host', HOST6, 8080, HOST6],
      ['host', HOST6, 8081, null],
      ['host', C1_6, 82, GW1_6],
      // same network: hairpin through the host address and the gateway address (masqueraded), direct with icc
      ['c2', HOST6, 8080, GW1_6],
      ['c2', GW1_6, 8080, GW1_6],
      ['c2', HOST6, 8081, null],
      ['c2', C1_6, 82, C2_6],
      // another network: published port yes (its own address seen), the container directly no
      ['c3', HOST6, 8080, C3_6],
      ['c3', HOST6, 8081, null],
      ['c3', C1_6, 82, null],
      // the container itself through its published port
      ['c1', HOST6, 8080, GW1_6],
    ]));
  }));

  test('a LAN packet addressed to 127.0.0.1 reaches the host and is dropped there (moby#41872)', { skip }, async () => {
    await runOk(['nft', '-f', '-'], { input: 'table ip probe {\n chain pre {\n type filter hook prerouting priority -400;\n iifname "lan0" ip daddr 127.0.0.1 counter\n }\n}\n' });
    try {
      assert.equal(await reach('lan', 'udp', '127.0.0.1', 8081), undefined);
      const listing = await runOk(['nft', 'list', 'chain', 'ip', 'probe', 'pre']);
      assert.match(listing, /counter packets [1-9]/, 'the crafted packet did arrive on the LAN interface');
    } finally {
      await runOk(['nft', 'delete', 'table', 'ip', 'probe']);
    }
  });

  test('icc=false: same-network containers are cut off except through published ports; a link opens exactly the exposed port', { skip }, () => withAndWithoutBrNetfilter(async () => {
    await firewall.removeNetwork(net1(true));
    await firewall.addNetwork(net1(false));
    // forget the neighbours the cells above resolved: with icc=false they must be found again
    // (IPv6 neighbour discovery is ICMPv6, which the tables must let through)
    for (const c of ['c1', 'c2', 'c3']) await runOk(['nsenter', `--net=${ns(c)}`, 'ip', 'neigh', 'flush', 'all']);
    try {
      await assertCells([
        ...both([['c2', C1, 82, null], ['c2', C1, 80, null], ['c2', HOST, 8080, GW1], ['c3', HOST, 8080, C3], ['lan', HOST, 8080, LAN]]),
        ...both([['c2', C1_6, 82, null], ['c2', C1_6, 80, null], ['c2', HOST6, 8080, GW1_6], ['c3', HOST6, 8080, C3_6], ['lan', HOST6, 8080, LAN6]]),
      ]);
      const links: LinkEntry[] = [{ clientIp: C2, serverIp: C1, proto: 'tcp', port: 80 }, { clientIp: C2_6, serverIp: C1_6, proto: 'tcp', port: 80 }];
      await firewall.addLinks(links);
      await assertCells([
        ['c2', 'tcp', C1, 80, C2],
        ['c2', 'udp', C1, 80, null],
        ['c2', 'tcp', C1, 82, null],
        ['c3', 'tcp', C1, 80, null],
        ['c2', 'tcp', C1_6, 80, C2_6],
        ['c2', 'udp', C1_6, 80, null],
        ['c2', 'tcp', C1_6, 82, null],
        ['c3', 'tcp', C1_6, 80, null],
      ]);
      await firewall.removeLinks(links);
      await assertCells([['c2', 'tcp', C1, 80, null], ['c2', 'tcp', C1_6, 80, null]]);
    } finally {
      await firewall.removeNetwork(net1(false));
      await firewall.addNetwork(net1(true));
    }
  }));

  function hostListen(port: number, host = '0.0.0.0'): Promise<Server | string> {
    const server = createServer();
    return new Promise((resolve) => {
      server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      server.listen({ port, host, exclusive: true, ipv6Only: host.includes(':') }, () => resolve(server));
    });
  }

  async function closeServer(s: Server | string): Promise<void> {
    if (typeof s !== 'string') await new Promise<void>((r) => s.close(() => r()));
  }

  test('a published port is reserved against host processes; berth and host processes both cause "port is already allocated"', { skip }, async () => {
    assert.equal(await hostListen(8080), 'EADDRINUSE', 'berth holds 8080 while it is published');
    assert.equal(await hostListen(8080, '::'), 'EADDRINUSE', 'and [::]:8080');
    assert.equal(await hostListen(8081, '::1'), 'EADDRINUSE', 'and [::1]:8081');
    await assert.rejects(mapper.publish(request('other', C2, ['[::]:8080:80'], C2_6)), { status: 409, message: 'Bind for [::]:8080 failed: port is already allocated' });
    await assert.rejects(mapper.publish(request('other', C2, ['8080:80'])), { status: 409, message: 'Bind for 0.0.0.0:8080 failed: port is already allocated' });
    await assert.rejects(mapper.publish(request('other', C2, ['127.0.0.1:8080:80'])), /Bind for 127\.0\.0\.1:8080 failed: port is already allocated/);
    const held = await hostListen(9090);
    assert.notEqual(typeof held, 'string');
    try {
      await assert.rejects(mapper.publish(request('other', C2, ['9191:81', '9090:80'])), /Bind for 0\.0\.0\.0:9090 failed: port is already allocated/);
      const maps = await kernel.nft('list map ip berth published_any');
      assert.doesNotMatch(maps, /9191|9090/, 'a failed publish changes nothing');
      assert.notEqual(typeof (await hostListen(9191).then(async (s) => (await closeServer(s), s))), 'string', '9191 was released');
    } finally {
      await closeServer(held);
    }
  });

  test('random ports and ranges publish, and unpublish releases the port and the rule', { skip }, async () => {
    const [random] = await mapper.publish(request('c1b', C1, ['82']));
    const range = sysctlRange(await kernel.readSysctl('net.ipv4.ip_local_port_range'));
    assert.ok(random && random.hostPort >= range[0] && random.hostPort <= range[1], `random port ${random?.hostPort} in ${range}`);
    await mapper.publish(request('c1c', C1, ['8090-8092:80-82']));
    await assertCells([
      ['lan', 'tcp', HOST, random!.hostPort, LAN],
      ['lan', 'tcp', HOST, 8091, LAN],
      ['c3', 'tcp', HOST, 8092, C3],
    ]);
    await mapper.unpublish('c1b');
    await mapper.unpublish('c1c');
    await assertCells([['lan', 'tcp', HOST, random!.hostPort, null], ['lan', 'tcp', HOST, 8091, null]]);
    const s = await hostListen(8091);
    assert.notEqual(typeof s, 'string', 'the host port is free again');
    await closeServer(s);
  });

  function sysctlRange(text: string): [number, number] {
    const [a, b] = text.trim().split(/\s+/).map(Number);
    return [a ?? 0, b ?? 0];
  }
}
