import type { Controller } from '../engine/controller.js';
import type { IpamConfigRecord, NetworkRecord } from '../store/records.js';
import { InvalidParameterError } from '../util/errors.js';
import { bool, obj, str, strMap, type Json } from './parse.js';
import { parseFilters, type Router } from './router.js';
import { networkInspect, networkSummary } from './shapes.js';
import { endpointRequest } from './container-routes.js';

// /networks: Docker Engine API paths and shapes (protocols.md A.3, A.4).

export function networkRoutes(router: Router, ctl: Controller): void {
  const { state } = ctl;

  router.add('GET', '/networks', (req) => {
    const filters = parseFilters(req.query.get('filters'));
    const list = [...state.networks.values()].filter((n) => matchesFilters(n, filters, ctl));
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
      ipamDriver: str(ipam, 'Driver'),
      ipamConfig: ipamConfigs(ipam.Config),
      ipamOptions: strMap(ipam, 'Options'),
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
    const filters = parseFilters(req.query.get('filters'));
    const removed = await ctl.networks.prune((n) => matchesLabels(n, filters));
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

const FILTER_KEYS = new Set(['name', 'id', 'driver', 'label', 'type', 'scope', 'dangling']);

function matchesFilters(n: NetworkRecord, f: Map<string, string[]>, ctl: Controller): boolean {
  for (const key of f.keys()) if (!FILTER_KEYS.has(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
  const any = (key: string, test: (v: string) => boolean) => !f.has(key) || f.get(key)!.some(test);
  return (
    any('name', (v) => n.name.includes(v)) &&
    any('id', (v) => n.id.startsWith(v)) &&
    any('driver', (v) => n.driver === v) &&
    any('scope', (v) => n.scope === v) &&
    any('type', (v) => (v === 'builtin' ? n.builtin : v === 'custom' ? !n.builtin : false)) &&
    any('dangling', (v) => (v === 'true' || v === '1') === (!n.builtin && ctl.state.endpointsOf({ networkId: n.id }).length === 0)) &&
    matchesLabels(n, f)
  );
}

function matchesLabels(n: NetworkRecord, f: Map<string, string[]>): boolean {
  const has = (spec: string) => {
    const i = spec.indexOf('=');
    return i < 0 ? spec in n.labels : n.labels[spec.slice(0, i)] === spec.slice(i + 1);
  };
  return (f.get('label') ?? []).every(has) && (f.get('label!') ?? []).every((s) => !has(s));
}
