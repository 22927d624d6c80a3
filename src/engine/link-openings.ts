import type { Firewall, LinkEntry } from '../drivers/bridge/firewall.js';
import { linkEntries } from '../portmap/links.js';
import { ipv4Of, ipv6Of, type ContainerRecord, type EndpointRecord } from '../store/records.js';
import { hasLegacyLinks, isDefaultBridge, legacyLinks } from './container-files.js';
import { parseLink } from './links.js';
import type { State } from './state.js';

// What legacy links open in the firewall of an icc=false default bridge: from the linking
// container to each exposed port of each target that runs. Recomputed whenever one side
// changes (the parent starts or loses a link, a target starts or stops), and only the
// difference goes to the kernel, so an element two links share is neither doubled nor lost.

export class LinkOpenings {
  /** the elements in the kernel for each running parent, by "client . server . proto . port" */
  private readonly open = new Map<string, Map<string, LinkEntry>>();

  constructor(private readonly state: State, private readonly firewall: Firewall) {}

  /** Brings the parent's elements in line with its links and their targets now. */
  async update(parent: ContainerRecord): Promise<void> {
    const want = new Map(this.wanted(parent).map((e) => [keyOf(e), e]));
    const had = this.open.get(parent.id) ?? new Map<string, LinkEntry>();
    const added = [...want].filter(([k]) => !had.has(k)).map(([, e]) => e);
    const gone = [...had].filter(([k]) => !want.has(k)).map(([, e]) => e);
    if (added.length) await this.firewall.addLinks(added);
    // what is in the kernel now is recorded before the removal, which may fail: an element
    // added above must stay known (or close() would leak it)
    this.open.set(parent.id, new Map([...had, ...want]));
    if (gone.length) await this.firewall.removeLinks(gone);
    if (want.size) this.open.set(parent.id, want);
    else this.open.delete(parent.id);
  }

  /** The parent stopped: everything it had goes. Best effort (teardown must not wedge). */
  async close(parent: ContainerRecord): Promise<void> {
    const had = this.open.get(parent.id);
    this.open.delete(parent.id);
    if (had?.size) await this.firewall.removeLinks([...had.values()]).catch(() => undefined);
  }

  /** Running containers with a legacy link to `target` (by name or id); links on user networks are DNS's business. */
  parentsOf(target: ContainerRecord): ContainerRecord[] {
    const names = new Set([target.name, target.id]);
    const out: ContainerRecord[] = [];
    // on every start and stop: only the containers with links (of 10,000, most have none)
    for (const p of this.state.containersWithLinks()) {
      if (p.id === target.id || p.state.status !== 'running') continue;
      if (p.hostConfig.links.some((l) => names.has(parseLink(l).name)) && hasLegacyLinks(p, this.state)) out.push(p);
    }
    return out;
  }

  private wanted(parent: ContainerRecord): LinkEntry[] {
    const mine = this.onDefaultBridge(parent);
    if (!mine) return [];
    // targets that do not run are left out: start has refused them already, and a target
    // that stops later takes its openings with it; on a dual-stack default bridge (berthd
    // --ipv6) the same ports open over IPv6 too
    return legacyLinks(parent, this.state, false).flatMap((l) => {
      const theirs = this.onDefaultBridge(l.target);
      return [
        ...linkEntries(ipv4Of(mine), l.ip, l.target.config.exposedPorts),
        ...(ipv6Of(mine) && theirs && ipv6Of(theirs) ? linkEntries(ipv6Of(mine), ipv6Of(theirs), l.target.config.exposedPorts) : []),
      ];
    });
  }

  private onDefaultBridge(c: ContainerRecord): EndpointRecord | undefined {
    return this.state.endpointsOf({ containerId: c.id }).find((e) => ipv4Of(e) && isDefaultBridge(this.state.networks.get(e.networkId)));
  }
}

function keyOf(e: LinkEntry): string {
  return `${e.clientIp} . ${e.serverIp} . ${e.proto} . ${e.port}`;
}
