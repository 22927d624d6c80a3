import { Worker } from 'node:worker_threads';
import { InvalidParameterError, KernelError } from '../util/errors.js';
import type {
  AddressInfo, FdbEntry, Kernel, LinkInfo, NeighbourEntry, NetnsSockets, RouteInfo, RouteLookup, SandboxFacts, SandboxInterface, SandboxOptions, SandboxVisit,
  VxlanPeer, VxlanSpec,
} from './types.js';
import type { OpName } from './ops.js';
import type { KernelReply, KernelRequest } from './protocol.js';
import {
  assertCidr, assertInterface, assertIfName, assertIp, assertIpv4, assertMtu, assertNetnsPath, assertPort,
  assertRouteDst, assertRouteProtocol, assertSysctlKey, assertVlanId, assertMac, assertVni,
} from './validate.js';

// The main-thread face of the kernel layer: validates arguments, posts each operation to
// the kernel worker and turns error replies into KernelError. The worker is unref'd
// while idle, so an idle kernel never keeps the process alive; in-flight requests do.

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  done: Promise<unknown>;
}

class KernelClient implements Kernel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(private readonly worker: Worker) {
    worker.on('message', (m: KernelReply) => this.onReply(m));
    worker.on('error', (e) => this.failAll(`kernel worker crashed: ${e.message}`));
    worker.on('exit', (code) => this.failAll(`kernel worker exited (code ${code})`));
    worker.unref();
  }

  private call<T>(op: OpName, args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(new KernelError(`kernel is closed (${op})`, 'ESHUTDOWN'));
    const id = this.nextId++;
    let entry: Omit<Pending, 'done'> | undefined;
    const p = new Promise<T>((resolve, reject) => {
      entry = { resolve: resolve as (v: unknown) => void, reject };
    });
    this.pending.set(id, { ...(entry as Omit<Pending, 'done'>), done: p });
    if (this.pending.size === 1) this.worker.ref();
    this.worker.postMessage({ id, op, args } satisfies KernelRequest);
    return p;
  }

  private onReply(m: KernelReply): void {
    if (!('id' in m)) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if ('error' in m) p.reject(new KernelError(m.error.message, m.error.code, m.error.errno));
    else p.resolve(m.result);
  }

  private failAll(message: string): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new KernelError(message, 'EIO'));
    this.pending.clear();
  }

  /** Validation errors become rejections, so callers see one failure path. */
  private checked<T>(check: () => void, run: () => Promise<T>): Promise<T> {
    try {
      check();
    } catch (e) {
      return Promise.reject(e);
    }
    return run();
  }

  private optNetns(netns: string | undefined): void {
    if (netns !== undefined) assertNetnsPath(netns);
  }

  createNetns(path: string): Promise<void> {
    return this.checked(() => assertNetnsPath(path), () => this.call('createNetns', [path]));
  }
  deleteNetns(path: string): Promise<void> {
    return this.checked(() => assertNetnsPath(path), () => this.call('deleteNetns', [path]));
  }
  netnsExists(path: string): Promise<boolean> {
    return this.checked(() => assertNetnsPath(path), () => this.call('netnsExists', [path]));
  }

  bindInNetns(netns: string, address: string, port: number): Promise<NetnsSockets> {
    return this.checked(() => { assertNetnsPath(netns); assertIpv4(address); assertPort(port); },
      () => this.call('bindInNetns', [netns, address, port]));
  }

  readSandboxes(visits: SandboxVisit[]): Promise<SandboxFacts[]> {
    return this.checked(() => {
      for (const v of visits) {
        assertNetnsPath(v.netns);
        if (v.listen) { assertIpv4(v.listen.address); assertPort(v.listen.port); }
      }
    }, () => this.call('readSandboxes', [visits]));
  }

  listLinks(netns?: string): Promise<LinkInfo[]> {
    return this.checked(() => this.optNetns(netns), () => this.call('listLinks', [netns]));
  }
  getLink(name: string, netns?: string): Promise<LinkInfo | null> {
    return this.checked(() => { assertIfName(name); this.optNetns(netns); }, () => this.call('getLink', [name, netns]));
  }
  ensureBridge(name: string, mtu?: number): Promise<LinkInfo> {
    return this.checked(() => { assertIfName(name); if (mtu !== undefined) assertMtu(mtu); },
      () => this.call('ensureBridge', [name, mtu]));
  }
  deleteLink(name: string, netns?: string): Promise<void> {
    return this.checked(() => { assertIfName(name); this.optNetns(netns); }, () => this.call('deleteLink', [name, netns]));
  }
  setLinkUp(name: string, netns?: string): Promise<void> {
    return this.checked(() => { assertIfName(name); this.optNetns(netns); }, () => this.call('setLinkUp', [name, netns]));
  }

  applySandbox(netns: string, ifaces: SandboxInterface[], opts: SandboxOptions): Promise<{ sockets?: NetnsSockets }> {
    return this.checked(() => {
      assertNetnsPath(netns);
      ifaces.forEach(assertInterface);
      if (opts.listen) {
        assertIpv4(opts.listen.address);
        assertPort(opts.listen.port);
      }
    }, () => this.call('applySandbox', [netns, ifaces, { create: opts.create, listen: opts.listen && { address: opts.listen.address, port: opts.listen.port } }]));
  }
  removeInterface(netns: string, iface: Pick<SandboxInterface, 'ifName' | 'link'>): Promise<void> {
    return this.checked(() => { assertNetnsPath(netns); assertIfName(iface.ifName); },
      () => this.call('removeInterface', [netns, { ifName: iface.ifName, link: iface.link }]));
  }
  setDefaultRoute(netns: string, gateway: string, dev: string): Promise<void> {
    return this.checked(() => { assertNetnsPath(netns); assertIp(gateway); assertIfName(dev); },
      () => this.call('setDefaultRoute', [netns, gateway, dev]));
  }
  deleteDefaultRoute(netns: string, family: 4 | 6): Promise<void> {
    return this.checked(() => { assertNetnsPath(netns); if (family !== 4 && family !== 6) throw new InvalidParameterError(`invalid address family ${family}`); },
      () => this.call('deleteDefaultRoute', [netns, family]));
  }

  listAddresses(netns?: string): Promise<AddressInfo[]> {
    return this.checked(() => this.optNetns(netns), () => this.call('listAddresses', [netns]));
  }
  addAddress(ifname: string, cidr: string, netns?: string): Promise<void> {
    return this.checked(() => { assertIfName(ifname); assertCidr(cidr); this.optNetns(netns); },
      () => this.call('addAddress', [ifname, cidr, netns]));
  }
  deleteAddress(ifname: string, cidr: string, netns?: string): Promise<void> {
    return this.checked(() => { assertIfName(ifname); assertCidr(cidr); this.optNetns(netns); },
      () => this.call('deleteAddress', [ifname, cidr, netns]));
  }

  listRoutes(netns?: string): Promise<RouteInfo[]> {
    return this.checked(() => this.optNetns(netns), () => this.call('listRoutes', [netns]));
  }
  addRoute(r: { dst: string; gateway?: string; dev?: string; protocol?: number }, netns?: string): Promise<void> {
    return this.checked(() => {
      assertRouteDst(r.dst);
      if (r.gateway !== undefined) assertIp(r.gateway);
      if (r.dev !== undefined) assertIfName(r.dev);
      if (r.gateway === undefined && r.dev === undefined) throw new InvalidParameterError(`route ${r.dst} needs a gateway or a dev`);
      if (r.protocol !== undefined) assertRouteProtocol(r.protocol);
      this.optNetns(netns);
    }, () => this.call('addRoute', [{ dst: r.dst, gateway: r.gateway, dev: r.dev, protocol: r.protocol }, netns]));
  }

  deleteRoute(dst: string, netns?: string, opts: { protocol?: number } = {}): Promise<void> {
    return this.checked(() => { assertCidr(dst); this.optNetns(netns); if (opts.protocol !== undefined) assertRouteProtocol(opts.protocol); },
      () => this.call('deleteRoute', [dst, netns, opts.protocol]));
  }
  lookupRoute(ip: string, netns?: string): Promise<RouteLookup> {
    return this.checked(() => { assertIp(ip); this.optNetns(netns); }, () => this.call('lookupRoute', [ip, netns]));
  }

  createVethPair(name: string, peer: string, netns?: string, mtu?: number): Promise<void> {
    return this.checked(() => {
      assertIfName(name);
      assertIfName(peer);
      if (name === peer) throw new InvalidParameterError(`a veth pair needs two names, not ${name} twice`);
      this.optNetns(netns);
      if (mtu !== undefined) assertMtu(mtu);
    }, () => this.call('createVethPair', [name, peer, netns, mtu]));
  }
  ensureVlan(parent: string, id: number): Promise<boolean> {
    return this.checked(() => {
      assertVlanId(id);
      assertIfName(parent);
      assertIfName(`${parent}.${id}`);
    }, () => this.call('ensureVlan', [parent, id]));
  }
  ensureLinkToNowhere(name: string, deadEnd: string): Promise<void> {
    return this.checked(() => { assertIfName(name); assertNetnsPath(deadEnd); }, () => this.call('ensureLinkToNowhere', [name, deadEnd]));
  }
  ensureMacvlanShim(name: string, parent: string, cidr: string): Promise<void> {
    return this.checked(() => { assertIfName(name); assertIfName(parent); assertCidr(cidr); },
      () => this.call('ensureMacvlanShim', [name, parent, cidr]));
  }
  setPromisc(name: string, on: boolean, netns?: string): Promise<void> {
    return this.checked(() => { assertIfName(name); this.optNetns(netns); }, () => this.call('setPromisc', [name, on === true, netns]));
  }

  ensureVxlan(spec: VxlanSpec, netns?: string): Promise<LinkInfo> {
    return this.checked(() => {
      assertIfName(spec.name);
      assertVni(spec.vni);
      assertIp(spec.local);
      if (spec.port !== undefined) assertPort(spec.port);
      if (spec.ttl !== undefined && (!Number.isInteger(spec.ttl) || spec.ttl < 1 || spec.ttl > 255)) {
        throw new InvalidParameterError(`invalid TTL ${spec.ttl}: must be 1..255`);
      }
      if (spec.mtu !== undefined) assertMtu(spec.mtu);
      if (spec.master !== undefined) assertIfName(spec.master);
      this.optNetns(netns);
    }, () => this.call('ensureVxlan', [{
      name: spec.name, vni: spec.vni, local: spec.local, port: spec.port, ttl: spec.ttl, mtu: spec.mtu, master: spec.master,
      ipv6: spec.ipv6 === true,
    }, netns]));
  }
  setVxlanPeers(dev: string, peers: VxlanPeer[], netns?: string): Promise<void> {
    return this.checked(() => {
      assertIfName(dev);
      this.optNetns(netns);
      if (!Array.isArray(peers)) throw new InvalidParameterError('peers must be a list');
      for (const p of peers) {
        if (!Array.isArray(p.ips)) throw new InvalidParameterError(`peer ${p.mac}: ips must be a list`);
        assertMac(p.mac);
        assertIp(p.vtep);
        p.ips.forEach(assertIp);
      }
    }, () => this.call('setVxlanPeers', [dev, peers.map((p) => ({ mac: p.mac, ips: [...p.ips], vtep: p.vtep })), netns]));
  }
  deleteVxlanEntries(dev: string, entries: { macs?: string[]; ips?: string[] }, netns?: string): Promise<void> {
    const macs = entries.macs ?? [];
    const ips = entries.ips ?? [];
    return this.checked(() => {
      assertIfName(dev);
      this.optNetns(netns);
      macs.forEach(assertMac);
      ips.forEach(assertIp);
    }, () => this.call('deleteVxlanEntries', [dev, { macs: [...macs], ips: [...ips] }, netns]));
  }
  listFdb(dev: string, netns?: string): Promise<FdbEntry[]> {
    return this.checked(() => { assertIfName(dev); this.optNetns(netns); }, () => this.call('listFdb', [dev, netns]));
  }
  listNeighbours(dev: string, netns?: string): Promise<NeighbourEntry[]> {
    return this.checked(() => { assertIfName(dev); this.optNetns(netns); }, () => this.call('listNeighbours', [dev, netns]));
  }
  flushConntrack(ip: string, netns?: string): Promise<number> {
    return this.checked(() => { assertIp(ip); this.optNetns(netns); }, () => this.call('flushConntrack', [ip, netns]));
  }

  readSysctl(key: string, netns?: string): Promise<string> {
    return this.checked(() => { assertSysctlKey(key); this.optNetns(netns); }, () => this.call('readSysctl', [key, netns]));
  }
  writeSysctl(key: string, value: string, netns?: string): Promise<void> {
    return this.checked(() => { assertSysctlKey(key); this.optNetns(netns); },
      () => this.call('writeSysctl', [key, String(value), netns]));
  }

  nft(commands: string, opts?: { json?: boolean; handles?: boolean }): Promise<string> {
    return this.call('nft', [commands, opts?.json === true, opts?.handles === true]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // In-flight requests finish first (new ones are refused from here on).
    await Promise.allSettled([...this.pending.values()].map((p) => p.done));
    await this.worker.terminate();
  }
}

/** Starts the kernel worker and resolves once it is ready (libc loaded, home netns held). */
export async function openKernel(): Promise<Kernel> {
  const worker = new Worker(new URL('../kernel/worker.js', import.meta.url));
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(new KernelError(`cannot start kernel worker: ${e.message}`, 'EIO'));
    worker.once('error', onError);
    worker.once('message', (m: KernelReply) => {
      worker.off('error', onError);
      if ('ready' in m) resolve();
      else reject(new KernelError('kernel worker: unexpected first message', 'EIO'));
    });
  });
  return new KernelClient(worker);
}
