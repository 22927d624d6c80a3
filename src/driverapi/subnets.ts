import { cidrContains } from '../util/ip.js';
import type { InterfacePlan, SubnetView } from './contract.js';

// What drivers ask of a network's subnets, whichever families it has (IPv4, IPv6 or both):
// one answer per family, so no driver assumes the first subnet is the IPv4 one.

export type Family = 4 | 6;

export function familyOf(cidrOrIp: string): Family {
  return cidrOrIp.includes(':') ? 6 : 4;
}

/** The network's subnet of that family (a network has at most one of each). */
export function subnetOf(subnets: SubnetView[], family: Family): SubnetView | undefined {
  return subnets.find((s) => familyOf(s.subnet) === family);
}

/** The subnet's gateway with the subnet's prefix ("172.18.0.1/16", "fd00:1::1/64"), for an interface. */
export function gatewayCidr(s: SubnetView | undefined): string | undefined {
  return s?.gateway ? `${s.gateway}/${s.subnet.split('/')[1]}` : undefined;
}

/** The gateway of the subnet each of the endpoint's addresses is in, per family. */
export function gatewaysFor(subnets: SubnetView[], addresses: string[]): Pick<InterfacePlan, 'gateway4' | 'gateway6'> {
  const out: Pick<InterfacePlan, 'gateway4' | 'gateway6'> = {};
  for (const a of addresses) {
    const ip = a.split('/')[0];
    const v6 = familyOf(ip) === 6;
    const s = subnets.find((x) => x.gateway && familyOf(x.subnet) === familyOf(ip) && (v6 || cidrContains(x.subnet, ip)));
    if (!s?.gateway) continue;
    if (v6) out.gateway6 ??= s.gateway;
    else out.gateway4 ??= s.gateway;
  }
  return out;
}
