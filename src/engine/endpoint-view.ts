import type { EndpointView, PortView, SandboxView } from '../driverapi/contract.js';
import type { ContainerRecord, EndpointRecord } from '../store/records.js';
import { linkLocalCidr } from '../util/link-local.js';

/** What a driver sees of one endpoint. */
export function viewOf(ep: EndpointRecord, publishes: boolean): EndpointView {
  return {
    id: ep.id,
    containerId: ep.containerId,
    ifName: ep.ifName,
    addresses: ep.addresses,
    mac: ep.mac,
    linkName: ep.linkName,
    linkLocal: (ep.linkLocalIps ?? []).map(linkLocalCidr),
    driverOpts: ep.driverOpts ?? {},
    publishes,
    prepared: !!ep.prepared,
  };
}

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };

/** "80/tcp" → {proto: 6, port: 80} */
function portOf(spec: string): PortView {
  const [port, proto = 'tcp'] = spec.split('/');
  return { proto: PROTOCOLS[proto] ?? 6, port: Number(port) };
}

/** What a driver is told of the sandbox an endpoint joins: its path, the container's exposed ports and -p bindings. */
export function sandboxViewOf(c: ContainerRecord, key: string): SandboxView {
  const bindings = Object.entries(c.hostConfig.portBindings ?? {}).flatMap(([spec, list]) => list.map((b) => {
    const [first, last] = (b.HostPort || '0').split('-').map(Number);
    return { ...portOf(spec), hostIp: b.HostIp ?? '', hostPort: first ?? 0, hostPortEnd: last ?? first ?? 0 };
  }));
  const exposed = [...new Set([...c.config.exposedPorts, ...Object.keys(c.hostConfig.portBindings ?? {})])].map(portOf);
  return { key, exposedPorts: exposed, portBindings: bindings };
}
