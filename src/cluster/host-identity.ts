import { randomBytes } from 'node:crypto';

// This host's id in the cluster: made once, kept in the data-root's meta table, so it
// survives restarts and is never the hostname (hosts cloned from one image, or netns labs,
// share hostnames: Docker's serf quit on that).

export interface MetaStore {
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
}

const HOST_ID_KEY = 'cluster-host-id';

/** 32 hex digits, the same on every start of this data-root. */
export function hostIdentity(meta: MetaStore): string {
  let id = meta.getMeta(HOST_ID_KEY);
  if (!id) meta.setMeta(HOST_ID_KEY, (id = randomBytes(16).toString('hex')));
  return id;
}
