import type { Kernel, LinkInfo } from '../../kernel/types.js';
import { ROUTED_LINK } from './config.js';

/**
 * What berth's bridges left after a crash: bridges named like a user network's
 * (br-<12 hex>) that no network knows, and veths on a known bridge that no endpoint
 * knows, and host ends of routed networks (rt<13 hex>, on no bridge) that no endpoint
 * knows. Bridges of other names are never touched: they may be the user's.
 */
export async function removeStaleLinks(kernel: Kernel, links: readonly LinkInfo[], bridges: Set<string>, knownLinks: Set<string>): Promise<void> {
  const berthBridges = new Set(links.filter((l) => bridges.has(l.name)).map((l) => l.index));
  for (const l of links) {
    const staleBridge = l.kind === 'bridge' && /^br-[0-9a-f]{12}$/.test(l.name) && !bridges.has(l.name);
    const staleVeth = l.kind === 'veth' && (berthBridges.has(l.master) || (!l.master && ROUTED_LINK.test(l.name))) && !knownLinks.has(l.name);
    if (staleBridge || staleVeth) await kernel.deleteLink(l.name);
  }
}
