import type { DnatEntry, Firewall } from '../drivers/bridge/firewall.js';
import type { Kernel } from '../kernel/types.js';
import { InvalidParameterError } from '../util/errors.js';
import { isIPv4 } from '../util/ip.js';
import { ANY_HOST_IP, parsePortRange, PortAllocator, socketReserver, type Reserver } from './allocator.js';
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
  containerIp: string;
  network: PublishNetwork;
  /** from HostConfig.PortBindings (fromPortBindings) */
  bindings: PortRequest[];
  /** Config.ExposedPorts keys ("80/tcp"), used by -P */
  exposed: string[];
  /** -P / HostConfig.PublishAllPorts */
  publishAll: boolean;
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

  private check(req: PublishRequest, wanted: PortRequest[]): void {
    if (!wanted.length) return;
    if (req.network.internal) {
      throw new InvalidParameterError(`cannot publish ports of a container on internal network "${req.network.name}": internal networks have no way in`);
    }
    for (const w of wanted) {
      if (w.proto === 'sctp') throw new InvalidParameterError(`cannot publish ${w.containerPort}/sctp: sctp is not supported yet`);
      const ip = w.hostIp || req.network.hostBindingIpv4 || ANY_HOST_IP;
      if (!isIPv4(ip)) throw new InvalidParameterError(`cannot publish on ${ip}: only IPv4 host addresses are supported yet`);
    }
    if (!isIPv4(req.containerIp)) throw new InvalidParameterError(`cannot publish: the container has no IPv4 address on "${req.network.name}"`);
  }

  /**
   * Publishes the container's ports. All or nothing: on any failure (ConflictError
   * "port is already allocated", …) every port taken so far is released and nothing changed.
   */
  async publish(req: PublishRequest): Promise<PublishedPort[]> {
    const wanted = this.wanted(req);
    this.check(req, wanted);
    if (!wanted.length) return [];
    const ports: PublishedPort[] = [];
    try {
      for (const w of wanted) {
        const hostIp = w.hostIp || req.network.hostBindingIpv4 || ANY_HOST_IP;
        const proto = w.proto as 'tcp' | 'udp';
        const hostPort = await this.allocator.allocate(req.containerId, { hostIp, proto, start: w.hostPortStart, end: w.hostPortEnd });
        ports.push({ proto, containerPort: w.containerPort, hostIp, hostPort, containerIp: req.containerIp });
      }
      await this.firewall.publish(ports.map(toDnat));
    } catch (err) {
      for (const p of ports) await this.allocator.release(req.containerId, { hostIp: p.hostIp, proto: p.proto, port: p.hostPort });
      throw err;
    }
    this.byContainer.set(req.containerId, [...(this.byContainer.get(req.containerId) ?? []), ...ports]);
    return ports;
  }

  /** Removes the container's DNAT elements and frees its host ports. Idempotent. */
  async unpublish(containerId: string): Promise<void> {
    const ports = this.byContainer.get(containerId) ?? [];
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
    for (const { containerId, ports } of all) {
      const kept: PublishedPort[] = [];
      for (const p of ports) {
        try {
          await this.allocator.restore(containerId, p.hostIp, p.proto, p.hostPort);
          kept.push(p);
        } catch (e) {
          failed.push({ containerId, error: (e as Error).message });
        }
      }
      if (kept.length) this.byContainer.set(containerId, kept);
      dnat.push(...kept.map(toDnat));
    }
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
