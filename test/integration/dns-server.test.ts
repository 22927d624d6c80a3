import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DnsTopology, inNs, type BridgeNet, type ClientNs } from '../../bench/dns-topology.js';
import { fuzzPackets } from '../../bench/dns-fuzz.js';
import { DnsHandler, type Forwarder } from '../../src/dns/handler.js';
import { DNS_PORT, EMBEDDED_DNS_ADDRESS, EmbeddedDns } from '../../src/dns/index.js';
import { NameTable } from '../../src/dns/names.js';
import { openKernel } from '../../src/kernel/client.js';
import type { Kernel } from '../../src/kernel/types.js';
import { Lab } from '../lab/lab.js';
import { run } from '../lab/exec.js';

// The embedded resolver on real sockets: "containers" are namespaces on bridges, each
// with its own sockets at 127.0.0.11:53 made inside it by the kernel worker and served by
// the resolver's threads from this (throwaway) namespace; they ask with dig, and the
// upstream is the lab's internet DNS server.

const FUZZ_SENDER = fileURLToPath(new URL('../../bench/dns-fuzz-send.js', import.meta.url));
const TCP_HOG = fileURLToPath(new URL('../lab/dns-tcp-hog.js', import.meta.url));
const BURST = fileURLToPath(new URL('../lab/dns-burst.js', import.meta.url));
const LAB_DNS_SERVER = fileURLToPath(new URL('../lab/dns-server.js', import.meta.url));

interface Dig {
  status: string;
  answers: string[];
}

const SERVER = EMBEDDED_DNS_ADDRESS;

async function dig(c: ClientNs, server: string, args: string[]): Promise<Dig> {
  const r = await run(inNs(c, ['dig', '+tries=1', '+time=4', '+noall', '+comments', '+answer', `@${server}`, ...args]));
  const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? `no answer (${r.code}) ${r.stdout.trim()}`;
  const answers = r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';')).map((l) => l.trim().split(/\s+/).pop() ?? '');
  return { status, answers };
}

describe('embedded DNS resolver on real sockets', { concurrency: false }, () => {
  let lab: Lab;
  let topo: DnsTopology;
  let dns: EmbeddedDns;
  let kernel: Kernel;
  let net1: BridgeNet;
  let net2: BridgeNet;
  const c: Record<string, ClientNs> = {};
  const serve = async (name: string): Promise<void> => {
    const fds = await kernel.bindInNetns(c[name]!.path, EMBEDDED_DNS_ADDRESS, DNS_PORT);
    await dns.openSandbox(c[name]!.path, `id-${name}`, fds);
  };

  before(async () => {
    lab = await Lab.create({ startDaemon: false });
    topo = new DnsTopology('dt');
    net1 = await topo.addBridge(1, '10.77.0');
    net2 = await topo.addBridge(2, '10.78.0');
    for (const [name, net, host] of [['vm1', net1, 2], ['vm2', net1, 3], ['vm3', net1, 4], ['vm4', net1, 5], ['stranger', net1, 99], ['far', net2, 2]] as const) {
      c[name] = await topo.addClient(net, host);
    }
    await topo.linkTo(lab.internetNs, '192.0.2.1', '192.0.2.2', lab.internetDns);
    kernel = await openKernel();
    dns = await EmbeddedDns.start({ upstreams: [lab.internetDns], threads: 2 });
    for (const name of ['vm1', 'vm2', 'vm3', 'vm4']) {
      const aliases = name === 'vm1' ? [] : ['web'];
      dns.setEndpoint({ networkId: 'n1', containerId: `id-${name}`, ip: c[name]!.ip, names: [name, ...aliases], searchDomains: ['example.org'] });
    }
    dns.setEndpoint({ networkId: 'n2', containerId: 'id-far', ip: c.far!.ip, names: ['far'] });
    for (const name of Object.keys(c)) await serve(name);
    await dns.sync();
  });

  after(async () => {
    await dns?.stop();
    await kernel?.close();
    await topo?.remove();
    await lab?.destroy();
  });

  test('a container name resolves to its address, in any case, with or without the trailing dot or a search domain', async () => {
    for (const q of ['vm2', 'VM2.', 'vm2.example.org']) {
      assert.deepEqual(await dig(c.vm1!, SERVER, [q, 'A']), { status: 'NOERROR', answers: [c.vm2!.ip] }, q);
    }
    assert.deepEqual(await dig(c.vm1!, SERVER, ['vm2', 'AAAA']), { status: 'NOERROR', answers: [] });
  });

  test('a shared alias returns every member, and the order rotates between queries', async () => {
    const members = [c.vm2!.ip, c.vm3!.ip, c.vm4!.ip].sort();
    const firsts = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const r = await dig(c.vm1!, SERVER, ['web']);
      assert.equal(r.status, 'NOERROR');
      assert.deepEqual([...r.answers].sort(), members);
      firsts.add(r.answers[0]!);
    }
    assert.equal(firsts.size, 3);
  });

  test('names of containers on another network are NXDOMAIN', async () => {
    assert.equal((await dig(c.far!, SERVER, ['vm1'])).status, 'NXDOMAIN');
    assert.equal((await dig(c.vm1!, SERVER, ['far'])).status, 'NXDOMAIN');
  });

  test('a sandbox whose container has no record is refused', async () => {
    assert.equal((await dig(c.stranger!, SERVER, ['vm1'])).status, 'REFUSED');
  });

  test('PTR for a container address answers its name', async () => {
    assert.deepEqual(await dig(c.vm1!, SERVER, ['-x', c.vm2!.ip]), { status: 'NOERROR', answers: ['vm2.'] });
  });

  test('queries over TCP are answered', async () => {
    assert.deepEqual(await dig(c.vm1!, SERVER, ['+tcp', 'vm3']), { status: 'NOERROR', answers: [c.vm3!.ip] });
  });

  test('dual-stack endpoints: AAAA answers their IPv6 addresses, rotated apart from A; a v4-only name is NODATA; ip6.arpa PTR in any case', async (t) => {
    const v6: Record<string, string> = { vm3: 'fd77::4', vm4: 'fd77:0:0:0::5' };
    const record = (name: string, ip6?: string) =>
      ({ networkId: 'n1', containerId: `id-${name}`, ip: c[name]!.ip, ip6, names: [name, 'web'], searchDomains: ['example.org'] });
    for (const name of ['vm3', 'vm4']) dns.setEndpoint(record(name, v6[name]));
    t.after(async () => {
      for (const name of ['vm3', 'vm4']) dns.setEndpoint(record(name));
      await dns.sync();
    });
    await dns.sync();
    assert.deepEqual(await dig(c.vm1!, SERVER, ['vm3', 'AAAA']), { status: 'NOERROR', answers: ['fd77::4'] });
    assert.deepEqual(await dig(c.vm1!, SERVER, ['+tcp', 'VM4.example.org', 'AAAA']), { status: 'NOERROR', answers: ['fd77::5'] });
    assert.deepEqual(await dig(c.vm1!, SERVER, ['vm3', 'A']), { status: 'NOERROR', answers: [c.vm3!.ip] });
    // "web": vm2 has no IPv6 address, so AAAA holds vm3 and vm4; A all three
    const firsts = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const aaaa = await dig(c.vm1!, SERVER, ['web', 'AAAA']);
      assert.deepEqual([...aaaa.answers].sort(), ['fd77::4', 'fd77::5']);
      firsts.add(aaaa.answers[0]!);
      assert.equal((await dig(c.vm1!, SERVER, ['web', 'A'])).answers.length, 3);
    }
    assert.equal(firsts.size, 2, 'AAAA rotates even with A queries in between');
    // a v4-only container: NODATA, as Docker's resolver answers, and nothing asked upstream
    assert.deepEqual(await dig(c.vm1!, SERVER, ['vm2', 'AAAA']), { status: 'NOERROR', answers: [] });
    assert.doesNotMatch(lab.internetDnsLog(), /query (vm2|vm3|vm4|web)\b/);
    assert.deepEqual(await dig(c.vm1!, SERVER, ['-x', 'fd77::5']), { status: 'NOERROR', answers: ['vm4.'] });
    const upper = '5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.7.D.F.IP6.ARPA';
    assert.deepEqual(await dig(c.vm1!, SERVER, [upper, 'PTR']), { status: 'NOERROR', answers: ['vm4.'] });
    // a network the asker is not on: its IPv6 addresses are not the asker's to see
    assert.equal((await dig(c.far!, SERVER, ['-x', 'fd77::4'])).status, 'NXDOMAIN');
  });

  test('an IPv6 upstream is asked over IPv6: by UDP, and by TCP when its answer comes back truncated', async (t) => {
    const here = 'fd00:192:2::1';
    const there = 'fd00:192:2::2';
    await topo.linkTo6(lab.internetNs, here, there);
    const up6 = lab.spawnIn(lab.internetNs, ['node', LAB_DNS_SERVER, there, '53']);
    await up6.waitForOutput('ready\n', 10_000);
    const record = (upstreams?: string[]) => ({ networkId: 'n1', containerId: 'id-vm2', ip: c.vm2!.ip, names: ['vm2', 'web'], searchDomains: ['example.org'], upstreams });
    dns.setEndpoint(record([`[${there}]:53`]));
    t.after(async () => {
      dns.setEndpoint(record());
      await dns.sync();
    });
    await dns.sync();
    assert.deepEqual(await dig(c.vm2!, SERVER, ['echo.internet.test', 'A']), { status: 'NOERROR', answers: ['203.0.113.10'] });
    assert.deepEqual(await dig(c.vm2!, SERVER, ['echo.internet.test', 'AAAA']), { status: 'NOERROR', answers: ['2001:db8:113::10'] });
    const big = await dig(c.vm2!, SERVER, ['+tcp', 'big.internet.test', 'A']);
    assert.equal(big.status, 'NOERROR');
    assert.equal(big.answers.length, 40, 'the full answer, fetched over TCP');
    const log = up6.output();
    assert.match(log, new RegExp(`query echo\\.internet\\.test 1 from ${here}\n`), log);
    assert.match(log, new RegExp(`query echo\\.internet\\.test 28 from ${here}\n`), log);
    assert.match(log, new RegExp(`query big\\.internet\\.test 1 from ${here}\n`), 'UDP first');
    assert.match(log, new RegExp(`query big\\.internet\\.test 1 from ${here} tcp\n`), 'then TCP');
    // the IPv4 server was not asked for them
    assert.doesNotMatch(lab.internetDnsLog(), /query big\.internet\.test/);
  });

  test('a link-local IPv6 upstream (fe80::…%link, as a host resolv.conf may hold) is asked through its link', async (t) => {
    // the IPv6 link of the previous test; a fixed link-local address on each end
    await run(['ip', 'addr', 'add', 'fe80::53:1/64', 'dev', 'dtup0', 'nodad']);
    await lab.inNetns(lab.internetNs, ['ip', 'addr', 'add', 'fe80::53:2/64', 'dev', 'dtup1', 'nodad']);
    const ll = lab.spawnIn(lab.internetNs, ['node', LAB_DNS_SERVER, 'fe80::53:2%dtup1', '53']);
    await ll.waitForOutput('ready\n', 10_000);
    const record = (upstreams?: string[]) => ({ networkId: 'n1', containerId: 'id-vm2', ip: c.vm2!.ip, names: ['vm2', 'web'], searchDomains: ['example.org'], upstreams });
    dns.setEndpoint(record(['fe80::53:2%dtup0']));
    t.after(async () => {
      dns.setEndpoint(record());
      await dns.sync();
    });
    await dns.sync();
    assert.deepEqual(await dig(c.vm2!, SERVER, ['gateway.internet.test', 'A']), { status: 'NOERROR', answers: ['198.51.100.1'] });
    assert.equal((await dig(c.vm2!, SERVER, ['+tcp', 'big.internet.test', 'A'])).answers.length, 40);
    assert.match(ll.output(), /query gateway\.internet\.test 1 from fe80::53:1(%\w+)?\n/, ll.output());
    assert.match(ll.output(), /query big\.internet\.test 1 from fe80::53:1(%\w+)? tcp\n/, ll.output());
  });

  test('other names are forwarded upstream, and a repeat is answered from the cache', async () => {
    const before = lab.internetDnsLog().split('\n').filter((l) => l.startsWith('query echo.internet.test 1 ')).length;
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await dig(c.vm1!, SERVER, ['echo.internet.test']), { status: 'NOERROR', answers: ['203.0.113.10'] });
    }
    const seen = lab.internetDnsLog().split('\n').filter((l) => l.startsWith('query echo.internet.test 1 '));
    assert.equal(seen.length - before, 1, lab.internetDnsLog());
    assert.equal((await dig(c.vm1!, SERVER, ['nope.internet.test'])).status, 'NXDOMAIN');
    assert.ok((await dns.stats()).cacheHits >= 2);
  });

  test('queries queued on the socket are each answered to their own id, forwarded ones in the middle of them too; a datagram over 4 KiB is counted as dropped', async () => {
    const before = await dns.stats();
    // 150 at once: more than one read of 64, fewer than the sockets' default buffers hold
    const r = await run(inNs(c.vm1!, ['node', BURST, SERVER, '30', 'vm2', 'web', 'vm3/AAAA', 'echo.internet.test', 'burst.internet.test']), { timeoutMs: 30_000 });
    const answers = JSON.parse(r.stdout) as ({ rcode: string; ips: string[] } | null)[];
    assert.equal(answers.length, 150);
    answers.forEach((a, i) => {
      const expect = [{ rcode: 'NOERROR', ips: [c.vm2!.ip] }, undefined, { rcode: 'NOERROR', ips: [] }, { rcode: 'NOERROR', ips: ['203.0.113.10'] }, { rcode: 'NXDOMAIN', ips: [] }][i % 5];
      if (expect) assert.deepEqual(a, expect, `query ${i}`);
      else assert.deepEqual([a?.rcode, [...(a?.ips ?? [])].sort()], ['NOERROR', [c.vm2!.ip, c.vm3!.ip, c.vm4!.ip].sort()], `query ${i}`);
    });
    const big = await run(inNs(c.vm1!, ['node', BURST, SERVER, '1', 'vm2', 'big:5000', 'vm2']), { timeoutMs: 30_000 });
    const [first, dropped, last] = JSON.parse(big.stdout) as unknown[];
    assert.deepEqual([first, dropped, last], [{ rcode: 'NOERROR', ips: [c.vm2!.ip] }, null, { rcode: 'NOERROR', ips: [c.vm2!.ip] }]);
    const after = await dns.stats();
    assert.equal(after.queries - before.queries, 153);
    assert.equal(after.dropped - before.dropped, 1);
    assert.equal(after.internalErrors, 0);
  });

  test('an unreachable upstream gives SERVFAIL before the client gives up', async () => {
    dns.setEndpoint({ networkId: 'n1', containerId: 'id-vm4', ip: c.vm4!.ip, names: ['vm4', 'web'], upstreams: ['192.0.2.250'] });
    await dns.sync();
    assert.equal((await dig(c.vm4!, SERVER, ['somewhere.else.test'])).status, 'SERVFAIL');
    // its own names still resolve at once
    assert.deepEqual((await dig(c.vm4!, SERVER, ['vm1'])).answers, [c.vm1!.ip]);
  });

  test('records change at once when an endpoint goes away or comes back', async () => {
    dns.removeEndpoint('n1', 'id-vm3');
    await dns.sync();
    const r = await dig(c.vm1!, SERVER, ['web']);
    assert.deepEqual([...r.answers].sort(), [c.vm2!.ip, c.vm4!.ip].sort());
    assert.equal((await dig(c.vm3!, SERVER, ['vm1'])).status, 'REFUSED');
    dns.setEndpoint({ networkId: 'n1', containerId: 'id-vm3', ip: c.vm3!.ip, names: ['vm3', 'web'] });
    await dns.sync();
    assert.equal((await dig(c.vm1!, SERVER, ['web'])).answers.length, 3);
  });

  test('200,000 random and mutated packets do not break it: it still answers correctly', async () => {
    // In-process against the handler (fast), with an upstream that always fails.
    const table = new NameTable();
    table.set({ networkId: 'n1', containerId: 'a', ip: '10.0.0.2', names: ['vm1', 'web'] });
    table.set({ networkId: 'n1', containerId: 'b', ip: '10.0.0.3', ip6: 'fd00::3', names: ['vm2', 'web'] });
    table.set({ networkId: 'n1', containerId: 'c', ip6: 'fd00::4', names: ['six', 'web'] });
    const failing: Forwarder = { query: () => Promise.reject(new Error('down')) };
    const h = new DnsHandler(table, failing);
    h.setUpstreams(['192.0.2.250']);
    const pending: Promise<unknown>[] = [];
    let n = 0;
    for (const p of fuzzPackets(200_000, 7, ['vm1', 'web', 'six', 'x.test', '2.0.0.10.in-addr.arpa', `4.${'0.'.repeat(29)}d.f.ip6.arpa`])) {
      const r = h.handle(p, n++ % 3 === 0 ? 'nobody' : 'a', n % 5 === 0 ? 'tcp' : 'udp');
      if (r instanceof Promise) pending.push(r);
      else if (r) assert.equal(r.readUInt16BE(0), p.readUInt16BE(0), 'a reply carries the query id');
    }
    await Promise.all(pending);
    assert.equal(h.stats.internalErrors, 0);
    assert.equal(h.stats.queries, 200_000);
    // Then a batch over the real socket, from a container and from a stranger.
    for (const [who, seed] of [[c.vm1!, 11], [c.stranger!, 12]] as const) {
      const r = await run(inNs(who, ['node', FUZZ_SENDER, SERVER, '53', '5000', String(seed), 'vm2', 'web', 'echo.internet.test']), { timeoutMs: 60_000 });
      assert.match(r.stdout, /sent 5000 replies \d+/, r.stderr);
    }
    const stats = await dns.stats();
    assert.equal(stats.internalErrors, 0);
    assert.deepEqual(await dig(c.vm1!, SERVER, ['vm2']), { status: 'NOERROR', answers: [c.vm2!.ip] });
    assert.deepEqual(await dig(c.vm1!, SERVER, ['+tcp', 'echo.internet.test']), { status: 'NOERROR', answers: ['203.0.113.10'] });
  });

  test('the sandboxes are spread over the resolver threads', () => {
    assert.deepEqual(dns.sandboxesPerThread(), [3, 3]);
  });

  test('nothing listens on port 53 in the daemon\'s namespace; each sandbox has one UDP and one listening TCP socket', async () => {
    const here = await run(['ss', '-Hlntu']);
    assert.doesNotMatch(here.stdout, /:53\s/, here.stdout);
    const inside = await run(inNs(c.vm1!, ['ss', '-Hlntu']));
    assert.deepEqual(inside.stdout.trim().split('\n').map((l) => `${l.split(/\s+/)[0]} ${l.split(/\s+/)[4]}`).sort(), ['tcp 127.0.0.11:53', 'udp 127.0.0.11:53']);
  });

  test('the source address does not say who asks: the socket does', async () => {
    // vm1 asks from another address of its own: still vm1's view (vm2 found, far not)
    await run(inNs(c.vm1!, ['ip', 'addr', 'add', '10.77.0.200/24', 'dev', 'eth0']));
    const r = await run(inNs(c.vm1!, ['dig', '+tries=1', '+time=4', '+short', '-b', '10.77.0.200', `@${SERVER}`, 'vm2']));
    assert.equal(r.stdout.trim(), c.vm2!.ip);
  });

  test('closing a sandbox closes its sockets (and lets its netns go); binding a served sandbox again fails clearly', async () => {
    await assert.rejects(kernel.bindInNetns(c.far!.path, EMBEDDED_DNS_ADDRESS, DNS_PORT), /cannot bind 127\.0\.0\.11:53 in netns .*: Address (already )?in use/);
    await dns.closeSandbox(c.far!.path);
    assert.equal(dns.serves(c.far!.path), false);
    assert.equal(dns.sandboxesPerThread().reduce((a, b) => a + b), 5);
    assert.match((await dig(c.far!, SERVER, ['far'])).status, /no answer/);
    assert.equal((await run(inNs(c.far!, ['ss', '-Hlntu']))).stdout.trim(), '');
    await dns.closeSandbox(c.far!.path); // idempotent
    await serve('far');
    assert.deepEqual((await dig(c.far!, SERVER, ['far'])).answers, [c.far!.ip]);
    assert.deepEqual((await dig(c.far!, SERVER, ['+tcp', 'far'])).answers, [c.far!.ip]);
  });

  test('a sandbox the daemon has no route to (only lo, as behind macvlan, ptp or overlay) is answered all the same', async (t) => {
    const island: ClientNs = { name: 'dtisland', path: '/run/netns/dtisland', ip: '10.77.9.9' };
    await run(['ip', 'netns', 'add', island.name]);
    t.after(async () => {
      await dns.closeSandbox(island.path);
      await run(['ip', 'netns', 'delete', island.name]);
    });
    await run(inNs(island, ['ip', 'link', 'set', 'lo', 'up']));
    dns.setEndpoint({ networkId: 'n1', containerId: 'id-island', ip: island.ip, names: ['island'] });
    await dns.openSandbox(island.path, 'id-island', await kernel.bindInNetns(island.path, EMBEDDED_DNS_ADDRESS, DNS_PORT));
    assert.deepEqual(await dig(island, SERVER, ['vm1']), { status: 'NOERROR', answers: [c.vm1!.ip] });
    assert.deepEqual(await dig(island, SERVER, ['+tcp', 'island']), { status: 'NOERROR', answers: [island.ip] });
    assert.deepEqual(await dig(island, SERVER, ['echo.internet.test']), { status: 'NOERROR', answers: ['203.0.113.10'] });
    dns.removeEndpoint('n1', 'id-island');
  });

  test('bad input to bindInNetns is refused before it reaches the kernel', async () => {
    await assert.rejects(kernel.bindInNetns('relative', EMBEDDED_DNS_ADDRESS, DNS_PORT), /invalid netns path/);
    await assert.rejects(kernel.bindInNetns(c.vm1!.path, '::1', DNS_PORT), /invalid IPv4 address/);
    await assert.rejects(kernel.bindInNetns(c.vm1!.path, EMBEDDED_DNS_ADDRESS, 0), /invalid port/);
    await assert.rejects(kernel.bindInNetns('/run/netns/nosuch', EMBEDDED_DNS_ADDRESS, DNS_PORT), /cannot open netns \/run\/netns\/nosuch/);
  });

  test('TCP connections are capped per sandbox and per thread: two hogs share the thread, a third sandbox still gets in', async (t) => {
    // small caps on a resolver of its own, so that two sandboxes can fill its thread
    const small = await EmbeddedDns.start({ upstreams: [lab.internetDns], threads: 1, tcpLimits: { perSandbox: 8, perThread: 12, idleMs: 600_000 } });
    const islands: ClientNs[] = ['a', 'b', 'c'].map((x, i) => ({ name: `dtcap${x}`, path: `/run/netns/dtcap${x}`, ip: `10.79.0.${i + 2}` }));
    t.after(async () => {
      await small.stop();
      for (const i of islands) await run(['ip', 'netns', 'delete', i.name]);
    });
    for (const [n, i] of islands.entries()) {
      await run(['ip', 'netns', 'add', i.name]);
      await run(inNs(i, ['ip', 'link', 'set', 'lo', 'up']));
      small.setEndpoint({ networkId: 'cap', containerId: `id-cap${n}`, ip: i.ip, names: [`cap${n}`] });
      await small.openSandbox(i.path, `id-cap${n}`, await kernel.bindInNetns(i.path, EMBEDDED_DNS_ADDRESS, DNS_PORT));
    }
    const [a, b, third] = islands as [ClientNs, ClientNs, ClientNs];
    const held = async (i: ClientNs): Promise<number> =>
      (await run(inNs(i, ['ss', '-Htn', 'state', 'established', '( sport = :53 )']))).stdout.trim().split('\n').filter(Boolean).length;
    const hog = async (i: ClientNs): Promise<void> => {
      const p = lab.spawnIn(i.path, ['node', TCP_HOG, SERVER, '30', 'cap2']);
      await p.waitForOutput('ready', 30_000);
      assert.match(p.output(), /ready rcode=0 answers=1/, 'the newest connection is answered');
    };
    await hog(a);
    assert.equal(await held(a), 8, 'one sandbox holds its cap, no more');
    await hog(b);
    // the thread is full (12): each new connection of b took the room from the bigger
    // holder, a until b held more, then b itself
    assert.deepEqual([await held(a), await held(b)], [5, 7]);
    for (const proto of [['+tcp'], []]) {
      assert.deepEqual(await dig(third, SERVER, [...proto, 'cap0']), { status: 'NOERROR', answers: [a.ip] }, proto.join());
    }
    assert.ok((await held(a)) + (await held(b)) <= 12);
  });
});
