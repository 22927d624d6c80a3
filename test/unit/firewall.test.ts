import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderTable } from '../../src/kernel/firewall.js';

test('the firewall table holds fixed rules and one set element per network fact', () => {
  const text = renderTable([
    { bridge: 'berth0', subnet: '172.17.0.0/16', internal: false, masquerade: true, icc: true },
    { bridge: 'br-0123456789ab', subnet: '172.18.0.0/16', internal: true, masquerade: true, icc: false },
  ]);
  assert.match(text, /^table ip berth \{/);
  assert.match(text, /ip saddr @masquerade_subnets oifname != @bridges masquerade/);
  assert.match(text, /add element ip berth masquerade_subnets \{ 172\.17\.0\.0\/16 \}/);
  assert.doesNotMatch(text, /masquerade_subnets \{ 172\.18/, 'internal networks are never masqueraded');
  assert.match(text, /add element ip berth internal_bridges \{ "br-0123456789ab" \}/);
  assert.match(text, /add element ip berth icc \{ "berth0" \. "berth0" \}/);
  assert.doesNotMatch(text, /icc \{ "br-0123456789ab"/);
  // rules do not grow with networks: only element lines differ
  const rules = (t: string) => t.split('\n').filter((l) => !l.startsWith('add element'));
  assert.deepEqual(rules(text), rules(renderTable([])));
});

test('interface names are validated before they reach nft', () => {
  assert.throws(() => renderTable([{ bridge: 'x"; flush ruleset', subnet: '10.0.0.0/8', internal: false, masquerade: true, icc: true }]));
});
