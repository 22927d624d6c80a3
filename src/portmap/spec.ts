import { InvalidParameterError } from '../util/errors.js';
import { isIPv4 } from '../util/ip.js';
import { canonicalIPv6, isIPv6 } from '../util/ip6.js';

// `-p` / `--expose` as Docker spells them, parsed once into typed values, and Docker's
// HostConfig.PortBindings / ExposedPorts shapes both ways.

export type Proto = 'tcp' | 'udp' | 'sctp';

/** One container port and where the host should publish it. */
export interface PortRequest {
  containerPort: number;
  proto: Proto;
  /** '' = the network's default host address (--ip / host_binding_ipv4) */
  hostIp: string;
  /** 0..0 = any free port; start == end = exactly this one; start < end = any in the range */
  hostPortStart: number;
  hostPortEnd: number;
}

/** Docker's HostConfig.PortBindings: {"80/tcp":[{"HostIp":"","HostPort":"8080"}]} */
export type PortBindingsJson = Record<string, { HostIp: string; HostPort: string }[] | null>;

const PROTOS: readonly Proto[] = ['tcp', 'udp', 'sctp'];

interface Range {
  start: number;
  end: number;
}

/** "80" or "80-85"; '' gives 0..0 when `optional`. */
function parseRange(text: string, what: string, spec: string, optional = false): Range {
  if (text === '' && optional) return { start: 0, end: 0 };
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) throw new InvalidParameterError(`invalid port format "${spec}": invalid ${what} "${text}"`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  for (const p of [start, end]) {
    if (p < 1 || p > 65535) throw new InvalidParameterError(`invalid port format "${spec}": ${what} ${p} is not between 1 and 65535`);
  }
  if (end < start) throw new InvalidParameterError(`invalid range "${text}" in "${spec}": the end is below the start`);
  return { start, end };
}

function parseProto(text: string, spec: string): Proto {
  const p = text.toLowerCase();
  if (!(PROTOS as readonly string[]).includes(p)) throw new InvalidParameterError(`invalid proto "${text}" in "${spec}": expected tcp, udp or sctp`);
  return p as Proto;
}

/** Splits "[ip:][hostPort:]containerPort" where ip may be "[v6]" or a bare v4. */
function splitSpec(body: string, spec: string): { ip: string; host: string; container: string } {
  let ip = '';
  let rest = body;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') throw new InvalidParameterError(`invalid port format "${spec}": unclosed IPv6 address`);
    ip = rest.slice(1, close);
    rest = rest.slice(close + 2);
    const parts = rest.split(':');
    if (parts.length !== 2) throw new InvalidParameterError(`invalid port format "${spec}"`);
    return { ip, host: parts[0]!, container: parts[1]! };
  }
  const parts = rest.split(':');
  if (parts.length === 1) return { ip: '', host: '', container: parts[0]! };
  if (parts.length === 2) return { ip: '', host: parts[0]!, container: parts[1]! };
  if (parts.length === 3) return { ip: parts[0]!, host: parts[1]!, container: parts[2]! };
  throw new InvalidParameterError(`invalid port format "${spec}": expected [ip:][hostPort:]containerPort[/proto]`);
}

/** '' (the default), an IPv4 address, or an IPv6 one in its canonical form ("0::0" is "::"). */
function checkHostIp(ip: string, spec: string): string {
  if (ip === '' || isIPv4(ip)) return ip;
  if (isIPv6(ip)) return canonicalIPv6(ip);
  throw new InvalidParameterError(`invalid IP address "${ip}" in "${spec}"`);
}

/** One `-p` value → its port requests (a range of container ports gives one per port). */
export function parsePortSpec(spec: string): PortRequest[] {
  const slash = spec.lastIndexOf('/');
  const body = slash >= 0 && !spec.slice(slash).includes(']') ? spec.slice(0, slash) : spec;
  const proto = body === spec ? 'tcp' : parseProto(spec.slice(slash + 1), spec);
  const { ip, host, container } = splitSpec(body, spec);
  const hostIp = checkHostIp(ip, spec);
  const c = parseRange(container, 'container port', spec);
  const h = parseRange(host, 'host port', spec, true);
  const cLen = c.end - c.start;
  const hLen = h.end - h.start;
  if (h.start !== 0 && cLen > 0 && hLen !== cLen) {
    throw new InvalidParameterError(`invalid range "${spec}": host and container port ranges must have the same length`);
  }
  const out: PortRequest[] = [];
  for (let i = 0; i <= cLen; i++) {
    const single = h.start !== 0 && cLen > 0;
    out.push({
      containerPort: c.start + i,
      proto,
      hostIp,
      hostPortStart: single ? h.start + i : h.start,
      hostPortEnd: single ? h.start + i : h.end,
    });
  }
  return out;
}

/** One `--expose` value ("80", "80/udp", "8000-8010") → ExposedPorts keys ("80/tcp"). */
export function parseExpose(spec: string): string[] {
  const [ports = '', protoText, ...extra] = spec.split('/');
  if (extra.length) throw new InvalidParameterError(`invalid port format "${spec}"`);
  const proto = protoText === undefined ? 'tcp' : parseProto(protoText, spec);
  const r = parseRange(ports, 'port', spec);
  const keys: string[] = [];
  for (let p = r.start; p <= r.end; p++) keys.push(`${p}/${proto}`);
  return keys;
}

/** "80/tcp" → {port, proto}; a bare "80" is tcp. */
export function parsePortKey(key: string): { port: number; proto: Proto } {
  const [portText = '', protoText] = key.split('/');
  const proto = protoText === undefined ? 'tcp' : parseProto(protoText, key);
  const r = parseRange(portText, 'port', key);
  if (r.start !== r.end) throw new InvalidParameterError(`invalid port "${key}": a single port expected`);
  return { port: r.start, proto };
}

export function portKey(port: number, proto: Proto): string {
  return `${port}/${proto}`;
}

function hostPortText(r: PortRequest): string {
  if (r.hostPortStart === 0) return '';
  return r.hostPortStart === r.hostPortEnd ? String(r.hostPortStart) : `${r.hostPortStart}-${r.hostPortEnd}`;
}

/** Port requests → HostConfig.PortBindings (several bindings of one port stay in order). */
export function toPortBindings(reqs: PortRequest[]): PortBindingsJson {
  const out: PortBindingsJson = {};
  for (const r of reqs) {
    const key = portKey(r.containerPort, r.proto);
    (out[key] ??= []).push({ HostIp: r.hostIp, HostPort: hostPortText(r) });
  }
  return out;
}

/** HostConfig.PortBindings (from the API or the store) → port requests, validated. */
export function fromPortBindings(json: PortBindingsJson | undefined): PortRequest[] {
  const out: PortRequest[] = [];
  for (const [key, bindings] of Object.entries(json ?? {})) {
    const { port, proto } = parsePortKey(key);
    for (const b of bindings ?? [{ HostIp: '', HostPort: '' }]) {
      const spec = `${b.HostIp ?? ''}:${b.HostPort ?? ''}:${key}`;
      const h = parseRange(b.HostPort ?? '', 'host port', spec, true);
      out.push({ containerPort: port, proto, hostIp: checkHostIp(b.HostIp ?? '', spec), hostPortStart: h.start, hostPortEnd: h.end });
    }
  }
  return out;
}

/** Ports with a binding are exposed too (Docker adds them to Config.ExposedPorts). */
export function exposedKeys(reqs: PortRequest[], expose: string[] = []): string[] {
  const keys = new Set(expose);
  for (const r of reqs) keys.add(portKey(r.containerPort, r.proto));
  return [...keys];
}
