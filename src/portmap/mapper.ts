import type { DnatEntry, Firewall } from '../drivers/bridge/firewall.js';
import type { Kernel } from '../kernel/types.js';
import { InvalidParameterError } from '../util/errors.js';
import { joinHostPort } from '../util/ip-family.js';
import { isIPv6 } from '../util/ip6.js';
import { ANY_HOST_IP, ANY_HOST_IP6, parsePortRange, PortAllocator, socketReserver, type Reserver } from './allocator.js';
import { parsePortKey, type PortRequest } from './spec.js';

// The port API the engine calls: publish a container's ports (host ports allocated and
// reserved, DNAT elements added in one transaction), unpublish them, restore them after a
// daemon restart. No process per port, no proxy: the kernel forwards.

/** One published port, as the engine should store it (restore needs exactly these). */
export interface PublishedPort {
  proto: 'tcp' | 'udp';
  containerPort: number;
  hostIp: string;
  hostPort: number;
  containerIp: string;
  /** held in berth's books only: the runtime that lent the sandbox binds it (PublishRequest.runtimeBinds) */
  unbound?: true;
}

/** The network the container is published through (its gateway endpoint's). */
export interface PublishNetwork {
  name: string;
  internal: boolean;
  /** com.docker.network.bridge.host_binding_ipv4 or the daemon's --ip ('0.0.0.0' by default) */
  hostBindingIpv4: string;
}

export interface PublishRequest {
  containerId: string;
  /** the container's IPv4 address on that network ('' when it has none) */
  containerIp: string;
  /** its IPv6 address there ('' when it has none) */
  containerIp6: string;
  network: PublishNetwork;
  /** from HostConfig.PortBindings (fromPortBindings) */
  bindings: PortRequest[];
  /** Config.ExposedPorts keys ("80/tcp"), used by -P */
  exposed: string[];
  /** -P / HostConfig.PublishAllPorts */
  publishAll: boolean;
  /** the sandbox's runtime binds the host ports itself (a CNI caller): berth binds no socket */
  runtimeBinds?: boolean;
}

export class PortMapper {
  private readonly byContainer = new Map<string, PublishedPort[]>();

  constructor(
    private readonly firewall: Firewall,
    private readonly allocator: PortAllocator,
  ) {}

  /** The daemon's mapper: ephemeral range from the kernel, real reservation sockets. */
  static async open(kernel: Kernel, firewall: Firewall, reserver: Reserver = socketReserver): Promise<PortMapper> {
    const range = parsePortRange(await kernel.readSysctl('net.ipv4.ip_local_port_range'));
    return new PortMapper(firewall, new PortAllocator(range, reserver));
  }

  /** What the request publishes: explicit bindings, then (-P) every other exposed port on a random port. */
  private wanted(req: PublishRequest): PortRequest[] {
    const out = [...req.bindings];
    if (req.publishAll) {
      const bound = new Set(req.bindings.map((b) => `${b.containerPort}/${b.proto}`));
      for (const key of req.exposed) {
        if (bound.has(key)) continue;
        const { port, proto } = parsePortKey(key);
        out.push({ containerPort: port, proto, hostIp: '', hostPortStart: 0, hostPortEnd: 0 });
      }
    }
    return out;
  }

  /**
   * The host addresses one binding publishes on. An address given (-p 127.0.0.1:…,
   * -p [::1]:…, or the network's host_binding_ipv4 / --ip) is that address alone, of the
   * family the container must have. None given is every address of each family the
   * container has: 0.0.0.0 for its IPv4 address, :: for its IPv6 one. A container without
   * IPv6 is not published on :: at all (berth has no proxy to carry IPv6 to an IPv4
   * address): an IPv6 client of that port is refused, as by a host with nothing on it.
   */
  private hostIpsOf(req: PublishRequest, w: PortRequest): string[] {
    const where = `"${req.network.name}"`;
    const binding = req.network.hostBindingIpv4 || ANY_HOST_IP;
    const given = w.hostIp || (binding === ANY_HOST_IP ? '' : binding);
    if (given) {
      const v6 = isIPv6(given);
      if (v6 && !this.firewall.ip6) throw new InvalidParameterError(`cannot publish on ${joinHostPort(given, w.hostPortStart)}: IPv6 firewalling is off (--ip6tables=false)`);
      if (!(v6 ? req.containerIp6 : req.containerIp)) {
        throw new InvalidParameterError(`cannot publish on ${joinHostPort(given, w.hostPortStart)}: the container has no ${v6 ? 'IPv6' : 'IPv4'} address on ${where}`);
      }
      return [given];
    }
    const ips = [...(req.containerIp ? [ANY_HOST_IP] : []), ...(req.containerIp6 && this.firewall.ip6 ? [ANY_HOST_IP6] : [])];
    if (!ips.length) throw new InvalidParameterError(`cannot publish: the container has no IPv4 address on ${where}, and IPv6 firewalling is off (--ip6tables=false)`);
    return ips;
  }

  /** Checks every binding before anything is taken; returns where each publishes. */
  private plan(req: PublishRequest, wanted: PortRequest[]): { w: PortRequest; hostIps: string[] }[] {
    if (!wanted.length) return [];
    if (req.network.internal) {
      throw new InvalidParameterError(`cannot publish ports of a container on internal network "${req.network.name}": internal networks have no way in`);
    }
    for (const w of wanted) {
      if (w.proto === 'sctp') throw new InvalidParameterError(`cannot publish ${w.containerPort}/sctp: sctp is not supported yet`);
    }
    return wanted.map((w) => ({ w, hostIps: this.hostIpsOf(req, w) }));
  }

  /**
   * Publishes the container's ports. All or nothing: on any failure (ConflictError
   * "port is already allocated", …) every port taken so far is released and nothing changed.
   */
  async publish(req: PublishRequest): Promise<PublishedPort[]> {
    const plan = this.plan(req, this.wanted(req));
    if (!plan.length) return [];
    const ports: PublishedPort[] = [];
    try {
      for (const { w, hostIps } of plan) {
        const proto = w.proto as 'tcp' | 'udp';
        const relay = req.containerIp6 ? { ip: req.containerIp6, port: w.containerPort } : undefined;
        const bind = !req.runtimeBinds;
        const hostPort = await this.allocator.allocateOn(req.containerId, hostIps, { proto, start: w.hostPortStart, end: w.hostPortEnd, relay, bind });
        for (const hostIp of hostIps) {
          ports.push({ proto, containerPort: w.containerPort, hostIp, hostPort, containerIp: isIPv6(hostIp) ? req.containerIp6 : req.containerIp, ...(bind ? {} : { unbound: true as const }) });
        }
      }
      await this.firewall.publish(ports.map(toDnat));
    } catch (err) {
      for (const p of ports) await this.allocator.release(req.containerId, { hostIp: p.hostIp, proto: p.proto, port: p.hostPort });
      throw err;
    }
    this.byContainer.set(req.containerId, [...(this.byContainer.get(req.containerId) ?? []), ...ports]);
    return ports;
  }

  /**
   * Removes the container's DNAT elements and frees its host ports. Idempotent.
   * `recorded`: the ports its record holds, for when this mapper does not know them yet
   * (start-up tears a container down before the ports of running ones are restored: the
   * table kept their elements through its reset).
   */
  async unpublish(containerId: string, recorded: PublishedPort[] = []): Promise<void> {
    const ports = this.byContainer.get(containerId) ?? recorded;
    this.byContainer.delete(containerId);
    try {
      await this.firewall.unpublish(ports.map(toDnat));
    } finally {
      await this.allocator.release(containerId);
    }
  }

  /**
   * After a daemon restart: re-takes exactly the stored ports of running containers and
   * re-adds their DNAT elements in one transaction. A port someone else took meanwhile is
   * reported, not fatal.
   */
  async restore(all: { containerId: string; ports: PublishedPort[] }[]): Promise<{ containerId: string; error: string }[]> {
    const failed: { containerId: string; error: string }[] = [];
    const dnat: DnatEntry[] = [];
    // the containers side by side (a bind each, thousands at a restart); two that claim one
    // port still get it once: the allocator checks again after each bind
    await Promise.all(all.map(async ({ containerId, ports }) => {
      const kept: PublishedPort[] = [];
      for (const p of ports) {
        try {
          await this.allocator.restore(containerId, p.hostIp, p.proto, p.hostPort, { relay: { ip: p.containerIp, port: p.containerPort }, bind: !p.unbound });
          kept.push(p);
        } catch (e) {
          failed.push({ containerId, error: (e as Error).message });
        }
      }
      if (kept.length) this.byContainer.set(containerId, kept);
      dnat.push(...kept.map(toDnat));
    }));
    await this.firewall.publish(dnat);
    return failed;
  }

  /** The firewall's entries for everything published (for Firewall.reset at start-up). */
  dnatEntries(): DnatEntry[] {
    return [...this.byContainer.values()].flat().map(toDnat);
  }

  published(containerId: string): PublishedPort[] {
    return this.byContainer.get(containerId) ?? [];
  }
}

function toDnat(p: PublishedPort): DnatEntry {
  return { hostIp: p.hostIp, proto: p.proto, hostPort: p.hostPort, containerIp: p.containerIp, containerPort: p.containerPort };
}
