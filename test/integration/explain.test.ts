// `berth explain` against the kernel (issue 16): for every cell of the reachability matrix
// (seed scenarios 21-23, test/integration/ports.test.ts), the real packet is sent with
// nftables tracing on, and explain's verdict must be what happened, and the rules it says
// matched must be the ones the kernel's trace lists, in the same order. A host firewall
// table outside berth shows up as what blocked the packet; a stopped container is
// explained from its last known configuration.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { labFor, type Lab } from '../lab/lab.js';
import type { LabProcess } from '../lab/process.js';
import { fails, hostOk, inspect, ok, runSleeper } from './helpers.js';

const ECHO_SERVER = fileURLToPath(new URL('../lab/echo-server.js', import.meta.url));
const ECHO_CLIENT = fileURLToPath(new URL('../lab/echo-client.js', import.meta.url));
/** the lab host's address on the lan bridge (test/lab: addLanHost) */
const HOST = '198.18.0.1';
const LAN_HOST6 = '2001:db8:18::1';
const PORTS = [80, 81, 82, 8080, 8081, 8082, 8083, 8084, 7777];

interface RuleEvent { family: string; table: string; chain: string; text?: string; verdict: string; target?: string }
interface Explained { verdict: 'reachable' | 'blocked'; reason: string; fix?: string; hops: { where: string; decided: string; rules?: RuleEvent[] }[]; reply: unknown[]; notes: string[] }

/** The nft trace table: every TCP/UDP packet to a port of the matrix is traced from its first hook. */
const TRACE_TABLES = [
  'table inet berthtrace {',
  `  chain trace_pre { type filter hook prerouting priority -500; meta l4proto { tcp, udp } th dport { ${PORTS.join(', ')} } meta nftrace set 1; }`,
  `  chain trace_out { type filter hook output priority -500; meta l4proto { tcp, udp } th dport { ${PORTS.join(', ')} } meta nftrace set 1; }`,
  '}',
  'table bridge berthtrace {',
  `  chain trace_pre { type filter hook prerouting priority -500; meta l4proto { tcp, udp } th dport { ${PORTS.join(', ')} } meta nftrace set 1; }`,
  '}',
].join('\n');

type Proto = 'tcp' | 'udp';
/** [sender: a container name, 'host' or 'lan'; explain's SRC; explain's DST ("-6 DST": with -6); the address to connect to; port; proto; reachable] */
type Cell = [string, string, string, string, number, Proto, boolean];

class Tracer {
  private monitor: LabProcess;
  private mark = 0;

  private constructor(private readonly lab: Lab) {
    this.monitor = lab.spawnIn(lab.hostNs, ['nft', 'monitor', 'trace']);
  }

  /** Waits for the lab's servers (the host reaches `server` on 82/tcp), turns tracing on and starts the monitor. */
  static async start(lab: Lab, t: TestContext, nsOf: Record<string, string>, server: string): Promise<Tracer> {
    for (let i = 0; i < 50 && !(await connect(lab, 'host', nsOf, server, 82, 'tcp')); i++) await new Promise((r) => setTimeout(r, 100));
    const traced = await lab.inHost(['nft', '-f', '-'], { input: TRACE_TABLES });
    assert.equal(traced.code, 0, traced.stderr);
    const tracer = new Tracer(lab);
    t.after(() => tracer.stop());
    await new Promise((r) => setTimeout(r, 300));
    return tracer;
  }

  /** nft monitor names the rules of the ruleset it read at its start ("unknown rule" for later ones): a new table needs a new monitor. */
  async restart(): Promise<void> {
    await this.monitor.stop();
    this.monitor = this.lab.spawnIn(this.lab.hostNs, ['nft', 'monitor', 'trace']);
    this.mark = 0;
    await new Promise((r) => setTimeout(r, 300));
  }

  /** The rule events of the first packet sent since the last call, "family table chain: rule → verdict". */
  async firstPacket(proto: Proto): Promise<string[]> {
    await new Promise((r) => setTimeout(r, 300));
    const lines = this.monitor.output().slice(this.mark).split('\n');
    this.mark = this.monitor.output().length;
    // the kernel prints the packet at each hook it traces, under an id that the flow's later
    // packets may share: an event belongs to the packet printed last under its id, and the
    // first packet is the SYN (TCP; the client sends one within its timeout) or the datagram (UDP)
    // (by its source port: a relay's onward connection, berthd's for [::1], is another packet)
    const current = new Map<string, boolean>();
    const events: string[] = [];
    let sport: string | undefined;
    for (const l of lines) {
      const p = /^trace id (\S+) \S+ \S+ \S+ packet: (.*)$/.exec(l);
      if (p) {
        const first = proto === 'udp' || /tcp flags == syn\b/.test(p[2]!);
        const port = /(?:tcp|udp) sport (\d+)/.exec(p[2]!)?.[1];
        sport ??= first ? port : undefined;
        current.set(p[1]!, first && port === sport);
        continue;
      }
      const m = /^trace id (\S+) (\S+) (\S+) (\S+) rule (.*) \(verdict ([^)]+)\)$/.exec(l);
      if (!m || !current.get(m[1]!) || m[3] === 'berthtrace') continue;
      events.push(`${m[2]} ${m[3]} ${m[4]}: ${m[5]} → ${m[6]}`);
    }
    return events;
  }

  async stop(): Promise<void> {
    await this.monitor.stop();
  }
}

function explainedEvents(e: Explained): string[] {
  return e.hops.flatMap((h) => h.rules ?? []).filter((r) => r.table !== 'berthtrace').map((r) => `${r.family} ${r.table} ${r.chain}: ${r.text} → ${r.verdict}${r.target ? ` ${r.target}` : ''}`);
}

/**
 * A blocked TCP cell waits 900 ms, under the kernel's first SYN retransmission (1 s), so the
 * trace holds one packet; a cell expected to connect gets 5 s (a loaded machine is slow).
 */
async function connect(lab: Lab, sender: string, nsOf: Record<string, string>, addr: string, port: number, proto: Proto, expectReached = true): Promise<boolean> {
  const argv = ['node', ECHO_CLIENT, proto, addr, String(port), expectReached ? '5000' : '900'];
  const r = await lab.inNetns(nsOf[sender]!, argv, { timeoutMs: 15_000 });
  return r.code === 0;
}

async function checkCells(lab: Lab, tracer: Tracer, nsOf: Record<string, string>, cells: Cell[]): Promise<Explained[]> {
  const wrong: string[] = [];
  const out: Explained[] = [];
  for (const [sender, src, dst, addr, port, proto, reachable] of cells) {
    const name = `${src} → ${dst} (${addr}:${port}/${proto})`;
    await tracer.firstPacket(proto); // drop what came before
    const reached = await connect(lab, sender, nsOf, addr, port, proto, reachable);
    const traced = await tracer.firstPacket(proto);
    const e = JSON.parse(await ok(lab, ['explain', '--json', src, ...(dst.startsWith('-6 ') ? ['-6', dst.slice(3)] : [dst])])) as Explained;
    out.push(e);
    if (reached !== reachable) wrong.push(`${name}: the matrix says ${reachable ? 'reachable' : 'blocked'}, the connection ${reached ? 'worked' : 'failed'}`);
    if ((e.verdict === 'reachable') !== reached) wrong.push(`${name}: explain says ${e.verdict} (${e.reason}), the connection ${reached ? 'worked' : 'failed'}`);
    const said = explainedEvents(e);
    if (JSON.stringify(said) !== JSON.stringify(traced)) wrong.push(`${name}: explain's rules differ from the kernel's trace:\n  explain: ${said.join('\n           ')}\n  trace:   ${traced.join('\n           ')}`);
  }
  assert.deepEqual(wrong, [], wrong.join('\n'));
  return out;
}

/**
 * The cells without br_netfilter (when the module is there) and with it (as a host has it
 * once loaded: bridged frames walk the ip hooks too); the last round's explanations.
 */
async function checkWithAndWithoutBrNetfilter(lab: Lab, tracer: Tracer, nsOf: Record<string, string>, cells: Cell[]): Promise<Explained[]> {
  const brNf = await lab.inHost(['cat', '/proc/sys/net/bridge/bridge-nf-call-iptables']);
  let results: Explained[] = [];
  for (const value of brNf.code === 0 ? ['0', '1'] : ['']) {
    if (value) await hostOk(lab, ['sysctl', '-qw', `net.bridge.bridge-nf-call-iptables=${value}`, `net.bridge.bridge-nf-call-ip6tables=${value}`]);
    results = await checkCells(lab, tracer, nsOf, cells).catch((e: Error) => { throw new Error(`with bridge-nf-call-iptables=${value || 'absent'}: ${e.message}`); });
  }
  return results;
}

test('berth explain agrees with the kernel on every cell of the reachability matrix', async (t) => {
  const lab = await labFor(t);
  const lan = await lab.addLanHost('lan1');
  // a hostile LAN neighbour that routes 127.0.0.1 to the host (ports.test.ts has the same)
  await lab.inNetns(lan.ns, ['sh', '-c', [
    `ip route add 127.0.0.1/32 via ${HOST} dev eth0 table 100`, 'ip rule add pref 1 lookup local', 'ip rule del pref 0',
    'ip rule add pref 0 to 127.0.0.1/32 lookup 100', 'sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.eth0.route_localnet=1'].join(' && ')]);
  const servers = ['sh', '-c', `node ${ECHO_SERVER} 80 :: & node ${ECHO_SERVER} 81 :: & node ${ECHO_SERVER} 82 :: & wait`];
  await ok(lab, ['network', 'create', '--subnet', '10.71.0.0/24', 'other']);
  await ok(lab, ['network', 'create', '--internal', '--subnet', '10.72.0.0/24', 'secret']);
  await ok(lab, ['run', '-d', '--name', 'c1', '-p', '8080:80', '-p', '127.0.0.1:8081:81', '-p', '8082:82/udp', '--', ...servers]);
  await ok(lab, ['run', '-d', '--name', 'c4', '--network', 'secret', '--', ...servers]);
  await runSleeper(lab, 'c2');
  await runSleeper(lab, 'c3', ['--network', 'other']);
  // IPv6: c5 serves on a dual-stack network, c6 beside it, c7 on another
  await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:90::/64', '--subnet', '10.90.0.0/24', 'dual']);
  await ok(lab, ['network', 'create', '--ipv6', '--subnet', 'fd00:91::/64', '--subnet', '10.91.0.0/24', 'dual2']);
  await ok(lab, ['run', '-d', '--name', 'c5', '--network', 'dual', '-p', '8083:80', '-p', '[::1]:8084:81', '--', ...servers]);
  await runSleeper(lab, 'c6', ['--network', 'dual']);
  await runSleeper(lab, 'c7', ['--network', 'dual2']);
  const c1 = await inspect(lab, 'c1', '{{.NetworkSettings.IPAddress}}');
  const c4 = await inspect(lab, 'c4', '{{.NetworkSettings.Networks.secret.IPAddress}}');
  const gw = await inspect(lab, 'c1', '{{.NetworkSettings.Gateway}}');
  const nsOf: Record<string, string> = { host: lab.hostNs, lan: lan.ns };
  const c5 = await inspect(lab, 'c5', '{{.NetworkSettings.Networks.dual.GlobalIPv6Address}}');
  const gw6 = await inspect(lab, 'c5', '{{.NetworkSettings.Networks.dual.IPv6Gateway}}');
  const host6 = LAN_HOST6;
  for (const c of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']) nsOf[c] = await inspect(lab, c, '{{.NetworkSettings.SandboxKey}}');
  const tracer = await Tracer.start(lab, t, nsOf, c1);
  const lanSrc = `lan:${lan.addr}`;
  const inet = `internet:${lab.internetAddr}:${lab.echoPort}`;
  const matrix: Cell[] = [
    // same network: directly (icc), and through the published port (hairpin) by the host's and the gateway's address
    ['c2', 'c2', 'c1:82', c1, 82, 'tcp', true],
    ['c2', 'c2', 'c1:82/udp', c1, 82, 'udp', true],
    ['c2', 'c2', `host:${HOST}:8080`, HOST, 8080, 'tcp', true],
    ['c2', 'c2', 'host:8080', gw, 8080, 'tcp', true],
    ['c2', 'c2', `host:${HOST}:8081`, HOST, 8081, 'tcp', false],
    // another network: the published port yes, the container directly no
    ['c3', 'c3', `host:${HOST}:8080`, HOST, 8080, 'tcp', true],
    ['c3', 'c3', `host:${HOST}:8082/udp`, HOST, 8082, 'udp', true],
    ['c3', 'c3', 'c1:82', c1, 82, 'tcp', false],
    ['c3', 'c3', 'c1:82/udp', c1, 82, 'udp', false],
    // the host: both published ports via 127.0.0.1, nothing unpublished there, containers directly
    ['host', 'host', 'host:127.0.0.1:8080', '127.0.0.1', 8080, 'tcp', true],
    ['host', 'host', 'host:127.0.0.1:8081', '127.0.0.1', 8081, 'tcp', true],
    ['host', 'host', 'host:127.0.0.1:82', '127.0.0.1', 82, 'tcp', false],
    ['host', 'host', `host:${HOST}:8080`, HOST, 8080, 'tcp', true],
    ['host', 'host', 'c1:82', c1, 82, 'tcp', true],
    // the LAN: 0.0.0.0 bindings only; never a container directly, never 127.0.0.1
    ['lan', lanSrc, `host:${HOST}:8080`, HOST, 8080, 'tcp', true],
    ['lan', lanSrc, `host:${HOST}:8082/udp`, HOST, 8082, 'udp', true],
    ['lan', lanSrc, `host:${HOST}:8081`, HOST, 8081, 'tcp', false],
    ['lan', lanSrc, 'c1:82', c1, 82, 'tcp', false],
    ['lan', lanSrc, 'host:127.0.0.1:8081/udp', '127.0.0.1', 8081, 'udp', false],
    // the container through its own published port
    ['c1', 'c1', `host:${HOST}:8080`, HOST, 8080, 'tcp', true],
    // the internet: out with masquerade; an internal network has no way out, nor in
    ['c2', 'c2', inet, lab.internetAddr, lab.echoPort, 'tcp', true],
    ['c4', 'c4', inet, lab.internetAddr, lab.echoPort, 'tcp', false],
    ['c2', 'c2', 'c4:80', c4, 80, 'tcp', false],
    ['host', 'host', 'c4:80', c4, 80, 'tcp', true],
    ['lan', lanSrc, 'c4:80', c4, 80, 'tcp', false],
    // the same over IPv6 ([::] and [::1] bindings; ::1 is relayed by berthd)
    ['lan', `lan:${lan.addr6}`, `host:[${host6}]:8083`, host6, 8083, 'tcp', true],
    ['lan', `lan:${lan.addr6}`, `host:[${host6}]:8084`, host6, 8084, 'tcp', false],
    ['lan', `lan:${lan.addr6}`, `host:[${host6}]:8083/udp`, host6, 8083, 'udp', false],
    ['lan', `lan:${lan.addr6}`, '-6 c5:82', c5, 82, 'tcp', false],
    ['host', 'host', 'host:[::1]:8083', '::1', 8083, 'tcp', true],
    ['host', 'host', 'host:[::1]:8084', '::1', 8084, 'tcp', true],
    ['host', 'host', 'host:[::1]:82', '::1', 82, 'tcp', false],
    ['host', 'host', `host:[${host6}]:8083`, host6, 8083, 'tcp', true],
    ['c6', 'c6', `host:[${host6}]:8083`, host6, 8083, 'tcp', true],
    ['c6', 'c6', `host:[${gw6}]:8083`, gw6, 8083, 'tcp', true],
    ['c6', 'c6', `host:[${host6}]:8084`, host6, 8084, 'tcp', false],
    ['c7', 'c7', `host:[${host6}]:8083`, host6, 8083, 'tcp', true],
    ['c5', 'c5', `host:[${host6}]:8083`, host6, 8083, 'tcp', true],
    ['c6', 'c6', '-6 c5:82', c5, 82, 'tcp', true],
    ['c6', 'c6', '-6 c5:82/udp', c5, 82, 'udp', true],
    ['c7', 'c7', '-6 c5:82', c5, 82, 'tcp', false],
    ['host', 'host', '-6 c5:82', c5, 82, 'tcp', true],
  ];
  const results = await checkWithAndWithoutBrNetfilter(lab, tracer, nsOf, matrix);
  const byDst = (i: number) => results[i]!;
  assert.match(byDst(7).reason, /DIRECT ACCESS/);
  assert.match(byDst(7).fix ?? '', /berth network connect bridge c3/);
  assert.match(byDst(4).reason, /nothing on the host listens on 198\.18\.0\.1:8081\/tcp \(only on 127\.0\.0\.1:8081\)/);
  assert.match(byDst(18).reason, /LOOPBACK/);
  assert.match(byDst(21).reason, /c4 has no route to 203\.0\.113\.10: its networks \(secret\) are --internal/);
  assert.match(byDst(21).fix ?? '', /berth network connect bridge c4/);
  assert.ok(byDst(2).hops.some((h) => /DNAT to .*:80/.test(h.decided)), 'the hairpin hop names its DNAT');
  assert.ok(byDst(2).hops.some((h) => /masquerade/.test(h.decided)), 'and its masquerade');
  assert.ok(byDst(0).reply.length > 0, 'a reachable cell explains the reply');

  // a host firewall outside berth that drops forwarded TCP to port 80: it is what blocks now
  const added = await lab.inHost(['nft', '-f', '-'], { input: 'table inet hostfw {\n  chain filter_forward { type filter hook forward priority 10; policy accept; tcp dport 80 drop; }\n}\n' });
  assert.equal(added.code, 0, added.stderr);
  await tracer.restart();
  const foreign = await checkCells(lab, tracer, nsOf, [
    ['c3', 'c3', `host:${HOST}:8080`, HOST, 8080, 'tcp', false],
    ['lan', lanSrc, `host:${HOST}:8080`, HOST, 8080, 'tcp', false],
    ['c2', 'c2', 'c1:82', c1, 82, 'tcp', true],
  ]);
  assert.match(foreign[0]!.reason, /^inet hostfw filter_forward: tcp dport 80 drop$/);
  assert.match(foreign[0]!.fix ?? '', /nft delete rule inet hostfw filter_forward handle \d+/);
  await hostOk(lab, ['nft', 'delete', 'table', 'inet', 'hostfw']);
});

test('berth explain agrees with the kernel with icc off: links open the exposed port, published ports stay open, the rest is cut', async (t) => {
  const lab = await labFor(t, { daemonArgs: ['--icc=false'] });
  const servers = ['sh', '-c', `node ${ECHO_SERVER} 80 :: & node ${ECHO_SERVER} 82 :: & wait`];
  await ok(lab, ['run', '-d', '--name', 'srv', '--expose', '80', '-p', '8080:80', '--', ...servers]);
  await runSleeper(lab, 'cli', ['--link', 'srv']);
  await runSleeper(lab, 'stranger');
  await ok(lab, ['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', '--subnet', '10.74.0.0/24', 'quiet']);
  await ok(lab, ['run', '-d', '--name', 'q1', '--network', 'quiet', '--', ...servers]);
  await runSleeper(lab, 'q2', ['--network', 'quiet']);
  const srv = await inspect(lab, 'srv', '{{.NetworkSettings.IPAddress}}');
  const q1 = await inspect(lab, 'q1', '{{.NetworkSettings.Networks.quiet.IPAddress}}');
  const nsOf: Record<string, string> = { host: lab.hostNs };
  for (const c of ['srv', 'cli', 'stranger', 'q1', 'q2']) nsOf[c] = await inspect(lab, c, '{{.NetworkSettings.SandboxKey}}');
  const tracer = await Tracer.start(lab, t, nsOf, srv);
  const matrix: Cell[] = [
    ['cli', 'cli', 'srv:80', srv, 80, 'tcp', true],
    ['cli', 'cli', 'srv:80/udp', srv, 80, 'udp', false],
    ['cli', 'cli', 'srv:82', srv, 82, 'tcp', false],
    ['stranger', 'stranger', 'srv:80', srv, 80, 'tcp', false],
    ['stranger', 'stranger', `host:${lab.hostUplinkAddr}:8080`, lab.hostUplinkAddr, 8080, 'tcp', true],
    ['q2', 'q2', 'q1:82', q1, 82, 'tcp', false],
    ['host', 'host', 'q1:82', q1, 82, 'tcp', true],
  ];
  const results = await checkWithAndWithoutBrNetfilter(lab, tracer, nsOf, matrix);
  assert.match(results[0]!.hops.map((h) => h.decided).join('\n'), /LINK: to the linked container's exposed port/);
  assert.match(results[3]!.reason, /^NO ICC: containers on this bridge cannot reach each other \(bridge berth forward\)$/);
  assert.match(results[3]!.fix ?? '', /--link srv/);
  assert.match(results[5]!.reason, /NO ICC/);
});

test('berth explain agrees with the kernel on macvlan and ptp networks: no host hook on their way, the host by its shim', async (t) => {
  const lab = await labFor(t);
  const lan = await lab.addLan();
  const peer = await lab.addHostOnLan('peer');
  await lab.serveEcho(peer.ns);
  await lab.serveEcho(lab.hostNs);
  const servers = ['sh', '-c', `node ${ECHO_SERVER} 80 :: & node ${ECHO_SERVER} 82 :: & wait`];
  await ok(lab, ['network', 'create', '-d', 'macvlan', '--subnet', '198.18.1.0/24', '--gateway', lan.router, '--ip-range', '198.18.1.128/25',
    '--aux-address', 'host=198.18.1.254', '-o', `parent=${lan.parent}`, '-o', 'berth.host_access=true', 'reach']);
  await ok(lab, ['run', '-d', '--name', 'm1', '--network', 'reach', '--', ...servers]);
  await runSleeper(lab, 'm2', ['--network', 'reach']);
  await ok(lab, ['network', 'create', '-d', 'ptp', '--subnet', '10.99.0.0/29', 'wire']);
  await ok(lab, ['run', '-d', '--name', 'p1', '--network', 'wire', '--', ...servers]);
  await runSleeper(lab, 'p2', ['--network', 'wire']);
  const m1 = await inspect(lab, 'm1', '{{.NetworkSettings.Networks.reach.IPAddress}}');
  const p1 = await inspect(lab, 'p1', '{{.NetworkSettings.Networks.wire.IPAddress}}');
  const nsOf: Record<string, string> = { host: lab.hostNs, peer: peer.ns };
  for (const c of ['m1', 'm2', 'p1', 'p2']) nsOf[c] = await inspect(lab, c, '{{.NetworkSettings.SandboxKey}}');
  const tracer = await Tracer.start(lab, t, nsOf, m1);
  const results = await checkCells(lab, tracer, nsOf, [
    ['m2', 'm2', 'm1:82', m1, 82, 'tcp', true],
    ['peer', `lan:${peer.addr}`, 'm1:82', m1, 82, 'tcp', true],
    ['m2', 'm2', `lan:${peer.addr}:7777`, peer.addr, 7777, 'tcp', true],
    ['host', 'host', 'm1:82', m1, 82, 'tcp', true],
    ['m2', 'm2', 'host:198.18.1.254:7777', '198.18.1.254', 7777, 'tcp', true],
    // the parent's own address: the shim answers ARP for it too (arp_ignore=0)
    ['m2', 'm2', `host:${lan.hostAddr}:7777`, lan.hostAddr, 7777, 'tcp', true],
    ['p2', 'p2', 'p1:82', p1, 82, 'tcp', true],
    ['p2', 'p2', 'p1:82/udp', p1, 82, 'udp', true],
  ]);
  assert.match(results[0]!.hops.map((h) => h.decided).join('\n'), /switched inside the kernel to m1 eth0/);
  assert.match(results[3]!.hops.map((h) => h.where).join('\n'), /mvh[0-9a-f]{12} → m1 eth0/);
  assert.match(results[5]!.hops.map((h) => h.decided).join('\n'), /answers ARP for every address of the host/);
  assert.match(results[6]!.hops.map((h) => h.decided).join('\n'), /a veth pair straight into p1 eth0/);
});

test('berth explain: text output, a stopped container, and bad input', async (t) => {
  const lab = await labFor(t);
  await runSleeper(lab, 'web', ['--expose', '80']);
  await runSleeper(lab, 'client');
  await ok(lab, ['network', 'create', '--subnet', '10.73.0.0/24', 'apart']);
  await runSleeper(lab, 'far', ['--network', 'apart']);

  const text = await ok(lab, ['explain', 'far', 'web:80']);
  const lines = text.split('\n');
  assert.match(lines[0]!, /^far → web \(172\.17\.0\.\d+\) port 80\/tcp$/);
  assert.match(text, /ip berth guard_prerouting: DIRECT ACCESS/);
  assert.equal(lines.at(-2), 'verdict: blocked by DIRECT ACCESS: container addresses only from their own bridge (replies to DNATed flows pass) (ip berth guard_prerouting)');
  assert.match(lines.at(-1)!, /^to change it: connect far to web's network: berth network connect bridge far/);

  // nothing listens in web: the firewall lets it through, the socket layer refuses it; the exposed port is the default
  const none = JSON.parse(await ok(lab, ['explain', '--json', 'client', 'web'])) as Explained;
  assert.equal(none.verdict, 'blocked');
  assert.match(none.reason, /^nothing in web listens on 172\.17\.0\.\d+:80\/tcp: the connection is refused$/);

  await ok(lab, ['stop', '-t', '0', 'web']);
  const stopped = JSON.parse(await ok(lab, ['explain', '--json', 'client', 'web:80'])) as Explained;
  assert.equal(stopped.verdict, 'blocked');
  assert.equal(stopped.reason, 'web is not running (exited)');
  assert.match(stopped.notes.join('\n'), /web is not running \(exited\): explained from its last known configuration \(eth0 172\.17\.0\.\d+\/16 on bridge\)/);
  assert.equal(stopped.fix, 'start it: berth start web');

  await fails(lab, ['explain', 'nosuch', 'web:80'], /No such container: nosuch/);
  await fails(lab, ['explain', 'client', 'web:99999'], /invalid destination "web:99999": port must be 1-65535/);
  await fails(lab, ['explain', 'client', 'web:80/sctp'], /protocol must be tcp or udp/);
  await fails(lab, ['explain', 'lan', 'web:80'], /lan needs an address/);
  await fails(lab, ['explain', 'host:10.9.9.9', 'web:80'], /10\.9\.9\.9 is not an address of this host/);
  await fails(lab, ['explain', 'client'], /missing required argument 'dst'/);
});
