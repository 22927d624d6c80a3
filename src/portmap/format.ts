import { NotFoundError } from '../util/errors.js';
import { joinHostPort } from '../util/ip-family.js';
import type { PublishedPort } from './mapper.js';
import { parsePortKey, portKey } from './spec.js';

// Docker's two views of published ports: NetworkSettings.Ports in inspect, and the lines
// of `docker port NAME [PORT[/proto]]`.

/** NetworkSettings.Ports: every exposed port, null when it is not published. */
export type NetworkPortsJson = Record<string, { HostIp: string; HostPort: string }[] | null>;

export function networkSettingsPorts(published: PublishedPort[], exposed: string[] = []): NetworkPortsJson {
  const out: NetworkPortsJson = {};
  for (const key of exposed) out[key] = null;
  for (const p of published) {
    const key = portKey(p.containerPort, p.proto);
    (out[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  return out;
}

/**
 * `berth port NAME` → ["80/tcp -> 0.0.0.0:8080", "80/tcp -> [::]:8080", …]; with a
 * PORT[/proto] filter only the host addresses ("0.0.0.0:8080"), and Docker's error when that port is not published.
 */
export function portLines(ports: NetworkPortsJson, containerName: string, filter?: string): string[] {
  if (filter !== undefined) {
    const { port, proto } = parsePortKey(filter);
    const key = portKey(port, proto);
    const bindings = ports[key];
    if (!bindings?.length) throw new NotFoundError(`No public port '${key}' published for ${containerName}`);
    return bindings.map((b) => joinHostPort(b.HostIp, b.HostPort));
  }
  const lines: { port: number; key: string; text: string }[] = [];
  for (const [key, bindings] of Object.entries(ports)) {
    const { port } = parsePortKey(key);
    for (const b of bindings ?? []) lines.push({ port, key, text: `${key} -> ${joinHostPort(b.HostIp, b.HostPort)}` });
  }
  // by port, then proto; one port's bindings in their own order (0.0.0.0 before ::, as docker prints them)
  return lines.sort((a, b) => a.port - b.port || a.key.localeCompare(b.key)).map((l) => l.text);
}
