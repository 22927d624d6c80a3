import { isIP } from 'node:net';
import type { HostConfig } from '../store/records.js';
import { InvalidParameterError } from '../util/errors.js';

// Values berth writes into a container's /etc/hosts, /etc/hostname and /etc/resolv.conf,
// checked when they are asked for: one with a newline would add lines of the caller's
// choosing to those files, a space would add words.

/** Any C0 control character, DEL, or whitespace. */
const UNSAFE = /[\u0000-\u0020\u007f]/;

/** A name that goes into a file as one word (an alias, an --add-host name, a search domain, a DNS option). */
export function checkWord(what: string, value: string): void {
  if (value === '' || UNSAFE.test(value)) {
    throw new InvalidParameterError(`invalid ${what} ${JSON.stringify(value)}: it must be one word, without spaces or control characters`);
  }
}

/** The kernel takes at most 64 bytes (HOST_NAME_MAX) for a hostname and a domain name. */
export function checkHostname(what: 'hostname' | 'domainname', value: string): void {
  if (value === '') return;
  checkWord(what, value);
  if (Buffer.byteLength(value) > 64) throw new InvalidParameterError(`invalid ${what} ${JSON.stringify(value)}: at most 64 characters`);
}

export function checkNameserver(value: string): void {
  if (isIP(value) === 0) throw new InvalidParameterError(`invalid DNS server ${JSON.stringify(value)}: it must be an IP address`);
}

/** What a new container's HostConfig writes into its files. */
export function checkFileValues(hc: HostConfig, hostname: string, domainname: string): void {
  checkHostname('hostname', hostname);
  checkHostname('domainname', domainname);
  for (const ns of hc.dns ?? []) checkNameserver(ns);
  for (const d of hc.dnsSearch ?? []) checkWord('DNS search domain', d);
  for (const o of hc.dnsOptions ?? []) checkWord('DNS option', o);
}
