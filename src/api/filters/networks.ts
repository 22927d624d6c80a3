import type { NetworkRecord } from '../../store/records.js';
import { InvalidParameterError } from '../../util/errors.js';
import type { Filters } from './filters.js';

// GET /networks?filters=… and POST /networks/prune?filters=…, as dockerd 20.10 filters
// them (daemon/network/filter.go, daemon/prune.go), recorded in
// test/fixtures/dockerd-20.10/filters.json.

export const NETWORK_FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'] as const;

/**
 * The networks to list. `inUse` says whether a network has endpoints: `dangling=true`
 * means a user-defined network nobody uses. (dockerd 20.10 at API >= 1.28 computes it
 * from a list without containers, so it calls every user-defined network dangling; berth
 * gives the answer the filter was made for, which later dockerd versions give too.)
 */
export function filterNetworks(list: readonly NetworkRecord[], f: Filters, inUse: (n: NetworkRecord) => boolean): NetworkRecord[] {
  f.accept(NETWORK_FILTERS);
  let out = list.filter((n) =>
    f.exact('driver', n.driver) && f.match('name', n.name) && f.match('id', n.id) && f.labels('label', n.labels) && f.exact('scope', n.scope));
  const dangling = f.single('dangling', 'got more than one value for filter key "dangling"');
  if (dangling !== undefined) {
    if (!['true', '1', 'false', '0'].includes(dangling)) {
      throw new InvalidParameterError('invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")');
    }
    const wanted = dangling === 'true' || dangling === '1';
    out = out.filter((n) => (!n.builtin && !inUse(n)) === wanted);
  }
  if (f.has('type')) {
    const types = f.get('type');
    const bad = types.find((t) => t !== 'builtin' && t !== 'custom');
    if (bad !== undefined) throw new InvalidParameterError(`invalid filter: 'type'='${bad}'`);
    out = out.filter((n) => types.includes(n.builtin ? 'builtin' : 'custom'));
  }
  return out;
}
