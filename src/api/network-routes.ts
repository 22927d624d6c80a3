import type { Controller } from '../engine/controller.js';
import type { IpamConfigRecord, NetworkRecord } from '../store/records.js';
import { InvalidParameterError } from '../util/errors.js';
import { asGiven, bool, obj, str, strMap, type Json } from './parse.js';
import { Filters } from './filters/filters.js';
import { filterNetworks } from './filters/networks.js';
import { pruneFilter } from './filters/prune.js';
import type { Router } from './router.js';
import { networkInspect, networkSummary } from './shapes.js';
import { endpointRequest } from './container-routes.js';

// /networks: Docker Engine API paths and shapes (protocols.md A.3, A.4).

export function networkRoutes(router: Router, ctl: Controller): void {
  const { state } = ctl;

  router.add('GET', '/networks', (req) => {
    const inUse = (n: NetworkRecord) => state.endpointsOf({ networkId: n.id }).length > 0;
    const list = filterNetworks([...state.networks.values()], Filters.parse(req.query.get('filters')), inUse);
    return { status: 200, body: list.map(networkSummary) };
  });

  router.add('GET', '/networks/{id}', (req) => ({ status: 200, body: networkInspect(state.findNetwork(req.params.id), state) }));

  router.add('POST', '/networks/create', async (req) => {
    const body = obj(await req.body(), 'body');
    // a missing or blank name is refused by the engine, in dockerd's words
    const name = str(body, 'Name') ?? '';
    const ipam = obj(body.IPAM, 'IPAM');
    const n = await ctl.networks.create({
      name,
      driver: str(body, 'Driver'),
      internal: bool(body, 'Internal'),
      attachable: bool(body, 'Attachable'),
      enableIPv6: bool(body, 'EnableIPv6'),
      // Docker 28's field (API 1.48); taken from any client so --ipv4=false works
      enableIPv4: body.EnableIPv4 === undefined || body.EnableIPv4 === null ? undefined : bool(body, 'EnableIPv4'),
      ipamDriver: str(ipam, 'Driver'),
      ipamConfig: ipamConfigs(ipam.Config),
      ipamOptions: asGiven(ipam, 'Options', strMap),
      options: strMap(body, 'Options'),
      labels: strMap(body, 'Labels'),
    });
    return { status: 201, body: { Id: n.id, Warning: '' } };
  });

  router.add('DELETE', '/networks/{id}', async (req) => {
    await ctl.networks.remove(req.params.id);
    return { status: 204 };
  });

  router.add('POST', '/networks/prune', async (req) => {
    const removed = await ctl.networks.prune(pruneFilter(Filters.parse(req.query.get('filters'))));
    return { status: 200, body: { NetworksDeleted: removed.length ? removed : null } };
  });

  router.add('POST', '/networks/{id}/connect', async (req) => {
    const body = obj(await req.body(), 'body');
    const container = str(body, 'Container');
    if (!container) throw new InvalidParameterError('Container is required');
    await ctl.containers.connect(req.params.id, container, endpointRequest(obj(body.EndpointConfig, 'EndpointConfig')));
    return { status: 200 };
  });

  router.add('POST', '/networks/{id}/disconnect', async (req) => {
    const body = obj(await req.body(), 'body');
    const container = str(body, 'Container');
    if (!container) throw new InvalidParameterError('Container is required');
    await ctl.containers.disconnect(req.params.id, container, bool(body, 'Force'));
    return { status: 200 };
  });
}

function ipamConfigs(v: unknown): IpamConfigRecord[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new InvalidParameterError('IPAM.Config must be a list');
  return v.map((x: unknown) => {
    const c = obj(x, 'IPAM.Config[]') as Json;
    const subnet = str(c, 'Subnet');
    const out: IpamConfigRecord = { subnet: subnet ?? '' };
    const range = str(c, 'IPRange');
    const gw = str(c, 'Gateway');
    const aux = strMap(c, 'AuxiliaryAddresses');
    if (range) out.ipRange = range;
    if (gw) out.gateway = gw;
    if (Object.keys(aux).length) out.auxAddresses = aux;
    return out;
  });
}
