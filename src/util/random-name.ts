import { randomInt } from 'node:crypto';

// Names for containers created without --name, in Docker's "adjective_scientist" style.

const LEFT = ['admiring', 'brave', 'clever', 'dazzling', 'eager', 'festive', 'gallant', 'happy', 'jolly', 'keen', 'lucid', 'modest', 'nifty', 'optimistic', 'peaceful', 'quirky', 'relaxed', 'serene', 'trusting', 'vibrant', 'wizardly', 'zealous'];
const RIGHT = ['babbage', 'curie', 'darwin', 'einstein', 'feynman', 'goodall', 'hopper', 'johnson', 'kepler', 'lovelace', 'meitner', 'noether', 'pasteur', 'ritchie', 'shannon', 'thompson', 'turing', 'wozniak'];

/** With `retry` > 0 a number is appended (as Docker does when names collide), from a range that grows with it. */
export function randomName(retry = 0): string {
  const base = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
  return retry > 0 ? `${base}${randomInt(10 * retry)}` : base;
}
