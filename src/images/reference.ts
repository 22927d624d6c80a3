import { InvalidParameterError } from '../util/errors.js';

// Image references the way the docker CLI and compose spell them: "bb", "bb:1",
// "docker.io/library/bb:latest", "sha256:<hex>", a hex id prefix. Tags are stored in
// Docker's "familiar" form ("bb:latest", "myorg/bb:1").

const NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** "docker.io/library/bb" → "bb", "docker.io/x/y" → "x/y"; others unchanged. */
function familiarName(name: string): string {
  for (const prefix of ['docker.io/library/', 'index.docker.io/library/', 'docker.io/', 'index.docker.io/']) {
    if (name.startsWith(prefix)) return name.slice(prefix.length);
  }
  return name;
}

/** Splits "host:5000/x/y:tag" into name and tag (the tag is after a ':' past the last '/'). */
export function splitTag(ref: string): { name: string; tag?: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref };
}

/** A repository + tag as stored: "bb:latest". Throws 400 on a malformed reference. */
export function normalizeTag(repo: string, tag?: string): string {
  if (repo.includes('@')) throw new InvalidParameterError(`berth images have no digests: ${repo}`);
  const split = splitTag(repo);
  const name = familiarName(split.name);
  const t = tag || split.tag || 'latest';
  if (!NAME.test(name)) throw new InvalidParameterError(`invalid reference format: repository name (${name}) must be lowercase`);
  if (!TAG.test(t)) throw new InvalidParameterError(`invalid reference format: bad tag ${JSON.stringify(t)}`);
  return `${name}:${t}`;
}

/** The tag a reference would name, or undefined when it cannot be a tag (ids, digests). */
export function tagOf(ref: string): string | undefined {
  try {
    return normalizeTag(ref);
  } catch {
    return undefined;
  }
}

/** The hex part of "sha256:<hex>" or of a bare hex prefix; undefined when not hex. */
export function idPrefixOf(ref: string): string | undefined {
  const hex = ref.startsWith('sha256:') ? ref.slice('sha256:'.length) : ref;
  return /^[0-9a-f]{1,64}$/.test(hex) ? hex : undefined;
}
