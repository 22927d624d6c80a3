// A small network for exercising the DNS resolver outside berthd, in the CURRENT network
// namespace (which must be a throwaway one: scripts/in-lab.sh): bridges with gateway
// addresses where the resolver listens, and "container" namespaces on them, each with
// eth0 and a default route via its gateway. Used by test/integration/dns-server.test.ts
// and bench/dns.ts. Everything is argv arrays; remove() deletes what was made.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export async function ip(args: string[]): Promise<string> {
  const { stdout } = await exec('ip', args);
  return stdout;
}

export interface BridgeNet {
  bridge: string;
  /** e.g. '10.77.0' */
  prefix: string;
  gateway: string;
}

export interface ClientNs {
  name: string;
  path: string;
  ip: string;
}

export class DnsTopology {
  private readonly netns: string[] = [];
  private readonly links: string[] = [];
  private seq = 0;

  /** tag: a short unique string for link and netns names (<= 5 chars). */
  constructor(private readonly tag: string) {}

  async addBridge(index: number, prefix: string): Promise<BridgeNet> {
    const bridge = `${this.tag}br${index}`;
    const gateway = `${prefix}.1`;
    await ip(['link', 'add', bridge, 'type', 'bridge']);
    this.links.push(bridge);
    await ip(['addr', 'add', `${gateway}/24`, 'dev', bridge]);
    await ip(['link', 'set', bridge, 'up']);
    return { bridge, prefix, gateway };
  }

  /** A namespace with eth0 = prefix.host on the bridge, default route via the gateway. */
  async addClient(net: BridgeNet, host: number): Promise<ClientNs> {
    const n = this.seq++;
    const name = `${this.tag}c${n}`;
    const hostSide = `${this.tag}v${n}`;
    const addr = `${net.prefix}.${host}`;
    await ip(['netns', 'add', name]);
    this.netns.push(name);
    await ip(['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
    this.links.push(hostSide);
    await ip(['link', 'set', hostSide, 'master', net.bridge, 'up']);
    await ip(['-n', name, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    await ip(['-n', name, 'link', 'set', 'eth0', 'up']);
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
    await ip(['-n', name, 'route', 'add', 'default', 'via', net.gateway]);
    return { name, path: `/run/netns/${name}`, ip: addr };
  }

  /**
   * A point-to-point link from here to another namespace (e.g. the lab's internet), and a
   * route to `dest` through it: how the resolver reaches an upstream.
   */
  async linkTo(otherNsPath: string, here: string, there: string, dest: string): Promise<void> {
    const a = `${this.tag}up0`;
    const b = `${this.tag}up1`;
    await ip(['link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', otherNsPath]);
    this.links.push(a);
    await ip(['addr', 'add', `${here}/30`, 'dev', a]);
    await ip(['link', 'set', a, 'up']);
    await exec('nsenter', [`--net=${otherNsPath}`, '--', 'ip', 'addr', 'add', `${there}/30`, 'dev', b]);
    await exec('nsenter', [`--net=${otherNsPath}`, '--', 'ip', 'link', 'set', b, 'up']);
    await ip(['route', 'add', `${dest}/32`, 'via', there]);
  }

  /**
   * IPv6 on the link linkTo made: `here` and `there` on one /64 (nodad: usable at once),
   * IPv6 switched on at both ends first, for namespaces made with it off.
   */
  async linkTo6(otherNsPath: string, here: string, there: string): Promise<void> {
    const a = `${this.tag}up0`;
    const b = `${this.tag}up1`;
    await exec('sysctl', ['-qw', `net.ipv6.conf.${a}.disable_ipv6=0`]);
    await ip(['addr', 'add', `${here}/64`, 'dev', a, 'nodad']);
    await exec('nsenter', [`--net=${otherNsPath}`, '--', 'sysctl', '-qw', `net.ipv6.conf.${b}.disable_ipv6=0`]);
    await exec('nsenter', [`--net=${otherNsPath}`, '--', 'ip', 'addr', 'add', `${there}/64`, 'dev', b, 'nodad']);
  }

  async remove(): Promise<void> {
    for (const l of this.links.reverse()) await ip(['link', 'del', l]).catch(() => undefined);
    for (const n of this.netns) await ip(['netns', 'delete', n]).catch(() => undefined);
  }
}

/** argv to run a command inside a client namespace. */
export function inNs(c: ClientNs, argv: string[]): string[] {
  return ['nsenter', `--net=${c.path}`, '--', ...argv];
}
