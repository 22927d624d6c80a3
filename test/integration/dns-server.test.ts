import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DnsTopology, inNs, type BridgeNet, type ClientNs } from '../../bench/dns-topology.js';
import { fuzzPackets } from '../../bench/dns-fuzz.js';
import { DnsHandler, type Forwarder } from '../../src/dns/handler.js';
import { EmbeddedDns } from '../../src/dns/index.js';
import { NameTable } from '../../src/dns/names.js';
import { Lab } from '../lab/lab.js';
import { run } from '../lab/exec.js';

// The embedded resolver on real sockets: it listens on bridge gateway addresses in this
// (throwaway) namespace, "containers" are namespaces on the bridges asking with dig, and
// the upstream is the lab's internet DNS server.

const FUZZ_SENDER = fileURLToPath(new URL('../../bench/dns-fuzz-send.js', import.meta.url));

interface Dig {
  status: string;
  answers: string[];
}

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
  let net1: BridgeNet;
  let net2: BridgeNet;
  const c: Record<string, ClientNs> = {};

  before(async () => {
    lab = await Lab.create({ startDaemon: false });
    topo = new DnsTopology('dt');
    net1 = await topo.addBridge(1, '10.77.0');
    net2 = await topo.addBridge(2, '10.78.0');
    for (const [name, net, host] of [['vm1', net1, 2], ['vm2', net1, 3], ['vm3', net1, 4], ['vm4', net1, 5], ['stranger', net1, 99], ['far', net2, 2]] as const) {
      c[name] = await topo.addClient(net, host);
    }
    await topo.linkTo(lab.internetNs, '192.0.2.1', '192.0.2.2', lab.internetDns);
    dns = await EmbeddedDns.start({ upstreams: [lab.internetDns] });
    await dns.addListener('n1', net1.gateway);
    await dns.addListener('n1', net1.gateway); // idempotent
    await dns.addListener('n2', net2.gateway);
    for (const name of ['vm1', 'vm2', 'vm3', 'vm4']) {
      const aliases = name === 'vm1' ? [] : ['web'];
      dns.setEndpoint({ networkId: 'n1', containerId: `id-${name}`, ip: c[name]!.ip, names: [name, ...aliases], searchDomains: ['example.org'] });
    }
    dns.setEndpoint({ networkId: 'n2', containerId: 'id-far', ip: c.far!.ip, names: ['far'] });
    await dns.sync();
  });

  after(async () => {
    await dns?.stop();
    await topo?.remove();
    await lab?.destroy();
  });

  test('a container name resolves to its address, in any case, with or without the trailing dot or a search domain', async () => {
    for (const q of ['vm2', 'VM2.', 'vm2.example.org']) {
      assert.deepEqual(await dig(c.vm1!, net1.gateway, [q, 'A']), { status: 'NOERROR', answers: [c.vm2!.ip] }, q);
    }
    assert.deepEqual(await dig(c.vm1!, net1.gateway, ['vm2', 'AAAA']), { status: 'NOERROR', answers: [] });
  });

  test('a shared alias returns every member, and the order rotates between queries', async () => {
    const members = [c.vm2!.ip, c.vm3!.ip, c.vm4!.ip].sort();
    const firsts = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const r = await dig(c.vm1!, net1.gateway, ['web']);
      assert.equal(r.status, 'NOERROR');
      assert.deepEqual([...r.answers].sort(), members);
      firsts.add(r.answers[0]!);
    }
    assert.equal(firsts.size, 3);
  });

  test('names of containers on another network are NXDOMAIN', async () => {
    assert.equal((await dig(c.far!, net2.gateway, ['vm1'])).status, 'NXDOMAIN');
    assert.equal((await dig(c.vm1!, net1.gateway, ['far'])).status, 'NXDOMAIN');
  });

  test('a query from an address that is no container is refused', async () => {
    assert.equal((await dig(c.stranger!, net1.gateway, ['vm1'])).status, 'REFUSED');
  });

  test('PTR for a container address answers its name', async () => {
    assert.deepEqual(await dig(c.vm1!, net1.gateway, ['-x', c.vm2!.ip]), { status: 'NOERROR', answers: ['vm2.'] });
  });

  test('queries over TCP are answered', async () => {
    assert.deepEqual(await dig(c.vm1!, net1.gateway, ['+tcp', 'vm3']), { status: 'NOERROR', answers: [c.vm3!.ip] });
  });

  test('other names are forwarded upstream, and a repeat is answered from the cache', async () => {
    const before = lab.internetDnsLog().split('\n').filter((l) => l.startsWith('query echo.internet.test 1 ')).length;
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await dig(c.vm1!, net1.gateway, ['echo.internet.test']), { status: 'NOERROR', answers: ['203.0.113.10'] });
    }
    const seen = lab.internetDnsLog().split('\n').filter((l) => l.startsWith('query echo.internet.test 1 '));
    assert.equal(seen.length - before, 1, lab.internetDnsLog());
    assert.equal((await dig(c.vm1!, net1.gateway, ['nope.internet.test'])).status, 'NXDOMAIN');
    assert.ok((await dns.stats()).cacheHits >= 2);
  });

  test('an unreachable upstream gives SERVFAIL before the client gives up', async () => {
    dns.setEndpoint({ networkId: 'n1', containerId: 'id-vm4', ip: c.vm4!.ip, names: ['vm4', 'web'], upstreams: ['192.0.2.250'] });
    await dns.sync();
    assert.equal((await dig(c.vm4!, net1.gateway, ['somewhere.else.test'])).status, 'SERVFAIL');
    // its own names still resolve at once
    assert.deepEqual((await dig(c.vm4!, net1.gateway, ['vm1'])).answers, [c.vm1!.ip]);
  });

  test('records change at once when an endpoint goes away or comes back', async () => {
    dns.removeEndpoint('n1', 'id-vm3');
    await dns.sync();
    const r = await dig(c.vm1!, net1.gateway, ['web']);
    assert.deepEqual([...r.answers].sort(), [c.vm2!.ip, c.vm4!.ip].sort());
    assert.equal((await dig(c.vm3!, net1.gateway, ['vm1'])).status, 'REFUSED');
    dns.setEndpoint({ networkId: 'n1', containerId: 'id-vm3', ip: c.vm3!.ip, names: ['vm3', 'web'] });
    await dns.sync();
    assert.equal((await dig(c.vm1!, net1.gateway, ['web'])).answers.length, 3);
  });

  test('200,000 random and mutated packets do not break it: it still answers correctly', async () => {
    // In-process against the handler (fast), with an upstream that always fails.
    const table = new NameTable();
    table.set({ networkId: 'n1', containerId: 'a', ip: '10.0.0.2', names: ['vm1', 'web'] });
    table.set({ networkId: 'n1', containerId: 'b', ip: '10.0.0.3', names: ['vm2', 'web'] });
    const failing: Forwarder = { query: () => Promise.reject(new Error('down')) };
    const h = new DnsHandler(table, failing);
    h.setUpstreams(['192.0.2.250']);
    const pending: Promise<unknown>[] = [];
    let n = 0;
    for (const p of fuzzPackets(200_000, 7, ['vm1', 'web', 'x.test', '2.0.0.10.in-addr.arpa'])) {
      const r = h.handle(p, n++ % 3 === 0 ? '10.9.9.9' : '10.0.0.2', n % 5 === 0 ? 'tcp' : 'udp');
      if (r instanceof Promise) pending.push(r);
      else if (r) assert.equal(r.readUInt16BE(0), p.readUInt16BE(0), 'a reply carries the query id');
    }
    await Promise.all(pending);
    assert.equal(h.stats.internalErrors, 0);
    assert.equal(h.stats.queries, 200_000);
    // Then a batch over the real socket, from a container and from a stranger.
    for (const [who, seed] of [[c.vm1!, 11], [c.stranger!, 12]] as const) {
      const r = await run(inNs(who, ['node', FUZZ_SENDER, net1.gateway, '53', '5000', String(seed), 'vm2', 'web', 'echo.internet.test']), { timeoutMs: 60_000 });
      assert.match(r.stdout, /sent 5000 replies \d+/, r.stderr);
    }
    const stats = await dns.stats();
    assert.equal(stats.internalErrors, 0);
    assert.deepEqual(await dig(c.vm1!, net1.gateway, ['vm2']), { status: 'NOERROR', answers: [c.vm2!.ip] });
    assert.deepEqual(await dig(c.vm1!, net1.gateway, ['+tcp', 'echo.internet.test']), { status: 'NOERROR', answers: ['203.0.113.10'] });
  });

  test('removing a listener closes its sockets; binding an address we do not have fails clearly', async () => {
    await dns.removeListener('n2');
    assert.match((await dig(c.far!, net2.gateway, ['far'])).status, /no answer/);
    await assert.rejects(dns.addListener('n3', '10.99.0.1'), /cannot listen for DNS on 10\.99\.0\.1:53/);
    await dns.addListener('n2', net2.gateway);
    assert.deepEqual((await dig(c.far!, net2.gateway, ['far'])).answers, [c.far!.ip]);
  });
});
