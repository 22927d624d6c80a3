import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labFor } from '../lab/lab.js';
import { DOCKER_28, dockerFails, dockerOk, importBusybox, installedClients } from '../compat/docker-cli.js';

// The macvlan tutorial as people type it, with the stock docker CLI against berthd: a
// network on the host's LAN interface, a container with a fixed address on it, the LAN
// reaching it; and a ptp link between two containers.

const client = installedClients().find((c) => c.bin === DOCKER_28.bin) ?? installedClients()[0];

test('docker CLI: a macvlan network on the LAN, a container with --ip on it, a ptp link', { skip: client ? undefined : 'no docker CLI' }, async (t) => {
  const lab = await labFor(t);
  const lan = await lab.addLan();
  const peer = await lab.addHostOnLan('peer');
  const d = (args: string[]) => dockerOk(lab, client!, args);
  await importBusybox(lab, client!);
  await d(['network', 'create', '-d', 'macvlan', '--subnet=198.18.1.0/24', '--gateway=198.18.1.1', '-o', `parent=${lan.parent}`, 'pub_net']);
  assert.equal(await d(['network', 'inspect', '-f', '{{.Driver}} {{.Options.parent}} {{range .IPAM.Config}}{{.Gateway}}{{end}}', 'pub_net']), 'macvlan eth1 198.18.1.1');
  await d(['run', '-d', '--name', 'lanbox', '--network', 'pub_net', '--ip', '198.18.1.90', 'bb', 'sleep', '3600']);
  assert.equal(await d(['inspect', '-f', '{{.NetworkSettings.Networks.pub_net.MacAddress}}', 'lanbox']), '02:42:c6:12:01:5a');
  assert.equal((await lab.inNetns(peer.ns, ['ping', '-c1', '-W2', '198.18.1.90'])).code, 0, 'the LAN reaches the container');
  await d(['exec', 'lanbox', 'ping', '-c1', '-W2', peer.addr]);
  await dockerFails(lab, client!, ['network', 'create', '-d', 'macvlan', '--subnet=10.5.0.0/24', '-o', 'parent=nope0', 'bad_net'],
    /the requested parent interface nope0 was not found on the berth host/);

  await d(['network', 'create', '-d', 'ptp', '--subnet=10.99.0.0/29', 'wire']);
  await d(['run', '-d', '--name', 'left', '--network', 'wire', 'bb', 'sleep', '3600']);
  await d(['run', '-d', '--name', 'right', '--network', 'wire', 'bb', 'sleep', '3600']);
  const right = await d(['inspect', '-f', '{{.NetworkSettings.Networks.wire.IPAddress}}', 'right']);
  await d(['exec', 'left', 'ping', '-c1', '-W2', right]);
  await dockerFails(lab, client!, ['run', '-d', '--network', 'wire', 'bb', 'sleep', '1'], /network wire is full/);
});
