import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { recordImageIds, upgradeRecords } from '../../src/engine/record-upgrades.js';
import { State } from '../../src/engine/state.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../../src/store/records.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const id = (c: string) => c.repeat(64);

/** A network as schema 1 wrote it: the bridge's name a field of its own, no driverConfig. */
const network = (name: string, builtin: boolean): NetworkRecord => ({
  id: id(name[0]), name, driver: 'bridge', scope: 'local', created: '', internal: false, attachable: false, enableIPv6: false,
  ipamDriver: 'default', ipamConfig: [{ subnet: '172.20.0.0/16', gateway: '172.20.0.1' }], ipamOptions: {}, options: {}, labels: {}, builtin,
  bridgeName: builtin ? 'berth0' : `br-${id(name[0]).slice(0, 12)}`,
} as unknown as NetworkRecord);

const container = (c: string, name: string, networkMode: string, links: string[] = []): ContainerRecord => ({
  id: id(c), name, created: '',
  config: { image: '', cmd: ['sleep'], env: [], hostname: '', domainname: '', workdir: '', tty: false, openStdin: false, exposedPorts: [], labels: {} },
  hostConfig: { networkMode, autoRemove: false, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], links, portBindings: {}, publishAllPorts: false },
  state: { status: 'exited', pid: 0, shimPid: 0, exitCode: 0, startedAt: '', finishedAt: '', error: '' },
  sandboxKey: '',
});

/** An endpoint as schema 1 wrote it: `ipv4`, `staticIpv4`, `hostIfName`. */
const endpoint = (c: string, net: NetworkRecord, links: string[] = [], live: Record<string, string> = {}): EndpointRecord => ({
  id: id(c).replace(/^./, '9'), networkId: net.id, containerId: id(c), ifName: '', hostIfName: '', ipv4: '', mac: '', aliases: [], links, created: '', ...live,
} as unknown as EndpointRecord);

/** What parseConfig of the bridge driver would say, for the test's purpose. */
const configOf = (n: NetworkRecord) => ({ parsedFrom: n.name });

/** A data-root as an older berth left it, opened again: what the engine sees after the upgrade. */
function upgraded(write: (store: SqliteStore) => void): State {
  const dir = mkdtempSync(join(tmpdir(), 'berth-upgrade-'));
  try {
    const old = new SqliteStore(dir);
    write(old);
    old.close();
    const state = new State(new SqliteStore(dir));
    upgradeRecords(state, configOf);
    const reopened = new State(new SqliteStore(dir)); // and it was written through
    state.store.close();
    return reopened;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a container:NAME network mode of an older berth becomes container:<id>; an id stays as it is', () => {
  const state = upgraded((s) => {
    s.putContainer(container('a', 'web', 'bridge'));
    s.putContainer(container('b', 'side', 'container:web'));
    s.putContainer(container('c', 'side2', `container:${id('a')}`));
    s.putContainer(container('d', 'orphan', 'container:gone'));
  });
  assert.equal(state.containers.get(id('b'))?.hostConfig.networkMode, `container:${id('a')}`);
  assert.equal(state.containers.get(id('c'))?.hostConfig.networkMode, `container:${id('a')}`);
  assert.equal(state.containers.get(id('d'))?.hostConfig.networkMode, 'container:gone');
  state.store.close();
});

test('--link on a user-defined network moves from HostConfig.Links to the endpoint; default-bridge links stay legacy links', () => {
  const user = network('user', false);
  const bridge = network('bridge', true);
  const state = upgraded((s) => {
    s.putNetwork(user);
    s.putNetwork(bridge);
    s.putContainer(container('a', 'app', 'user', ['db:database', 'cache']));
    s.putEndpoint(endpoint('a', user, ['cache']));
    s.putContainer(container('b', 'legacy', 'bridge', ['db:database']));
    s.putEndpoint(endpoint('b', bridge));
  });
  assert.deepEqual(state.containers.get(id('a'))?.hostConfig.links, []);
  assert.deepEqual(state.endpointsOf({ containerId: id('a') })[0]?.links, ['cache', 'db:database']);
  assert.deepEqual(state.containers.get(id('b'))?.hostConfig.links, ['db:database']);
  assert.deepEqual(state.endpointsOf({ containerId: id('b') })[0]?.links, []);
  state.store.close();
});

test('a container an older berth made from an image gets that image\'s id recorded; one made since keeps its own', () => {
  const state = upgraded((s) => {
    s.putContainer({ ...container('a', 'old', 'bridge'), config: { ...container('a', 'old', 'bridge').config, image: 'bb' } });
    s.putContainer({ ...container('b', 'new', 'bridge'), config: { ...container('b', 'new', 'bridge').config, image: 'bb', imageId: `sha256:${id('e')}` } });
    s.putContainer({ ...container('c', 'gone', 'bridge'), config: { ...container('c', 'gone', 'bridge').config, image: 'nosuch' } });
  });
  recordImageIds(state, (name) => (name === 'bb' ? id('f') : undefined));
  assert.equal(state.containers.get(id('a'))?.config.imageId, `sha256:${id('f')}`);
  assert.equal(state.containers.get(id('b'))?.config.imageId, `sha256:${id('e')}`);
  assert.equal(state.containers.get(id('c'))?.config.imageId, undefined);
  state.store.close();
});

test('schema 2: endpoints get a list of addresses and linkName, networks their driver config; the old fields go', () => {
  const user = network('mynet', false);
  const state = upgraded((s) => {
    s.putNetwork(user);
    s.putContainer({ ...container('a', 'web', 'mynet'), state: { ...container('a', 'web', 'mynet').state, status: 'running' } });
    s.putEndpoint(endpoint('a', user, [], { ipv4: '172.20.0.5', staticIpv4: '172.20.0.5', hostIfName: 'veth1234567', ifName: 'eth0', mac: '02:42:ac:14:00:05' }));
    s.putContainer(container('b', 'idle', 'mynet'));
    s.putEndpoint(endpoint('b', user));
  });
  const live = state.endpointsOf({ containerId: id('a') })[0] as EndpointRecord & Record<string, unknown>;
  assert.deepEqual(live.addresses, ['172.20.0.5/16']);
  assert.deepEqual(live.staticIps, ['172.20.0.5']);
  assert.equal(live.linkName, 'veth1234567');
  assert.equal(live.ifName, 'eth0');
  assert.equal('ipv4' in live || 'staticIpv4' in live || 'hostIfName' in live, false);
  const idle = state.endpointsOf({ containerId: id('b') })[0];
  assert.deepEqual([idle.addresses, idle.staticIps, idle.linkName], [[], undefined, '']);
  const n = state.networks.get(user.id) as NetworkRecord & Record<string, unknown>;
  assert.deepEqual(n.driverConfig, { parsedFrom: 'mynet' });
  assert.equal('bridgeName' in n, false);
  assert.equal(state.store.getMeta('schema'), '2');
  state.store.close();
});
