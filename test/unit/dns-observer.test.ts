import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EmbeddedDns, EndpointRecord as DnsEndpoint } from '../../src/dns/index.js';
import type { DaemonConfig } from '../../src/engine/config.js';
import { DnsObserver } from '../../src/engine/dns-observer.js';
import type { State } from '../../src/engine/state.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../../src/store/records.js';

// What the engine hands the resolver for an endpoint: both families of its addresses.

function observer(): { obs: DnsObserver; sent: DnsEndpoint[] } {
  const sent: DnsEndpoint[] = [];
  const dns = { setEndpoint: (e: DnsEndpoint) => sent.push(e), serves: () => true } as unknown as EmbeddedDns;
  const state = { containers: new Map() } as unknown as State;
  const config = { dnsSearch: [] } as unknown as DaemonConfig;
  return { obs: new DnsObserver(dns, { bindInNetns: () => Promise.reject(new Error('not here')) }, state, config), sent };
}

const net = { id: 'n1', name: 'dual', builtin: false } as unknown as NetworkRecord;
const container = { id: 'c0ffee1234567890', name: 'web', config: {}, hostConfig: {} } as unknown as ContainerRecord;
const endpoint = (addresses: string[]) => ({ networkId: 'n1', addresses, aliases: ['api'], links: [] }) as unknown as EndpointRecord;

test('a dual-stack endpoint reaches the resolver with its IPv4 and IPv6 addresses, prefixes off', async () => {
  const { obs, sent } = observer();
  await obs.endpointUp(container, net, endpoint(['10.1.0.2/24', 'fd00:1::2/64']));
  assert.equal(sent.length, 1);
  assert.equal(sent[0]?.ip, '10.1.0.2');
  assert.equal(sent[0]?.ip6, 'fd00:1::2');
  assert.deepEqual(sent[0]?.names, ['web', 'c0ffee123456', 'api']);
});

test('an IPv4-only endpoint has no IPv6 address; an IPv6-only one is sent too (it used to be skipped)', async () => {
  const { obs, sent } = observer();
  await obs.endpointUp(container, net, endpoint(['10.1.0.2/24']));
  assert.equal(sent[0]?.ip6, undefined);
  await obs.endpointUp(container, net, endpoint(['fd00:1::7/64']));
  assert.equal(sent.length, 2);
  assert.equal(sent[1]?.ip, '');
  assert.equal(sent[1]?.ip6, 'fd00:1::7');
  await obs.endpointUp(container, net, endpoint([]));
  assert.equal(sent.length, 2, 'an endpoint without addresses (a stopped container) is not a record');
});
