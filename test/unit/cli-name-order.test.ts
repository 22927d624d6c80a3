// `network ls` orders names without ICU's collator, exactly as localeCompare would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareNames } from '../../src/cli/name-order.js';

const ROOT_ENV = { LANG: 'C.UTF-8' };
const collatorLocale = new Intl.Collator().resolvedOptions().locale;
const rootLike = collatorLocale === 'und' || collatorLocale.startsWith('en');

/** A deterministic stream of names over the characters that matter (case, digits, _ - .). */
function* names(count: number): Generator<string> {
  const alphabet = 'aAbBzZ09_-.';
  let seed = 12345;
  for (let i = 0; i < count; i++) {
    let s = '';
    seed = (seed * 1103515245 + 12345) >>> 0;
    const len = seed % 6;
    for (let j = 0; j < len; j++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      s += alphabet[(seed >>> 8) % alphabet.length];
    }
    yield s;
  }
}

test('plain names sort exactly as localeCompare sorts them', { skip: !rootLike && `collator locale ${collatorLocale}` }, () => {
  const all = [...names(3000)];
  for (let i = 1; i < all.length; i++) {
    const [a, b] = [all[i - 1], all[i]];
    assert.equal(Math.sign(compareNames(a, b, ROOT_ENV)), Math.sign(a.localeCompare(b)), `${a} vs ${b}`);
  }
  const mine = [...all].sort((a, b) => compareNames(a, b, ROOT_ENV));
  assert.deepEqual(mine, [...all].sort((a, b) => a.localeCompare(b)));
});

test('known orders: punctuation before digits before letters, lower case first', () => {
  const sorted = ['net10', 'Net1', 'net1', 'net-1', 'net_1', 'net.1', 'net9', 'bridge', 'host', 'none', 'a'];
  sorted.sort((a, b) => compareNames(a, b, ROOT_ENV));
  assert.deepEqual(sorted, ['a', 'bridge', 'host', 'net_1', 'net-1', 'net.1', 'net1', 'Net1', 'net10', 'net9', 'none']);
});

test('names outside the plain characters, and other locales, fall back to localeCompare', () => {
  assert.equal(compareNames('é', 'f', ROOT_ENV), 'é'.localeCompare('f'));
  assert.equal(compareNames('aa', 'z', { LANG: 'da_DK.UTF-8' }), 'aa'.localeCompare('z'));
  assert.equal(compareNames('b', 'a', { LC_ALL: 'C' }), 1);
});
