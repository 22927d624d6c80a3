import { isIP } from 'node:net';
import { InvalidParameterError } from '../util/errors.js';
import type { SandboxInterface } from './types.js';

// Every name and address is checked here, on the main thread, before it can reach the
// kernel (or an nft command line). Failures are InvalidParameterError (HTTP 400).

const IFNAME = /^[a-zA-Z0-9_.-]+$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const SYSCTL_KEY = /^[a-zA-Z0-9_.\/-]+$/;

/** Linux interface names: 1..15 bytes (IFNAMSIZ-1), no "/", whitespace or ":"; not "." / "..". */
export function assertIfName(name: string): void {
  if (typeof name !== 'string' || !IFNAME.test(name) || Buffer.byteLength(name) > 15 || name === '.' || name === '..') {
    throw new InvalidParameterError(`invalid interface name ${JSON.stringify(name)}: 1 to 15 characters from [a-zA-Z0-9_.-]`);
  }
}

/** Six colon-separated hex octets of a unicast address (the kernel refuses multicast). */
export function assertMac(mac: string): void {
  if (typeof mac !== 'string' || !MAC.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1) {
    throw new InvalidParameterError(`invalid MAC address ${JSON.stringify(mac)}`);
  }
}

export function assertIp(ip: string): void {
  if (typeof ip !== 'string' || isIP(ip) === 0) throw new InvalidParameterError(`invalid IP address ${JSON.stringify(ip)}`);
}

export function assertIpv4(ip: string): void {
  if (typeof ip !== 'string' || isIP(ip) !== 4) throw new InvalidParameterError(`invalid IPv4 address ${JSON.stringify(ip)}`);
}

export function assertPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidParameterError(`invalid port ${port}: must be 1..65535`);
}

/** "a.b.c.d/n" (n 0..32) or "v6/n" (n 0..128). */
export function assertCidr(cidr: string): void {
  const m = typeof cidr === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(cidr) : null;
  const family = m ? isIP(m[1]) : 0;
  const prefix = m ? Number(m[2]) : -1;
  if (!m || family === 0 || prefix > (family === 4 ? 32 : 128)) {
    throw new InvalidParameterError(`invalid CIDR address ${JSON.stringify(cidr)}`);
  }
}

/** A route destination: "default" or a CIDR. */
export function assertRouteDst(dst: string): void {
  if (dst !== 'default') assertCidr(dst);
}

/** An rtm_protocol a route may be given: 5..255 (0 unspec, 1 redirect, 2 kernel, 3 boot and 4 static are the system's). */
export function assertRouteProtocol(protocol: number): void {
  if (!Number.isInteger(protocol) || protocol < 5 || protocol > 255) throw new InvalidParameterError(`invalid route protocol ${protocol}: must be 5..255`);
}

export function assertMtu(mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new InvalidParameterError(`invalid MTU ${mtu}: must be 68..65535`);
}

export function assertNetnsPath(path: string): void {
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0') || path.split('/').includes('..')) {
    throw new InvalidParameterError(`invalid netns path ${JSON.stringify(path)}: must be absolute`);
  }
}

export function assertSysctlKey(key: string): void {
  if (typeof key !== 'string' || !SYSCTL_KEY.test(key) || key.split(/[./]/).some((p) => p === '' || p === '..')) {
    throw new InvalidParameterError(`invalid sysctl key ${JSON.stringify(key)}`);
  }
}

const MACVLAN_MODES = new Set(['bridge', 'private', 'vepa', 'passthru']);

export function assertInterface(i: SandboxInterface): void {
  assertIfName(i.ifName);
  if (i.mac !== undefined) assertMac(i.mac);
  if (i.mtu !== undefined) assertMtu(i.mtu);
  i.addresses.forEach(assertCidr);
  for (const r of i.routes) {
    assertRouteDst(r.dst);
    if (r.via !== undefined) assertIp(r.via);
  }
  const link = i.link;
  switch (link.kind) {
    case 'veth':
      assertIfName(link.hostName);
      assertIfName(link.master);
      if (i.mac === undefined) throw new InvalidParameterError(`veth ${i.ifName} needs a MAC address`);
      return;
    case 'routed-veth':
      assertIfName(link.hostName);
      link.gateways.forEach(assertCidr);
      link.routes.forEach(assertCidr);
      if (i.mac === undefined) throw new InvalidParameterError(`veth ${i.ifName} needs a MAC address`);
      return;
    case 'macvlan':
      assertIfName(link.parent);
      if (!MACVLAN_MODES.has(link.mode)) throw new InvalidParameterError(`invalid macvlan mode ${JSON.stringify(link.mode)}`);
      return;
    case 'existing':
      assertIfName(link.name);
      if (link.netns !== undefined) assertNetnsPath(link.netns);
      if (link.pair !== undefined) {
        assertIfName(link.pair);
        if (link.pair === link.name) throw new InvalidParameterError(`a veth pair needs two names, not ${link.name} twice`);
      }
      return;
    default:
      throw new InvalidParameterError(`unknown link kind ${JSON.stringify((link as { kind: unknown }).kind)}`);
  }
}

/** An 802.1q tag: 1..4094 (0 and 4095 are reserved). */
export function assertVlanId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > 4094) throw new InvalidParameterError(`invalid VLAN ID ${id}: must be 1..4094`);
}

/** A VXLAN network identifier: 24 bits, 0 reserved. */
export function assertVni(vni: number): void {
  if (!Number.isInteger(vni) || vni < 1 || vni > 0xffffff) throw new InvalidParameterError(`invalid VXLAN ID ${vni}: must be 1..16777215`);
}
