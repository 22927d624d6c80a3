import { readFileSync, writeFileSync } from 'node:fs';
import { close, detachedMount } from './ffi/libc.js';

// /proc/sys access. Net sysctls are resolved against the calling thread's netns, so the
// worker calls these inside inNetns(); the fs calls are synchronous on purpose: an async
// one would run on a libuv pool thread, which stays in the home netns.
//
// Inside a container's netns, through a procfs of its own (inOwnProc): a /proc/sys lookup
// made in a netns leaves that netns's dentries ("net", "ipv6", "conf" …) under the one
// /proc/sys every netns shares, and the kernel then compares each later lookup, in every
// netns, with every netns's copy of the name. Measured with 2,000 container netns: a
// sysctl open 5 µs → 288 µs, the set-up of a container growing with the number there are.
// A procfs made for the call (a detached mount: attached nowhere, gone when its fd
// closes) holds no other netns's dentries and takes its own along: 69 µs, flat.

/** "net.ipv4.ip_forward" or "net/ipv4/ip_forward" → "/proc/sys/net/ipv4/ip_forward" (or under another procfs root). */
export function sysctlPath(key: string, proc = '/proc'): string {
  return `${proc}/sys/${key.includes('/') ? key : key.replace(/\./g, '/')}`;
}

export function readSysctl(key: string, proc?: string): string {
  return readFileSync(sysctlPath(key, proc), 'utf8').replace(/\n$/, '');
}

export function writeSysctl(key: string, value: string, proc?: string): void {
  writeFileSync(sysctlPath(key, proc), value);
}

/**
 * Runs fn with the root of a procfs of its own (for the sysctls of the netns the thread is
 * in); where the kernel cannot make one (before 5.2, or not allowed), with /proc.
 */
export function inOwnProc<T>(fn: (proc: string) => T): T {
  let fd = -1;
  try {
    fd = detachedMount('proc');
  } catch {
    return fn('/proc');
  }
  try {
    // the fd's magic link leads into the detached mount: no directory to mount it on
    return fn(`/proc/thread-self/fd/${fd}`);
  } finally {
    close(fd);
  }
}
