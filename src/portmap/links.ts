import type { LinkEntry } from '../drivers/bridge/firewall.js';
import { parsePortKey } from './spec.js';

// `--link` on an icc=false bridge opens exactly the linked container's exposed ports
// (tcp/udp), from the linking container to it; replies come back.

export function linkEntries(clientIp: string, serverIp: string, exposedPorts: string[]): LinkEntry[] {
  const out: LinkEntry[] = [];
  for (const key of exposedPorts) {
    const { port, proto } = parsePortKey(key);
    if (proto !== 'sctp') out.push({ clientIp, serverIp, proto, port });
  }
  return out;
}
