import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hostIfName, isFullId, isHexPrefix, isValidNetworkName, newId, shortId, validateContainerName,
  validateNetworkName,
} from '../../src/util/names.js';
import { InvalidParameterError } from '../../src/util/errors.js';

test('container names follow Docker charset and need two characters', () => {
  for (const ok of ['web', 'a1', 'my_app.v2-1', '0abc']) assert.equal(validateContainerName(ok), ok);
  assert.equal(validateContainerName('/web'), 'web');
  for (const bad of ['a', '', '_web', '.web', '-web', 'bad name', 'web!', 'wéb', '/']) {
    assert.throws(() => validateContainerName(bad), (err: unknown) => err instanceof InvalidParameterError
      && err.message === `Invalid container name (${bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, bad);
  }
});

test('network names: dockerd 20.10 takes any name that is not blank', () => {
  for (const bad of ['', ' ', '\t\n']) {
    assert.throws(() => validateNetworkName(bad), (err: unknown) => err instanceof InvalidParameterError
      && err.message === `invalid name: ${bad}`, JSON.stringify(bad));
    assert.equal(isValidNetworkName(bad), false);
  }
  for (const ok of ['n', 'my net', 'bad name!', '-net', '.dot', 'a/b', 'a:b', 'ünïcödé', '名前', 'tab\tname', 'x'.repeat(1024)]) {
    assert.equal(validateNetworkName(ok), ok);
    assert.equal(isValidNetworkName(ok), true);
  }
});

test('new ids are 64 lowercase hex characters and differ', () => {
  const a = newId();
  const b = newId();
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(a, b);
  assert.equal(isFullId(a), true);
  assert.equal(shortId(a), a.slice(0, 12));
  assert.equal(shortId(a).length, 12);
});

test('hex prefixes are recognised and other strings are not', () => {
  assert.equal(isHexPrefix('abc123'), true);
  assert.equal(isHexPrefix('ABC'), false);
  assert.equal(isHexPrefix(''), false);
  assert.equal(isHexPrefix('web'), false);
  assert.equal(isHexPrefix('a'.repeat(65)), false);
  assert.equal(isFullId('abc'), false);
});

test('host veth names are veth plus 11 hex, stable per endpoint and within IFNAMSIZ', () => {
  const id = newId();
  const name = hostIfName(id);
  assert.match(name, /^veth[0-9a-f]{11}$/);
  assert.equal(hostIfName(id), name);
  assert.notEqual(hostIfName(newId()), name);
  assert.ok(Buffer.byteLength(name) <= 15);
});
