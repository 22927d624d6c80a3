import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Router, splitVersion } from '../../src/api/router.js';

test('API version prefixes are stripped and checked', () => {
  assert.deepEqual(splitVersion('/v1.41/networks'), { version: '1.41', path: '/networks' });
  assert.equal(splitVersion('/networks').path, '/networks');
  assert.throws(() => splitVersion('/v1.99/networks'), /client version 1.99 is too new/);
  assert.throws(() => splitVersion('/v1.20/networks'), /too old/);
});

test('routes match path parameters and tell a wrong method from an unknown path', () => {
  const r = new Router().add('GET', '/networks/{id}', () => undefined);
  const m = r.match('GET', '/networks/my%20net');
  assert.ok(m && m !== 'method');
  assert.equal(m.params.id, 'my net');
  assert.equal(r.match('HEAD', '/networks/x') === undefined, false);
  assert.equal(r.match('DELETE', '/networks/x'), 'method');
  assert.equal(r.match('GET', '/nope'), undefined);
});
