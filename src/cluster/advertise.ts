import { networkInterfaces } from 'node:os';
import { isIPv4 } from '../util/ip.js';
import { isIPv6 } from '../util/ip6.js';

// --cluster-advertise IFACE|IP[:PORT]: the address other hosts reach this one at (its
// VXLAN endpoint). An interface name stands for its first IPv4 address, read once at
// start-up, as dockerd did; anything that names no usable address is one clear line.

export class AdvertiseError extends Error {}

/** "uplink0" → "10.99.0.3", "10.99.0.3:2376" → itself, "[fd00::3]:2376" → itself. */
export function resolveAdvertise(value: string, interfaces = networkInterfaces()): string {
  const bad = (why: string) => new AdvertiseError(`invalid --cluster-advertise ${JSON.stringify(value)}: ${why}`);
  const m = /^(?:\[([^\]]+)\]|([^:]+)|([0-9a-f:]+))(?::(\d+))?$/i.exec(value);
  if (!value || !m) throw bad('expected an interface name or an IP address, with an optional :PORT');
  const v6 = m[1] ?? (m[3] !== undefined && m[4] === undefined ? m[3] : undefined);
  const port = m[4] === undefined ? undefined : Number(m[4]);
  if (port !== undefined && !(port >= 1 && port <= 65535)) throw bad('port out of range (1-65535)');
  const withPort = (ip: string) => (port === undefined ? ip : `${ip.includes(':') ? `[${ip}]` : ip}:${port}`);
  if (v6 !== undefined) {
    if (!isIPv6(v6)) throw bad('not an IPv6 address');
    return withPort(v6);
  }
  const name = m[2] ?? value;
  if (isIPv4(name)) return withPort(name);
  if (/^\d+(\.\d+)*$/.test(name)) throw bad('not an IPv4 address');
  const iface = interfaces[name];
  if (!iface) throw bad(`no such interface (here: ${Object.keys(interfaces).join(', ') || 'none'})`);
  const v4 = iface.find((a) => a.family === 'IPv4');
  if (!v4) throw bad(`interface ${name} has no IPv4 address`);
  return withPort(v4.address);
}

/** The IP part of a resolved advertise address (the VTEP): "10.99.0.3:2376" → "10.99.0.3". */
export function advertiseIp(advertise: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(advertise);
  if (m) return m[1];
  return isIPv6(advertise) ? advertise : advertise.replace(/:\d+$/, '');
}
