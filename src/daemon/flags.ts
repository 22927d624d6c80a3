import { Command, InvalidArgumentError, Option } from 'commander';
import { defaultConfig, type DaemonConfig } from '../engine/config.js';
import { parseMtu } from '../util/mtu.js';
import { isIPv4, tryParseCidr } from '../util/ip.js';
import { tryParseCidr6 } from '../util/ip6.js';
import { parseDefaultAddressPool } from '../ipam/default-pools.js';
import { resolveAdvertise } from '../cluster/advertise.js';
import type { ClusterSettings } from '../cluster/membership.js';
import { parseClusterStoreOpts, parseClusterStoreUrl } from '../cluster/options.js';
import { asArguments, DEFAULT_CONFIG_FILE, directiveFlags, readConfigFile } from './config-file.js';
import { parseHost, type Host } from './hosts.js';
import { parseSize } from './log-file.js';
import { DEFAULT_CERT_DIR, tlsFlags, type TlsFlags } from './tls.js';
import { parseUiAddress } from './ui-server.js';

// berthd's flags, with dockerd's names and meanings.

export interface DaemonFlags {
  config: DaemonConfig;
  /** every -H, as dockerd several at once (unix:///path, fd:// from systemd, tcp://ADDR:PORT) */
  hosts: Host[];
  tls: TlsFlags;
  /** --log-file (stderr without it), capped at --log-max-size × --log-max-files */
  log: { file?: string; maxBytes: number; maxFiles: number };
  /** -G/--group: the group that may use the socket (mode 0660), as dockerd's */
  group: string;
  debug: boolean;
  /** --validate: check the configuration and exit */
  validate: boolean;
  /** --ui ADDR:PORT: the topology page's listener (off without it) */
  ui?: { host: string; port: number };
}

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

/**
 * The flags, and the configuration file's directives (--config-file, default
 * /etc/berth/daemon.json) where no flag names them; one named in both is an error.
 */
export function parseDaemonFlags(argv: string[]): DaemonFlags {
  const cli = makeProgram();
  cli.parse(argv, { from: 'user' });
  const path = String(cli.opts().configFile);
  const named = cli.getOptionValueSource('configFile') === 'cli';
  const file = readConfigFile(path, named);
  const both: string[] = [];
  for (const [key, flag] of directiveFlags(file)) {
    const option = cli.options.find((x) => x.long === flag)!;
    if (cli.getOptionValueSource(option.attributeName()) === 'cli') both.push(`${key}: (from flag: ${String(cli.getOptionValue(option.attributeName()))}, from file: ${JSON.stringify(file[key])})`);
  }
  if (both.length) {
    throw new InvalidArgumentError(`unable to configure berthd with file ${path}: the following directives are specified both as a flag and in the configuration file: ${both.join(', ')}`);
  }
  const program = makeProgram();
  program.parse([...asArguments(file, path), ...argv], { from: 'user' });
  return flagsOf(program.opts());
}

function makeProgram(): Command {
  const collect = (v: string, prev: string[]) => [...prev, v];
  return new Command('berthd')
    .description('berth daemon: container networking on the real kernel, speaking the Docker Engine API')
    .option('--data-root <dir>', 'root directory of persistent state', '/var/lib/berth')
    .option('--exec-root <dir>', 'root directory of run-time state (netns mounts, per-container files)', '/run/berth')
    .addOption(new Option('-H, --host <addr>', 'daemon socket to listen on, repeatable: unix:///path, fd:// (the one systemd passes), tcp://ADDR:PORT (mutual TLS unless loopback)')
      .argParser(collect).default([] as string[], DEFAULT_HOST))
    .option('--tls [bool]', 'serve TCP hosts with TLS; implied by --tlsverify', bool)
    .option('--tlsverify [bool]', 'serve TCP hosts with TLS and require client certificates signed by --tlscacert', bool)
    .option('--tlscacert <path>', 'trust client certificates signed only by this CA', `${DEFAULT_CERT_DIR}/ca.pem`)
    .option('--tlscert <path>', "the server's TLS certificate", `${DEFAULT_CERT_DIR}/cert.pem`)
    .option('--tlskey <path>', "the server's TLS key", `${DEFAULT_CERT_DIR}/key.pem`)
    .option('-G, --group <name>', 'group for the unix socket (name or gid)', 'docker')
    .option('--bip <cidr>', 'address and subnet of the default bridge, e.g. 172.17.0.1/16', cidr)
    .option('--fixed-cidr <cidr>', "restrict the default bridge containers' addresses to this range", cidr)
    .option('-b, --bridge <name>', 'attach containers to this existing bridge instead of creating berth0')
    .option('--mtu <n>', 'MTU of the default bridge and its containers', (v) => parseMtu(v), 1500)
    .option('--ipv6 [bool]', 'enable IPv6 on the default bridge', bool, false)
    .option('--fixed-cidr-v6 <cidr>', "the default bridge's IPv6 subnet, e.g. fd00:1::/64", cidr6)
    .option('--ip6tables [bool]', "program berth's IPv6 firewall rules (false: leave IPv6 firewalling off, as dockerd's flag)", bool, true)
    .option('--ip-forward [bool]', 'enable net.ipv4.ip_forward, and IPv6 forwarding once an IPv6 network exists', bool, true)
    .option('--iptables [bool]', "program berth's nftables table (NAT, isolation)", bool, true)
    .option('--icc [bool]', 'allow inter-container communication on the default bridge', bool, true)
    .option('--ip <addr>', 'default host address for published ports', ipv4, '0.0.0.0')
    .option('--dns <ip>', 'DNS server for containers (repeatable)', collect, [] as string[])
    .option('--dns-search <domain>', 'DNS search domain for containers (repeatable)', collect, [] as string[])
    .option('--dns-opt <opt>', 'DNS option for containers (repeatable)', collect, [] as string[])
    .option('--default-address-pool <base=CIDR,size=N>', 'default pool for networks without --subnet (repeatable; replaces the defaults)', collect, [] as string[])
    .option(
      '--neigh-gc-thresh3 <mode>',
      'when containers outgrow the kernel neighbour (ARP) table: "report" warns in the log and in info; ' +
        '"auto" also raises net.ipv4.neigh.default.gc_thresh{1,2,3} (host network namespace only)',
      neighMode,
      'report',
    )
    .option('--cluster-store <url>', 'the etcd (v3) cluster that global (overlay) networks live in: etcd://HOST:PORT[,HOST:PORT…]')
    .option('--cluster-advertise <iface|ip[:port]>', 'the address other hosts reach this one at (an interface stands for its first IPv4 address)')
    .option('--cluster-store-opt <key=value>', 'TLS to etcd: kv.cacertfile=PATH, kv.certfile=PATH, kv.keyfile=PATH (repeatable, or comma-separated)', collect, [] as string[])
    .option('--plugin-dir <dir>', "where plugins are found: their sockets and .spec/.json files (repeatable; default Docker's /run/docker/plugins, /etc/docker/plugins, /usr/lib/docker/plugins)", collect, [] as string[])
    .option('--ui <addr:port>', "serve the topology page (a live picture of this host's network) on ADDR:PORT, e.g. 127.0.0.1:7070 (off by default)", uiAddress)
    .option('-D, --debug', 'debug logging', false)
    // berth's own (dockerd logs to stderr only): see log-file.ts
    .option('--log-file <path>', "write berthd's log to this file, rotated by size, instead of stderr")
    .addOption(new Option('--log-max-size <size>', 'rotate the log file when it would pass this size (10m, 512k, 1g)').argParser(size).default(10 * 1024 * 1024, '10m'))
    .option('--log-max-files <n>', 'log files kept, the current one included', count, 3)
    .option('--config-file <path>', "daemon configuration file (dockerd's daemon.json keys)", DEFAULT_CONFIG_FILE)
    .option('--validate', 'check the flags and the configuration file, say so, and exit', false)
    .allowExcessArguments(false)
    // berthd says a bad flag once, in its own words (main.ts); commander would say it too
    .configureOutput({ outputError: () => undefined })
    .exitOverride();
}

function flagsOf(o: Record<string, any>): DaemonFlags {
  const tls = tlsFlags(o);
  const given = (o.host as string[]).length ? (o.host as string[]) : [DEFAULT_HOST];
  const hosts = given.map((h) => parseHost(h, tls.tls));
  return {
    hosts,
    tls,
    log: { file: o.logFile, maxBytes: o.logMaxSize, maxFiles: o.logMaxFiles },
    group: String(o.group),
    debug: !!o.debug,
    validate: !!o.validate,
    ui: o.ui,
    config: defaultConfig({
      dataRoot: o.dataRoot,
      execRoot: o.execRoot,
      bip: o.bip,
      fixedCidr: o.fixedCidr,
      ipv6: o.ipv6,
      fixedCidrV6: o.fixedCidrV6,
      ip6tables: o.ip6tables,
      bridge: o.bridge,
      mtu: o.mtu,
      ipForward: o.ipForward,
      iptables: o.iptables,
      icc: o.icc,
      ip: o.ip,
      dns: o.dns,
      dnsSearch: o.dnsSearch,
      dnsOptions: o.dnsOpt,
      defaultAddressPools: o.defaultAddressPool.length ? o.defaultAddressPool.map(parseDefaultAddressPool) : undefined,
      neighGcThresh3: o.neighGcThresh3,
      apiSockets: hosts.flatMap((h) => (h.kind === 'unix' ? [h.path] : [])),
      cluster: clusterOf(o),
      pluginDirs: o.pluginDir,
    }),
  };
}

/** The cluster flags go together: a store needs the address this host is reached at. */
function clusterOf(o: Record<string, any>): ClusterSettings | undefined {
  const opts = o.clusterStoreOpt as string[];
  if (o.clusterStore === undefined) {
    if (o.clusterAdvertise !== undefined) throw new InvalidArgumentError('--cluster-advertise needs --cluster-store (the etcd that global networks live in)');
    if (opts.length) throw new InvalidArgumentError('--cluster-store-opt needs --cluster-store (the etcd that global networks live in)');
    return undefined;
  }
  const endpoints = parseClusterStoreUrl(String(o.clusterStore));
  const tls = parseClusterStoreOpts(opts);
  if (o.clusterAdvertise === undefined) throw new InvalidArgumentError('--cluster-store needs --cluster-advertise IFACE|IP[:PORT] (the address other hosts reach this one at)');
  return { store: { url: String(o.clusterStore), endpoints, tls }, advertise: resolveAdvertise(String(o.clusterAdvertise)) };
}

function uiAddress(v: string): { host: string; port: number } {
  try {
    return parseUiAddress(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function bool(v: string): boolean {
  if (/^(1|t|true)$/i.test(v)) return true;
  if (/^(0|f|false)$/i.test(v)) return false;
  throw new InvalidArgumentError(`"${v}" is not a boolean (true or false)`);
}

function size(v: string): number {
  try {
    return parseSize(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function count(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 100) throw new InvalidArgumentError(`"${v}" is not a number of files (1-100)`);
  return Number(v);
}

function neighMode(v: string): 'report' | 'auto' {
  if (v === 'report' || v === 'auto') return v;
  throw new InvalidArgumentError(`"${v}" is not report or auto`);
}

function cidr(v: string): string {
  if (!tryParseCidr(v)) throw new InvalidArgumentError(`invalid CIDR address: ${v}`);
  return v;
}

function cidr6(v: string): string {
  if (!tryParseCidr6(v)) throw new InvalidArgumentError(`invalid CIDR address: ${v}`);
  return v;
}

function ipv4(v: string): string {
  if (!isIPv4(v)) throw new InvalidArgumentError(`invalid IP address: ${v}`);
  return v;
}
