// berth as a CNI plugin under a real runtime (issue 15): Podman 4.3 (Debian) with its CNI
// backend and a conflist whose plugin is berth. Podman makes the netns and calls berth-cni;
// its containers get berth endpoints: they and berth's containers reach each other by
// name, -p publishes through berth's port mapper, and `podman rm` leaves nothing behind
// (the lab's consistency check at the end looks).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labFor, type Lab } from '../lab/lab.js';
import { LabPodman } from '../lab/podman.js';
import { hostOk, ok, pingFrom, runSleeper } from './helpers.js';

async function attached(lab: Lab, network: string): Promise<string[]> {
  const containers = JSON.parse(await ok(lab, ['network', 'inspect', '-f', '{{json .Containers}}', network])) as Record<string, { Name: string; IPv4Address: string }>;
  return Object.values(containers).filter((c) => c.Name.startsWith('cni-')).map((c) => c.IPv4Address).sort();
}

test('podman (CNI backend) runs containers on a berth network: names both ways, -p through berth, --ip and --mac-address, podman rm leaves nothing', async (t) => {
  const lab = await labFor(t);
  const podman = await LabPodman.create(lab);
  await ok(lab, ['network', 'create', '--subnet', '172.31.0.0/24', 'mynet']);
  podman.addNetwork('mynet');
  await runSleeper(lab, 'web', ['--network', 'mynet']);

  await podman.ok(['run', '-d', '--cgroups=disabled', '--network', 'mynet', '--name', 'podc', '-p', '8080:80', 'localhost/bb', 'httpd', '-f', '-p', '80', '-h', '/www']);
  await podman.ok(['run', '-d', '--cgroups=disabled', '--network', 'mynet', '--name', 'pinned', '--ip', '172.31.0.77', '--mac-address', '02:00:00:00:00:77', 'localhost/bb', 'sleep', '600']);
  assert.deepEqual(await attached(lab, 'mynet'), ['172.31.0.3/24', '172.31.0.77/24'], 'berth holds an endpoint for each podman container');
  // podman's own view of it: the address and MAC berth gave
  const pinned = JSON.parse(await podman.ok(['inspect', 'pinned', '--format', '{{json .NetworkSettings.Networks.mynet}}']));
  assert.equal(pinned.IPAddress, '172.31.0.77');
  assert.equal(pinned.MacAddress, '02:00:00:00:00:77');
  assert.equal(pinned.Gateway, '172.31.0.1');

  // names both ways: podman's containers use berth's resolver (its result's nameserver)
  assert.match(await podman.ok(['exec', 'podc', 'cat', '/etc/resolv.conf']), /^nameserver 127\.0\.0\.11$/m);
  assert.equal((await podman.run(['exec', 'podc', 'ping', '-c1', '-W2', 'web'])).code, 0, 'a podman container reaches a berth container by name');
  assert.ok(await pingFrom(lab, 'web', 'podc'), 'a berth container reaches a podman container by name');
  assert.equal((await podman.run(['exec', 'pinned', 'ping', '-c1', '-W2', 'podc'])).code, 0, 'podman containers reach each other by name through berth');

  // -p 8080:80 through berth's DNAT, from the internet
  const page = await lab.inInternet(['curl', '-sS', '--max-time', '5', `http://${lab.hostUplinkAddr}:8080/`]);
  assert.equal(page.stdout, 'hello from podman\n', page.stderr);
  // and from a berth container, by the host's address
  assert.match(await ok(lab, ['exec', 'web', 'wget', '-qO-', '-T', '5', `http://${lab.hostUplinkAddr}:8080/`]), /hello from podman/);

  await podman.ok(['rm', '-f', '-t', '0', 'podc', 'pinned']);
  assert.deepEqual(await attached(lab, 'mynet'), [], 'podman rm detached both');
  assert.equal((await lab.inInternet(['curl', '-sS', '--max-time', '2', `http://${lab.hostUplinkAddr}:8080/`])).code === 0, false, 'the port is gone with it');
  assert.equal((await hostOk(lab, ['ip', 'netns', 'list'])).split('\n').filter((l) => l.startsWith('netns-')).length, 0, 'podman deleted its netns');
  // the network is berth's alone again: it can go
  await ok(lab, ['rm', '-f', 'web']);
  await ok(lab, ['network', 'rm', 'mynet']);
});
