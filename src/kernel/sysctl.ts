import { readFileSync, writeFileSync } from 'node:fs';

// /proc/sys access. Net sysctls are resolved against the calling thread's netns, so the
// worker calls these inside inNetns(); the fs calls are synchronous on purpose: an async
// one would run on a libuv pool thread, which stays in the home netns.

/** "net.ipv4.ip_forward" or "net/ipv4/ip_forward" → "/proc/sys/net/ipv4/ip_forward". */
export function sysctlPath(key: string): string {
  return `/proc/sys/${key.includes('/') ? key : key.replace(/\./g, '/')}`;
}

export function readSysctl(key: string): string {
  return readFileSync(sysctlPath(key), 'utf8').replace(/\n$/, '');
}

export function writeSysctl(key: string, value: string): void {
  writeFileSync(sysctlPath(key), value);
}
