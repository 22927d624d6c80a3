import { readFileSync } from 'node:fs';

// The kernel tests run in the throwaway world's own netns (the kernel worker's home), not
// in a lab: this says when that is not so, as their skip reason.

/** Why the kernel tests must not run here (not root, or the machine's own netns), or undefined. */
export function kernelWorldSkip(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  const links = readFileSync('/proc/net/dev', 'utf8');
  if (/^\s*(eth0|ifb0):/m.test(links)) return 'not inside a throwaway lab netns';
  return undefined;
}
