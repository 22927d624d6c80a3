// Names and ids as Docker spells them: validation of user-chosen names, random 64-hex
// ids, their 12-char short form, and the host-side veth name of an endpoint.

import { createHash, randomBytes } from 'node:crypto';
import { InvalidParameterError } from './errors.js';

const NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
/** Docker requires at least two characters in a container name. */
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * Validates a container name; a leading "/" (Docker's stored form) is accepted and
 * stripped. Returns the bare name.
 */
export function validateContainerName(name: string): string {
  const bare = typeof name === 'string' && name.startsWith('/') ? name.slice(1) : name;
  if (typeof bare !== 'string' || !CONTAINER_NAME.test(bare)) {
    throw new InvalidParameterError(
      `Invalid container name (${String(name)}), only ${NAME_CHARS} are allowed`);
  }
  return bare;
}

/**
 * Validates a network name as dockerd 20.10 does (test/fixtures/dockerd-20.10/
 * network-names.json): any string that is not empty or only white space — spaces, slashes,
 * unicode, a leading dash, any length. Nothing the kernel or the resolver sees is made from
 * the name (bridges are named after the id), so any name is safe to keep. dockerd answers
 * the refusal with a 500; it is the caller's mistake, so berth says the same with a 400.
 */
export function validateNetworkName(name: string): string {
  if (!isValidNetworkName(name)) throw new InvalidParameterError(`invalid name: ${String(name)}`);
  return name;
}

export function isValidNetworkName(name: string): boolean {
  return typeof name === 'string' && name.trim() !== '';
}

/** A fresh 64-char lowercase hex id (256 random bits). */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** The 12-char form shown by `docker ps` / `docker network ls`. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

const HEX_PREFIX = /^[0-9a-f]{1,64}$/;

/** Could `s` be (a prefix of) an id? Lowercase hex, 1..64 chars. */
export function isHexPrefix(s: string): boolean {
  return typeof s === 'string' && HEX_PREFIX.test(s);
}

export function isFullId(s: string): boolean {
  return isHexPrefix(s) && s.length === 64;
}

/**
 * Host side of an endpoint's veth: "veth" + 11 hex chars (15 bytes, IFNAMSIZ's most). Derived
 * by hashing the endpoint id, so ids that share a prefix still spread out. Every network's
 * veths share the host's namespace: 7 hex (Docker's length) gave two of 10,000 the same
 * name about once in six runs (28 bits); 44 bits make it about once in 350,000.
 */
export function hostIfName(endpointId: string): string {
  const digest = createHash('sha256').update(endpointId).digest('hex');
  return `veth${digest.slice(0, 11)}`;
}
