import { isIPv4, isIPv6 } from 'node:net';
import { InvalidParameterError } from './errors.js';

// EndpointConfig.IPAMConfig.LinkLocalIPs (`--link-local-ip`): extra addresses on the
// endpoint's interface, each with its own scope's prefix (169.254.0.0/16, fe80::/64), as
// libnetwork adds them. dockerd refuses anything else with these two messages; berth does
// so at create/connect (a 400), before anything is made.

export function checkLinkLocalIps(ips: string[]): void {
  // Go's %v of the whole list: "[169.254.1.1 bogus]"
  if (ips.some((ip) => !isIPv4(ip) && !isIPv6(ip))) throw new InvalidParameterError(`Invalid link-local IP address: [${ips.join(' ')}]`);
  const outside = ips.find((ip) => !isLinkLocal(ip));
  if (outside) throw new InvalidParameterError(`invalid link local IP address: ${outside}`);
}

function isLinkLocal(ip: string): boolean {
  return isIPv4(ip) ? ip.startsWith('169.254.') : /^fe[89ab][0-9a-f]:/i.test(ip);
}

/** The address as the interface gets it: "169.254.7.7/16", "fe80::7/64". */
export function linkLocalCidr(ip: string): string {
  return `${ip}/${isIPv4(ip) ? 16 : 64}`;
}
