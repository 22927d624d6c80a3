import { existsSync } from 'node:fs';
import type { PortMapping } from '../cni/port-mappings.js';
import type { CniInterface, CniResult } from '../cni/types.js';
import { CNI_ERRORS } from '../cni/types.js';
import type { Kernel } from '../kernel/types.js';
import { ipv4Of, ipv6Of, type ContainerRecord, type EndpointRecord, type NetworkRecord } from '../store/records.js';
import { BerthError, NotFoundError } from '../util/errors.js';
import { isUserDefined } from './container-files.js';
import type { ContainerService } from './containers.js';
import { EMBEDDED_DNS_ADDRESS } from '../dns/listener.js';
import { viewOf } from './endpoint-view.js';
import type { NetworkService } from './networks.js';
import type { State } from './state.js';

// Sandboxes of other runtimes on berth's networks, through CNI (berth-cni, src/cni/, is
// the plugin; this is what it asks berthd for). A CNI ADD gives a netns the runtime made:
// it is recorded as a container of berth's with `attachment` set and no process, and
// joined to one network like any other (address, names, firewall, ports); DEL undoes it.
// The runtime names it by (CNI_CONTAINERID, CNI_IFNAME); berth by `cni-<id12>-<ifname>`,
// and DNS by the runtime's names for it (K8S_POD_NAME, the `aliases` capability).

/** What ADD brings, already read from the CNI config, environment and capabilities. */
export interface AddRequest {
  containerId: string;
  ifName: string;
  netns: string;
  /** berth's network: name or id */
  network: string;
  /** names it answers to on the network (the pod's name, aliases) */
  names: string[];
  /** addresses asked for (ips capability or args; CIDR or plain) */
  ips: string[];
  mac?: string;
  portMappings: PortMapping[];
  /** berth binds the host ports (a runtime that does not, unlike podman) */
  bindPorts: boolean;
  labels: Record<string, string>;
}

/** Which attachment: a runtime's container and its interface. */
export interface AttachmentKey {
  containerId: string;
  ifName: string;
}

/** A CNI error with its code (spec's table; 100+ berth's own), carried to the plugin as `cniCode`. */
export class CniError extends BerthError {
  constructor(message: string, status: number, readonly cniCode: number) {
    super(message, status);
  }
}

export class Attachments {
  constructor(
    private readonly state: State,
    private readonly containers: ContainerService,
    private readonly networks: NetworkService,
    private readonly kernel: Kernel,
  ) {}

  /** The attachment of a runtime's container interface, if berth holds one. */
  find(key: AttachmentKey): ContainerRecord | undefined {
    const c = this.state.containerNamed(nameOf(key));
    return c?.attachment?.containerId === key.containerId && c.attachment.ifName === key.ifName ? c : undefined;
  }

  async add(req: AddRequest): Promise<CniResult> {
    const net = this.network(req.network);
    if (!existsSync(req.netns) || !(await this.kernel.netnsExists(req.netns))) {
      throw new CniError(`CNI_NETNS: no network namespace at ${req.netns}`, 400, CNI_ERRORS.invalidEnv);
    }
    const old = this.find(req);
    if (old?.attachment?.netns === req.netns) {
      throw new CniError(`container ${req.containerId} already has interface ${req.ifName} on network ${net.name}`, 409, CNI_ERRORS.conflict);
    }
    // the runtime lost an earlier netns without a DEL (a crash): that one's address and ports go first
    if (old) await this.containers.remove(old.id, { force: true });
    const ipv4 = req.ips.map(plain).find((ip) => !ip.includes(':'));
    const ipv6 = req.ips.map(plain).find((ip) => ip.includes(':'));
    const c = await this.containers.attach({
      name: nameOf(req),
      network: net.id,
      endpoint: { ipv4, ipv6, mac: req.mac, aliases: isUserDefined(net) ? unique(req.names) : [] },
      portBindings: portBindingsOf(req.portMappings),
      labels: req.labels,
      attachment: { runtime: 'cni', containerId: req.containerId, ifName: req.ifName, netns: req.netns, ...(req.bindPorts ? { bindsPorts: true } : {}) },
    });
    return this.resultOf(c);
  }

  /** Idempotent, as the spec wants: nothing held (or the netns gone) is no error. */
  async del(key: AttachmentKey): Promise<void> {
    const c = this.find(key);
    if (c) await this.containers.remove(c.id, { force: true });
  }

  /** The attachment is as ADD left it: recorded, its interface in the netns with its address and MAC. */
  async check(key: AttachmentKey & { netns: string }): Promise<void> {
    const c = this.find(key);
    if (!c) throw new CniError(`berth holds no attachment of container ${key.containerId} on ${key.ifName}`, 404, CNI_ERRORS.unknownContainer);
    const { ep } = this.endpointOf(c);
    const link = await this.kernel.getLink(key.ifName, key.netns).catch(() => null);
    if (!link) throw new CniError(`interface ${key.ifName} is missing from netns ${key.netns}`, 409, CNI_ERRORS.checkFailed);
    if (link.mac !== ep.mac) throw new CniError(`interface ${key.ifName} has MAC ${link.mac}, berth gave it ${ep.mac}`, 409, CNI_ERRORS.checkFailed);
    const present = new Set((await this.kernel.listAddresses(key.netns)).filter((a) => a.ifname === key.ifName).map((a) => a.cidr));
    for (const cidr of ep.addresses.filter((a) => !/^fe80:/i.test(a))) {
      if (!present.has(cidr)) throw new CniError(`interface ${key.ifName} lacks its address ${cidr}`, 409, CNI_ERRORS.checkFailed);
    }
  }

  /** Every attachment on the network that the runtime no longer lists goes; returns their names. */
  async gc(network: string, valid: AttachmentKey[]): Promise<string[]> {
    const net = this.network(network);
    const keep = new Set(valid.map(nameOf));
    const gone: string[] = [];
    for (const c of [...this.state.containers.values()]) {
      if (!c.attachment || keep.has(c.name) || !this.state.endpointsOf({ containerId: c.id, networkId: net.id }).length) continue;
      await this.containers.remove(c.id, { force: true });
      gone.push(c.name);
    }
    return gone;
  }

  /** Ready for ADD on this network (the plugin says 50 when berthd does not answer at all). */
  status(network: string): void {
    this.network(network);
  }

  /** The CNI 1.1 result of an attachment: the bridge (or parent), the host end, the sandbox's interface; its addresses, routes, DNS. */
  async resultOf(c: ContainerRecord): Promise<CniResult> {
    const { net, ep } = this.endpointOf(c);
    const plan = this.networks.driverOf(net).planEndpoint(this.networks.view(net), viewOf(ep, false));
    const interfaces: CniInterface[] = [];
    if (plan?.link.kind === 'veth' || plan?.link.kind === 'routed-veth') {
      for (const name of plan.link.kind === 'veth' ? [plan.link.master, plan.link.hostName] : [plan.link.hostName]) {
        const link = await this.kernel.getLink(name);
        interfaces.push({ name, mac: link?.mac ?? '' });
      }
    } else if (plan?.link.kind === 'macvlan') {
      const link = await this.kernel.getLink(plan.link.parent);
      interfaces.push({ name: plan.link.parent, mac: link?.mac ?? '' });
    }
    const sandbox = interfaces.length;
    interfaces.push({ name: ep.ifName, mac: ep.mac, sandbox: c.attachment!.netns, ...(plan?.mtu ? { mtu: plan.mtu } : {}) });
    const gateways = { 4: plan?.gateway4, 6: plan?.gateway6 };
    const ips = ep.addresses.map((address) => {
      const gateway = gateways[address.includes(':') ? 6 : 4];
      return { address, ...(gateway ? { gateway } : {}), interface: sandbox };
    });
    const routes = [
      ...(gateways[4] && ipv4Of(ep) && !net.internal ? [{ dst: '0.0.0.0/0', gw: gateways[4] }] : []),
      ...(gateways[6] && ipv6Of(ep) && !net.internal ? [{ dst: '::/0', gw: gateways[6] }] : []),
      ...(plan?.routes ?? []).map((r) => ({ dst: r.dst, ...(r.via ? { gw: r.via } : {}) })),
    ];
    return {
      cniVersion: '1.1.0',
      interfaces,
      ips,
      routes,
      // the embedded resolver answers in the sandbox itself, as in berth's own containers
      dns: isUserDefined(net) ? { nameservers: [EMBEDDED_DNS_ADDRESS], search: [], options: [] } : {},
    };
  }

  private network(term: string): NetworkRecord {
    try {
      return this.state.findNetwork(term);
    } catch (err) {
      if (err instanceof NotFoundError) throw new CniError(`berth has no network ${term} (the CNI config's "network")`, 404, CNI_ERRORS.invalidConfig);
      throw err;
    }
  }

  private endpointOf(c: ContainerRecord): { net: NetworkRecord; ep: EndpointRecord } {
    const [ep] = this.state.endpointsOf({ containerId: c.id });
    const net = ep && this.state.networks.get(ep.networkId);
    if (!ep || !net) throw new CniError(`attachment ${c.name} has no endpoint`, 409, CNI_ERRORS.checkFailed);
    return { net, ep };
  }
}

/** berth's name of an attachment: unique per runtime container and interface, a valid container name. */
export function nameOf(key: AttachmentKey): string {
  return `cni-${key.containerId.slice(0, 12)}-${key.ifName}`;
}

function plain(ip: string): string {
  const slash = ip.indexOf('/');
  return slash < 0 ? ip : ip.slice(0, slash);
}

function unique(names: string[]): string[] {
  return [...new Set(names.filter(Boolean))];
}

/** portMappings as Docker's HostConfig.PortBindings ("80/tcp": [{HostIp, HostPort}]). */
function portBindingsOf(mappings: PortMapping[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const m of mappings) {
    const key = `${m.containerPort}/${m.protocol}`;
    (out[key] ??= []).push({ HostIp: m.hostIP, HostPort: String(m.hostPort) });
  }
  return out;
}
