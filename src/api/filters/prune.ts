import type { Filters } from './filters.js';
import { untilInstant } from './until.js';

// POST /networks/prune and /containers/prune?filters=…: dockerd 20.10 takes the same three
// keys for both and matches them alike (daemon/prune.go), recorded in
// test/fixtures/dockerd-20.10/filters.json.

export const PRUNE_FILTERS = ['label', 'label!', 'until'] as const;

/** What a prune filter looks at: when the object was made and its labels. */
export interface Prunable {
  created: string;
  labels: Record<string, string>;
}

/**
 * Which objects a prune may remove, by the filters alone (the engine adds its own rules:
 * not predefined, not in use). `label!` excludes an object only when every one of its
 * values matches, as dockerd's MatchKVList does.
 */
export function pruneFilter(f: Filters, now = Date.now()): (o: Prunable) => boolean {
  f.accept(PRUNE_FILTERS);
  const until = f.single('until', 'more than one until filter specified');
  const limit = until === undefined ? undefined : untilInstant(until, now);
  return (o) =>
    (limit === undefined || Date.parse(o.created) <= limit) &&
    f.labels('label', o.labels) &&
    !(f.has('label!') && f.labels('label!', o.labels));
}
