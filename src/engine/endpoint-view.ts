import type { EndpointView } from '../driverapi/contract.js';
import type { EndpointRecord } from '../store/records.js';
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
  };
}
