import { ConflictError, NotFoundError } from '../util/errors.js';
import type { ClusterStore } from './store.js';

// Claims: keys that exactly one host may create (a network's name, its VNI, an address),
// made in one etcd transaction: If(CreateRevision(key) == 0 for every key) Then(put all).
// Two hosts claiming the same key at once cannot both win; the loser gets a ConflictError
// that says what was taken and by whom. A release deletes a key only while it still holds
// the releaser's value, so a host never removes what another host claimed since.

export interface Claim {
  key: string;
  /** what the key will hold (JSON text: an id, a record) */
  value: string;
  /** how the error names it: 'network name "web"', 'VNI 4097', 'address 10.0.9.2 on network 1f3c…' */
  what: string;
}

export interface ClaimOptions {
  /** the lease the keys hang on (the host's, lease.ts); none: they stay until released */
  lease?: string;
  /** keys that must exist for the claim to be made (an endpoint's network), each with how the error names it */
  requires?: { key: string; what: string }[];
  /** keys put in the same transaction whoever held them (no lease): a marker others compare against */
  touch?: { key: string; value: string }[];
}

/** Creates every key, or none: ConflictError naming the first that already exists. */
export async function claimAll(store: ClusterStore, claims: Claim[], opts: ClaimOptions = {}): Promise<void> {
  if (claims.length === 0) return;
  const requires = opts.requires ?? [];
  const res = await store.txn(
    `claim ${claims.map((c) => c.what).join(', ')}`,
    [
      ...claims.map((c) => ({ key: Buffer.from(c.key), target: 'Create' as const, result: 'Equal' as const, create_revision: 0 })),
      ...requires.map((r) => ({ key: Buffer.from(r.key), target: 'Create' as const, result: 'Greater' as const, create_revision: 0 })),
    ],
    [
      ...claims.map((c) => ({ request_put: { key: Buffer.from(c.key), value: Buffer.from(c.value), lease: opts.lease } })),
      ...(opts.touch ?? []).map((t) => ({ request_put: { key: Buffer.from(t.key), value: Buffer.from(t.value) } })),
    ],
    [
      ...claims.map((c) => ({ request_range: { key: Buffer.from(c.key) } })),
      ...requires.map((r) => ({ request_range: { key: Buffer.from(r.key), count_only: true } })),
    ],
  );
  if (res.succeeded) return;
  const missing = requires.find((_, i) => Number(res.responses[claims.length + i]?.response_range?.count ?? 0) === 0);
  if (missing) throw new NotFoundError(`${missing.what} does not exist in the cluster any more`);
  const taken = claims.map((c, i) => ({ c, kv: res.responses[i]?.response_range?.kvs[0] })).find((x) => x.kv);
  // none found: the key was claimed and released between the compare and the read
  if (!taken?.kv) throw new ConflictError(`${claims[0].what}: claimed by another host at the same moment, try again`);
  throw new ConflictError(`${taken.c.what} is already taken in the cluster (held by ${describeHolder(taken.kv.value.toString())})`);
}

export function claim(store: ClusterStore, key: string, value: string, what: string, opts: ClaimOptions = {}): Promise<void> {
  return claimAll(store, [{ key, value, what }], opts);
}

/**
 * Deletes key if it still holds value (or, with no value given, whatever it holds);
 * true when it went, false when it was gone or held by someone else. `alsoDelete`: keys
 * deleted in the same transaction either way (an endpoint's record with its address).
 */
export async function release(store: ClusterStore, key: string, value?: string, opts: { alsoDelete?: string[] } = {}): Promise<boolean> {
  const also = (opts.alsoDelete ?? []).map((k) => ({ request_delete_range: { key: Buffer.from(k) } }));
  if (value === undefined && also.length === 0) return (await store.delete(key)) > 0;
  const res = await store.txn(
    `release ${key}`,
    value === undefined ? [] : [{ key: Buffer.from(key), target: 'Value', result: 'Equal', value: Buffer.from(value) }],
    [{ request_delete_range: { key: Buffer.from(key) } }, ...also],
    also,
  );
  return res.succeeded;
}

/** Releases every claim, each only while it holds its own value; in one transaction. */
export async function releaseAll(store: ClusterStore, claims: Pick<Claim, 'key' | 'value'>[]): Promise<boolean> {
  if (claims.length === 0) return true;
  const res = await store.txn(
    `release ${claims.map((c) => c.key).join(', ')}`,
    claims.map((c) => ({ key: Buffer.from(c.key), target: 'Value', result: 'Equal', value: Buffer.from(c.value) })),
    claims.map((c) => ({ request_delete_range: { key: Buffer.from(c.key) } })),
  );
  return res.succeeded;
}

/** The holder as one short phrase: an id (shortened), or a record's "host"/"id" field. */
function describeHolder(value: string): string {
  try {
    const v = JSON.parse(value) as unknown;
    if (typeof v === 'string') return short(v);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const parts = [o.id ?? o.networkId ?? o.endpointId, o.host && `host ${String(o.host)}`].filter(Boolean).map((x) => short(String(x)));
      if (parts.length) return parts.join(' on ');
    }
  } catch {
    // not JSON: show it as it is
  }
  return short(value);
}

function short(s: string): string {
  return /^[0-9a-f]{24,}$/.test(s) ? s.slice(0, 12) : s.slice(0, 64);
}
