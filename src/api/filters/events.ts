import type { BerthEvent } from '../../engine/events.js';
import type { Filters } from './filters.js';

// GET /events?filters=…, as dockerd 20.10 filters (daemon/events/filter.go), recorded in
// test/fixtures/dockerd-20.10/filters.json. Unlike the lists, dockerd takes any key here
// and ignores those it does not know, so berth does too.

/** Event actions dockerd matches by prefix (`exec_start` matches "exec_start: sh -c …"). */
const PREFIX_ACTIONS = ['health_status', 'exec_create', 'exec_start'];

/** Keys that name the event's actor: a prefix of its id or of its name attribute. */
const ACTOR_KEYS = ['container', 'network', 'daemon', 'plugin', 'volume', 'node', 'service', 'secret', 'config'];

export function eventFilter(f: Filters): (ev: BerthEvent) => boolean {
  const prefixAction = f.get('event').some((v) => PREFIX_ACTIONS.includes(v));
  return (ev) => {
    const attrs = ev.Actor.Attributes;
    return (prefixAction ? f.prefix('event', ev.Action) : f.exact('event', ev.Action)) &&
      f.exact('type', ev.Type) &&
      f.exact('scope', ev.scope) &&
      ACTOR_KEYS.every((key) => f.prefix(key, ev.Actor.ID) || f.prefix(key, attrs.name ?? '')) &&
      imageMatches(f, ev) &&
      f.labels('label', attrs);
  };
}

/** `image`: the image's id or name, with or without its tag (a container event's image attribute). */
function imageMatches(f: Filters, ev: BerthEvent): boolean {
  const name = ev.Actor.Attributes[ev.Type === 'container' ? 'image' : 'name'] ?? '';
  return [ev.Actor.ID, name, stripTag(ev.Actor.ID), stripTag(name)].some((v) => f.exact('image', v));
}

function stripTag(ref: string): string {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(0, colon) : ref;
}
