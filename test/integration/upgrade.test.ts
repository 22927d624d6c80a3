import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { labFor } from '../lab/lab.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../../src/store/records.js';
import { hostLinks, inspect, ok, pingFrom } from './helpers.js';

// berthd upgraded over a data-root of the previous schema (1: endpoints with an `ipv4`
// field, bridge names on the network record). The fixture is what the previous berth
// (885f0cb) stored after: two user networks (one with --ip-range, one --internal with its
// own bridge name), `web` with --ip and an alias on both, `db` stopped, `plain` on the
// default bridge with -p 8080:80, `idle` exited — and berthd stopped while web and plain ran.

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/berth-schema1/records.json', import.meta.url));

interface Schema1 {
  networks: NetworkRecord[];
  containers: ContainerRecord[];
  endpoints: EndpointRecord[];
}

test('a data-root of the previous schema keeps every network, container, bridge and address', async (t) => {
  const lab = await labFor(t, { startDaemon: false });
  const old = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Schema1;
  const store = new SqliteStore(lab.dataRoot);
  store.transaction(() => {
    for (const n of old.networks) store.putNetwork(n);
    for (const c of old.containers) store.putContainer(c);
    for (const e of old.endpoints) store.putEndpoint(e);
  });
  store.close();
  await lab.startDaemon();

  assert.deepEqual((await ok(lab, ['network', 'ls', '--format', '{{.Name}} {{.ID}}'])).split('\n').sort(),
    old.networks.map((n) => `${n.name} ${n.id.slice(0, 12)}`).sort(), 'every network, under its id');
  assert.deepEqual((await ok(lab, ['ps', '-a', '--format', '{{.Names}}'])).split('\n').sort(), ['db', 'idle', 'plain', 'web']);
  // web and plain ran when the old berthd stopped; their processes are gone now
  assert.equal(await inspect(lab, 'web', '{{.State.Status}}'), 'exited');
  // the bridges are the ones the old berth made, by the names it gave them
  const bridges = (await hostLinks(lab)).filter((l) => l.linkinfo?.info_kind === 'bridge').map((l) => l.ifname);
  for (const name of ['berth0', 'br-legacy', `br-${old.networks.find((n) => n.name === 'appnet')!.id.slice(0, 12)}`]) {
    assert.ok(bridges.includes(name), `bridge ${name} (of ${bridges.join(', ')})`);
  }
  assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{.Internal}}', 'backnet']), 'true');

  await ok(lab, ['start', 'web', 'db', 'plain']);
  assert.equal(await inspect(lab, 'web', '{{(index .NetworkSettings.Networks "appnet").IPAddress}}'), '10.42.0.10', 'its --ip');
  assert.equal(await inspect(lab, 'web', '{{(index .NetworkSettings.Networks "appnet").IPAMConfig.IPv4Address}}'), '10.42.0.10');
  assert.match(await inspect(lab, 'web', '{{(index .NetworkSettings.Networks "backnet").IPAddress}}'), /^172\.18\.0\.\d+$/);
  assert.match(await inspect(lab, 'db', '{{(index .NetworkSettings.Networks "appnet").IPAddress}}'), /^10\.42\.0\.(12[89]|1[3-9]\d|2[0-4]\d|25[0-4])$/, 'from the --ip-range');
  assert.ok(await pingFrom(lab, 'db', 'www'), 'the alias resolves and answers');
  assert.equal(await ok(lab, ['port', 'plain', '80']), '0.0.0.0:8080', 'its published port');
  assert.match(await inspect(lab, 'plain', '{{.NetworkSettings.IPAddress}}'), /^172\.17\.0\.\d+$/);
});
