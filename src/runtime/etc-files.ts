import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BindMount } from './types.js';

// Each container's /etc/hostname, /etc/hosts and /etc/resolv.conf: files under its state
// dir, bind-mounted over the container's own (as Docker does). Rewritten at every start,
// so edits made inside a running container are not kept.

export interface EtcFilesSpec {
  dir: string;
  hostname: string;
  /** the container's own addresses (first one is its primary) */
  addresses: string[];
  /** extra names for the own address (container name) */
  names: string[];
  extraHosts: { name: string; ip: string }[];
  /** legacy --link entries: the linked container's address and its names (alias, short id, name) */
  links: { ip: string; names: string[] }[];
  /** the embedded resolver's address (user-defined networks): the only nameserver; `dns` then goes upstream */
  embeddedDns?: string;
  /** nameservers / search / options for resolv.conf; empty nameservers → derived from the host's */
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** the container has an IPv6 address: the host's IPv6 nameservers are kept (else they are unreachable from it) */
  ipv6?: boolean;
  /** host mode: use the host's hosts and resolv.conf, and a hostname file only when asked */
  hostMode: boolean;
  hostnameGiven: boolean;
}

const LOCALHOST_LINES = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/** Docker's fallback when the host has no usable nameserver (its IPv6 pair for a container with IPv6). */
const FALLBACK_DNS = ['8.8.8.8', '8.8.4.4'];
const FALLBACK_DNS6 = ['2001:4860:4860::8888', '2001:4860:4860::8844'];

export function writeEtcFiles(s: EtcFilesSpec, hostResolvConf = '/etc/resolv.conf'): BindMount[] {
  mkdirSync(s.dir, { recursive: true });
  const binds: BindMount[] = [];
  if (!s.hostMode || s.hostnameGiven) {
    writeFileSync(join(s.dir, 'hostname'), `${s.hostname}\n`);
    binds.push({ source: join(s.dir, 'hostname'), target: '/etc/hostname' });
  }
  if (s.hostMode) return binds;
  writeFileSync(join(s.dir, 'hosts'), renderHosts(s));
  writeFileSync(join(s.dir, 'resolv.conf'), renderResolvConf(s, readOr(hostResolvConf)));
  binds.push({ source: join(s.dir, 'hosts'), target: '/etc/hosts' });
  binds.push({ source: join(s.dir, 'resolv.conf'), target: '/etc/resolv.conf' });
  return binds;
}

export function renderHosts(s: Pick<EtcFilesSpec, 'hostname' | 'addresses' | 'names' | 'extraHosts' | 'links'>): string {
  const lines = [...LOCALHOST_LINES];
  for (const h of s.extraHosts) lines.push(`${h.ip}\t${h.name}`);
  for (const l of s.links) lines.push(`${l.ip}\t${l.names.join(' ')}`);
  const own = [...new Set([s.hostname, ...s.names])].join(' ');
  for (const a of s.addresses) lines.push(`${a}\t${own}`);
  return lines.join('\n') + '\n';
}

/**
 * Without embedded DNS: the host's nameservers minus localhost ones (unreachable from a
 * container), or --dns. With it: only the embedded resolver (--dns servers are its
 * upstreams instead), and, as Docker writes, `ndots:0` unless the options (--dns-opt, else
 * the host's) hold a valid ndots already, so that bare container names are tried as they
 * are first. Search domains: --dns-search, else the host's.
 */
export function renderResolvConf(s: Pick<EtcFilesSpec, 'dns' | 'dnsSearch' | 'dnsOptions' | 'embeddedDns' | 'ipv6'>, host: string): string {
  const hostLines = host.split('\n').map((l) => l.trim());
  const field = (key: string) => hostLines.filter((l) => l.startsWith(`${key} `) || l.startsWith(`${key}\t`)).map((l) => l.slice(key.length).trim());
  // the host's, as Docker filters them: no localhost ones, no IPv6 ones for a container without IPv6
  const fromHost = () => field('nameserver').filter((ns) => !isLocalhost(ns) && (s.ipv6 || !ns.includes(':')));
  let servers = s.embeddedDns ? [s.embeddedDns] : s.dns.length ? s.dns : fromHost();
  if (servers.length === 0) servers = s.ipv6 ? [...FALLBACK_DNS, ...FALLBACK_DNS6] : FALLBACK_DNS;
  const search = s.dnsSearch.length ? s.dnsSearch : field('search').flatMap((x) => x.split(/\s+/));
  const hostOptions = s.dnsOptions.length ? s.dnsOptions : field('options').flatMap((x) => x.split(/\s+/));
  const options = s.embeddedDns ? withNdots(hostOptions) : hostOptions;
  const out = servers.map((ns) => `nameserver ${ns}`);
  if (search.length) out.push(`search ${search.join(' ')}`);
  if (options.length) out.push(`options ${options.join(' ')}`);
  return out.join('\n') + '\n';
}

/** Docker's rule for the internal resolver: an ill-formed ndots goes, a valid one stays, none gets ndots:0. */
function withNdots(options: string[]): string[] {
  const valid = options.filter((o) => !o.startsWith('ndots:') || /^ndots:\d+$/.test(o));
  return valid.some((o) => o.startsWith('ndots:')) ? valid : [...valid, 'ndots:0'];
}

/** The nameservers of a resolv.conf text that a container can reach (no localhost ones). */
export function reachableNameservers(resolvConf: string): string[] {
  return [...resolvConf.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]).filter((ns) => !isLocalhost(ns));
}

/** The host's reachable nameservers (empty when it has none or no resolv.conf). */
export function hostNameservers(path = '/etc/resolv.conf'): string[] {
  return reachableNameservers(readOr(path));
}

function isLocalhost(ns: string): boolean {
  return ns.startsWith('127.') || ns === '::1';
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
