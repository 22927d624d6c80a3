// The portMappings capability (CNI CONVENTIONS.md), read and checked in one place: by
// berth-cni from the runtime's config, and by berthd from the API body (any client may
// call /berth/cni/add). `fail` throws the caller's own error with the message.

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP: string;
}

export function readPortMappings(value: unknown, where: string, fail: (message: string) => never): PortMapping[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(`${where} must be a list`);
  return (value as unknown[]).map((v) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) fail(`${where}[] must be an object`);
    const m = v as Record<string, unknown>;
    const port = (k: string): number => {
      const n = m[k];
      if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 65535) fail(`${where}: ${k} ${JSON.stringify(n)} is not a port (1-65535)`);
      return n as number;
    };
    const given = m.protocol ?? 'tcp';
    const protocol = typeof given === 'string' ? given.toLowerCase() : '';
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') fail(`${where}: protocol ${JSON.stringify(given)} is not tcp, udp or sctp`);
    const hostIP = m.hostIP ?? '';
    if (typeof hostIP !== 'string') fail(`${where}: hostIP must be a string`);
    return { hostPort: port('hostPort'), containerPort: port('containerPort'), protocol: protocol as PortMapping['protocol'], hostIP: hostIP as string };
  });
}
