// A third-party network driver plugin for the lab, speaking Docker's plugin protocol v1
// on a unix socket, as Weave or Calico would: berthd must find it, activate it and drive
// it through NetworkDriver.* calls. It really networks: a Linux bridge per network
// holding the gateway address, and per endpoint a veth pair it makes on Join (the host end
// on its bridge, the other end named in its answer for berthd to move into the
// container). Every call is appended to a log file, one JSON line each: {method, body}.
//
// Usage: node net-plugin.js SOCKET LOGFILE [--fail METHOD]... [--hang METHOD]... [--ipam] [--replay] [--global]
// --global: a driver of Scope and ConnectivityScope global, as Weave's was: its bridge of a
// network on each host is joined to the other hosts' by a VXLAN device of its own (UDP
// 4790, flooding to every host DiscoverNew named, learning the rest), no gateway;
// --ipam: it is an IPAM driver too (IpamDriver.*): pools as asked, or 10.200.N.0/24 and
// fd00:200:N::/64 of its own choice, addresses handed out serially, all kept in memory;
// --replay: it says RequiresRequestReplay (it forgets its pools when it restarts).
// Prints "ready" once it listens. (It is the plugin's own business how it makes links: it
// runs `ip`, argv arrays, as small plugins do.)
import { execFile } from 'node:child_process';
import { appendFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';

const run = promisify(execFile);
const [socketPath, logFile, ...rest] = process.argv.slice(2);
const failing = new Set<string>();
const hanging = new Set<string>();
const ipam = rest.includes('--ipam');
const replay = rest.includes('--replay');
const global = rest.includes('--global');
const flags = rest.filter((a) => a !== '--ipam' && a !== '--replay' && a !== '--global');
for (let i = 0; i < flags.length; i += 2) (flags[i] === '--fail' ? failing : hanging).add(flags[i + 1]!);

const bridgeOf = (nid: string) => `lp${nid.slice(0, 10)}`;
const vxlanOf = (nid: string) => `lv${nid.slice(0, 10)}`;
/** --global: the hosts DiscoverNew named (not this one), and this host's own address */
const peers = new Set<string>();
let self = '';
const networks = new Set<string>();
/** endpoint id → the portmap ProgramExternalConnectivity gave */
const portmaps = new Map<string, unknown>();

async function flood(nid: string, peer: string, add: boolean): Promise<void> {
  await ip(add ? ['-', 'bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', vxlanOf(nid), 'dst', peer] : ['-', 'bridge', 'fdb', 'del', '00:00:00:00:00:00', 'dev', vxlanOf(nid), 'dst', peer]).catch(() => undefined);
}
const vethOf = (eid: string): [string, string] => [`lph${eid.slice(0, 9)}`, `lpc${eid.slice(0, 9)}`];
/** network id → its gateway (plain IP) */
const gateways = new Map<string, string>();

/** `ip ARGS`, or with a first '-', the command that follows (bridge …) */
async function ip(args: string[]): Promise<void> {
  if (args[0] === '-') await run(args[1]!, args.slice(2));
  else await run('ip', args);
}

type Body = Record<string, any>;

/** The network's gateway: remembered, or (after a restart of the plugin) read off its bridge. */
async function gatewayOf(nid: string): Promise<string> {
  const known = gateways.get(nid);
  if (known !== undefined) return known;
  const { stdout } = await run('ip', ['-j', '-4', 'addr', 'show', 'dev', bridgeOf(nid)]);
  const gw = (JSON.parse(stdout) as { addr_info?: { local: string }[] }[])[0]?.addr_info?.[0]?.local ?? '';
  gateways.set(nid, gw);
  return gw;
}

const methods: Record<string, (b: Body) => Promise<Body>> = {
  'Plugin.Activate': async () => ({ Implements: ipam ? ['NetworkDriver', 'IpamDriver'] : ['NetworkDriver'] }),
  'NetworkDriver.GetCapabilities': async () => (global ? { Scope: 'global', ConnectivityScope: 'global' } : { Scope: 'local', ConnectivityScope: 'local' }),
  'NetworkDriver.CreateNetwork': async (b) => {
    const br = bridgeOf(b.NetworkID);
    await ip(['link', 'add', br, 'type', 'bridge']);
    await ip(['link', 'set', br, 'up']);
    if (global) {
      const vx = vxlanOf(b.NetworkID);
      const vni = (parseInt(b.NetworkID.slice(0, 6), 16) % 16_000_000) + 1;
      await ip(['link', 'add', vx, 'type', 'vxlan', 'id', String(vni), 'dstport', '4790', ...(self ? ['local', self] : [])]);
      await ip(['link', 'set', vx, 'master', br, 'up']);
      networks.add(b.NetworkID);
      for (const p of peers) await flood(b.NetworkID, p, true);
      gateways.set(b.NetworkID, '');
      return {};
    }
    const gw = b.IPv4Data?.[0]?.Gateway as string | undefined;
    if (gw) {
      await ip(['addr', 'add', gw, 'dev', br]);
      gateways.set(b.NetworkID, gw.split('/')[0]!);
    }
    return {};
  },
  'NetworkDriver.DeleteNetwork': async (b) => {
    if (global) await ip(['link', 'del', vxlanOf(b.NetworkID)]).catch(() => undefined);
    networks.delete(b.NetworkID);
    await ip(['link', 'del', bridgeOf(b.NetworkID)]);
    gateways.delete(b.NetworkID);
    return {};
  },
  'NetworkDriver.CreateEndpoint': async () => ({}),
  'NetworkDriver.Join': async (b) => {
    const [host, peer] = vethOf(b.EndpointID);
    await ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
    await ip(['link', 'set', host, 'master', bridgeOf(b.NetworkID), 'up']);
    return { InterfaceName: { SrcName: peer, DstPrefix: 'eth' }, Gateway: global ? '' : await gatewayOf(b.NetworkID), StaticRoutes: [] };
  },
  'NetworkDriver.Leave': async (b) => {
    // the pair goes with the end in the container; the host end may be gone already
    await ip(['link', 'del', vethOf(b.EndpointID)[0]]).catch(() => undefined);
    return {};
  },
  'NetworkDriver.DeleteEndpoint': async () => ({}),
  // it programs no DNAT of its own (that is a real plugin's business): it keeps the portmap
  // it was given and reports it, as a plugin reports what it programmed
  'NetworkDriver.ProgramExternalConnectivity': async (b) => {
    portmaps.set(b.EndpointID, b.Options?.['com.docker.network.portmap'] ?? []);
    return {};
  },
  'NetworkDriver.RevokeExternalConnectivity': async (b) => {
    portmaps.delete(b.EndpointID);
    return {};
  },
  'NetworkDriver.EndpointOperInfo': async (b) => ({ Value: portmaps.has(b.EndpointID) ? { 'com.docker.network.portmap': portmaps.get(b.EndpointID) } : {} }),
  'NetworkDriver.DiscoverNew': async (b) => {
    const d = b.DiscoveryData ?? {};
    if (b.DiscoveryType !== 1 || !d.Address) return {};
    if (d.Self) self = d.Address;
    else if (!peers.has(d.Address)) {
      peers.add(d.Address);
      for (const nid of networks) await flood(nid, d.Address, true);
    }
    return {};
  },
  'NetworkDriver.DiscoverDelete': async (b) => {
    const d = b.DiscoveryData ?? {};
    if (b.DiscoveryType === 1 && d.Address && peers.delete(d.Address)) for (const nid of networks) await flood(nid, d.Address, false);
    return {};
  },
  ...ipamMethods(),
};

/** IpamDriver.*: a small allocator of its own, as an IPAM plugin (Infoblox, Calico's) has. */
function ipamMethods(): Record<string, (b: Body) => Promise<Body>> {
  interface LabPool { subnet: string; refs: number; taken: Set<number> }
  const pools = new Map<string, LabPool>();
  let chosen = 0;
  const prefixOf = (subnet: string) => Number(subnet.split('/')[1]);
  const v6 = (subnet: string) => subnet.includes(':');
  // host number i of a pool, as text: IPv4 /24 and larger, IPv6 with i in the last group
  const addressOf = (subnet: string, i: number) => {
    const base = subnet.split('/')[0]!;
    if (v6(subnet)) return `${base.replace(/::$/, '')}::${i.toString(16)}`;
    const n = base.split('.').reduce((a, o) => a * 256 + Number(o), 0) + i;
    return [24, 16, 8, 0].map((sh) => (n >>> sh) & 255).join('.');
  };
  const indexOf = (subnet: string, addr: string) => {
    if (v6(subnet)) return parseInt(addr.split(':').pop() || '0', 16);
    const n = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
    return n(addr) - n(subnet.split('/')[0]!);
  };
  const pool = (id: string) => {
    const p = pools.get(id);
    if (!p) throw new Error(`no pool ${id}`);
    return p;
  };
  return {
    'IpamDriver.GetCapabilities': async () => ({ RequiresMACAddress: false, RequiresRequestReplay: replay }),
    'IpamDriver.GetDefaultAddressSpaces': async () => ({ LocalDefaultAddressSpace: 'LabLocal', GlobalDefaultAddressSpace: 'LabGlobal' }),
    'IpamDriver.RequestPool': async (b) => {
      if (b.SubPool && !b.Pool) throw new Error('a sub-pool needs a pool');
      const subnet = b.Pool || (b.V6 ? `fd00:200:${++chosen}::/64` : `10.200.${++chosen}.0/24`);
      const id = `${b.AddressSpace}/${subnet}`;
      const p = pools.get(id) ?? { subnet, refs: 0, taken: new Set<number>() };
      p.refs++;
      pools.set(id, p);
      return { PoolID: id, Pool: subnet, Data: {} };
    },
    'IpamDriver.ReleasePool': async (b) => {
      const p = pool(b.PoolID);
      if (--p.refs <= 0) pools.delete(b.PoolID);
      return {};
    },
    'IpamDriver.RequestAddress': async (b) => {
      const p = pool(b.PoolID);
      let i = b.Address ? indexOf(p.subnet, b.Address) : 1;
      if (b.Address && p.taken.has(i)) throw new Error(`address ${b.Address} is taken`);
      while (!b.Address && p.taken.has(i)) i++;
      p.taken.add(i);
      return { Address: `${addressOf(p.subnet, i)}/${prefixOf(p.subnet)}`, Data: {} };
    },
    'IpamDriver.ReleaseAddress': async (b) => {
      pool(b.PoolID).taken.delete(indexOf(pool(b.PoolID).subnet, b.Address));
      return {};
    },
  };
}

function reply(res: ServerResponse, status: number, body: Body): void {
  res.writeHead(status, { 'Content-Type': 'application/vnd.docker.plugins.v1.2+json' });
  res.end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const method = (req.url ?? '').replace(/^\//, '');
  const body = text ? (JSON.parse(text) as Body) : {};
  appendFileSync(logFile!, `${JSON.stringify({ method, body, accept: req.headers.accept })}\n`);
  if (hanging.has(method)) return; // never answers
  // IPAM answers carry their error in "Error", network driver answers in "Err" (protocols.md B.3)
  const errorKey = method.startsWith('IpamDriver.') ? 'Error' : 'Err';
  if (failing.has(method)) return reply(res, 200, { [errorKey]: `${method} refused by the lab plugin` });
  const impl = methods[method];
  if (!impl || (method.startsWith('IpamDriver.') && !ipam)) return reply(res, 404, { Err: `${method} not implemented` });
  try {
    reply(res, 200, await impl(body));
  } catch (err) {
    reply(res, 200, { [errorKey]: (err as Error).message });
  }
}

rmSync(socketPath!, { force: true });
createServer((req, res) => void handle(req, res)).listen(socketPath, () => process.stdout.write('ready\n'));
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
