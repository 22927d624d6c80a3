import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ruleset, type Packet, type RouteFacts } from '../../src/engine/explain/nft-eval.js';

// The evaluator on a hand-written `nft -j list ruleset` (the shapes libnftables 1.0.6
// prints): which rules match, verdicts, jumps and returns, maps, marks, and what it
// cannot judge. Its agreement with the kernel is test/integration/explain.test.ts's.

const json = JSON.stringify({ nftables: [
  { metainfo: { version: '1.0.6' } },
  { table: { family: 'inet', name: 'hostfw', handle: 1 } },
  { set: { family: 'inet', name: 'trusted', table: 'hostfw', type: 'ipv4_addr', flags: ['interval'], elem: [{ prefix: { addr: '10.0.0.0', len: 8 } }, { range: ['192.168.1.10', '192.168.1.20'] }] } },
  { map: { family: 'inet', name: 'fwd', table: 'hostfw', type: ['inet_proto', 'inet_service'], map: 'ipv4_addr . inet_service', elem: [[{ concat: ['tcp', 8080] }, { concat: ['172.17.0.2', 80] }]] } },
  { chain: { family: 'inet', table: 'hostfw', name: 'input', type: 'filter', hook: 'input', prio: 0, policy: 'drop' } },
  { chain: { family: 'inet', table: 'hostfw', name: 'web' } },
  { chain: { family: 'inet', table: 'hostfw', name: 'pre', type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' } },
  { rule: { family: 'inet', table: 'hostfw', chain: 'input', handle: 5, expr: [{ match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } }, { accept: null }] } },
  { rule: { family: 'inet', table: 'hostfw', chain: 'input', handle: 6, expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'veth*' } }, { counter: { packets: 0, bytes: 0 } }] } },
  { rule: { family: 'inet', table: 'hostfw', chain: 'input', handle: 7, expr: [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: { set: [80, 443] } } }, { jump: { target: 'web' } }] } },
  { rule: { family: 'inet', table: 'hostfw', chain: 'input', handle: 8, expr: [{ match: { op: '==', left: { meta: { key: 'skuid' } }, right: 0 } }, { accept: null }] } },
  { rule: { family: 'inet', table: 'hostfw', chain: 'web', handle: 9, expr: [{ match: { op: '!=', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '@trusted' } }, { return: null }] } },
  { rule: { family: 'inet', table: 'hostfw', chain: 'web', handle: 10, expr: [{ mangle: { key: { meta: { key: 'mark' } }, value: 7 } }, { accept: null }] } },
  { rule: { family: 'inet', table: 'hostfw', chain: 'pre', handle: 11, expr: [{ dnat: { family: 'ip', addr: { map: { key: { concat: [{ meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] }, data: '@fwd' } } } }] } },
] });
const listing = 'table inet hostfw {\n\tchain input {\n\t\tct state established,related accept # handle 5\n\t}\n}\n';

const facts: RouteFacts = { addressType: async () => 'local', reversePathOk: async () => false };
const packet = (p: Partial<Packet>): Packet => ({
  family: 4, saddr: '10.1.2.3', daddr: '10.9.9.9', proto: 'tcp', sport: 40000, dport: 80, iif: 'eth0', mark: 0,
  ct: { state: 'new', status: new Set(), direction: 'original' }, ...p,
});

test('nft evaluator: hooks in priority order, flags, wildcards, anonymous sets, jumps to a chain that accepts, marks', async () => {
  const rs = new Ruleset(json, listing);
  assert.deepEqual(rs.chainsAt('ip', 'input').map((c) => c.name), ['input']);
  assert.deepEqual(rs.chainsAt('ip6', 'input').map((c) => c.name), ['input'], 'inet chains run for both families');
  assert.deepEqual(rs.chainsAt('bridge', 'input'), []);
  const [input] = rs.chainsAt('ip', 'input');
  const pkt = packet({ iif: 'veth12' });
  const run = await rs.run(input!, pkt, facts);
  assert.deepEqual(run.events.map((e) => [e.handle, e.verdict]), [[6, 'continue'], [7, 'jump'], [10, 'accept']]);
  assert.equal(run.verdict, 'accept');
  assert.equal(run.decidedBy?.handle, 10);
  assert.equal(pkt.mark, 7);
  assert.deepEqual(run.unknown, [], 'the rule after the accept is never reached');
});

test('nft evaluator: a return goes back to the caller; the chain policy decides; what it cannot judge is named', async () => {
  const rs = new Ruleset(json, listing);
  const [input] = rs.chainsAt('ip', 'input');
  const run = await rs.run(input!, packet({ saddr: '203.0.113.5' }), facts);
  assert.deepEqual(run.events.map((e) => [e.handle, e.verdict]), [[7, 'jump'], [9, 'return']]);
  assert.equal(run.verdict, 'drop');
  assert.equal(run.decidedBy, undefined, 'the policy decided');
  assert.deepEqual(run.unknown, ['inet hostfw input handle 8: meta skuid']);
  const inRange = await rs.run(input!, packet({ saddr: '192.168.1.15' }), facts);
  assert.equal(inRange.verdict, 'accept', 'a range element of an interval set');
  const established = await rs.run(input!, packet({ ct: { state: 'established', status: new Set(), direction: 'reply' } }), facts);
  assert.equal(established.decidedBy?.text, 'ct state established,related accept', 'the rule text from the listing');
  const v6 = await rs.run(input!, packet({ family: 6, saddr: 'fd00::1', daddr: 'fd00::2' }), facts);
  assert.deepEqual(v6.events.map((e) => e.handle), [7, 10], 'an ip saddr match does not apply to IPv6: no return');
});

test('nft evaluator: a DNAT through a map, and no match when the map lacks the key', async () => {
  const rs = new Ruleset(json);
  const [pre] = rs.chainsAt('ip', 'prerouting');
  const hit = await rs.run(pre!, packet({ dport: 8080 }), facts);
  assert.deepEqual(hit.nat, { kind: 'dnat', addr: '172.17.0.2', port: 80 });
  assert.equal(hit.events[0]?.verdict, 'accept');
  const miss = await rs.run(pre!, packet({ dport: 8081 }), facts);
  assert.deepEqual([miss.nat, miss.events], [undefined, []]);
});
