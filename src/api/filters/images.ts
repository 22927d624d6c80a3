import type { ImageRecord } from '../../images/store.js';
import { splitTag } from '../../images/reference.js';
import { Filters, invalidFilter } from './filters.js';
import { pathPattern } from './path-match.js';

// GET /images/json?filters=…, as dockerd 20.10 filters (daemon/images/images.go),
// recorded in test/fixtures/dockerd-20.10/filters.json.

export const IMAGE_FILTERS = ['before', 'dangling', 'label', 'reference', 'since'] as const;

/**
 * The images to list, newest first, each with the tags to show: a `reference` filter
 * shows only the tags it matches, as dockerd does. `get` resolves before/since (its
 * NotFoundError is dockerd's "No such image" 404).
 */
export function filterImages(list: readonly ImageRecord[], f: Filters, get: (ref: string) => ImageRecord): ImageRecord[] {
  f.accept(IMAGE_FILTERS);
  let danglingOnly = false;
  if (f.has('dangling')) {
    danglingOnly = f.get('dangling').includes('true');
    if (!danglingOnly && !f.get('dangling').includes('false')) throw invalidFilter('dangling', f.get('dangling'));
  }
  const before = f.get('before').map(get).at(-1);
  const since = f.get('since').map(get).at(-1);
  const patterns = f.get('reference').map(pathPattern);
  const out: ImageRecord[] = [];
  for (const img of list) {
    if (before && Date.parse(img.created) >= Date.parse(before.created)) continue;
    if (since && Date.parse(img.created) <= Date.parse(since.created)) continue;
    if (f.has('label') && !f.labels('label', img.config.labels)) continue;
    const tags = f.has('reference') ? img.repoTags.filter((t) => patterns.some((re) => re.test(t) || re.test(splitTag(t).name))) : img.repoTags;
    if (!tags.length) {
      // untagged (or no tag left by `reference`): dangling, unless a filter rules that out
      if (f.has('reference') || (f.has('dangling') && !danglingOnly)) continue;
    } else if (danglingOnly) continue;
    out.push(tags === img.repoTags ? img : { ...img, repoTags: tags });
  }
  return out;
}
