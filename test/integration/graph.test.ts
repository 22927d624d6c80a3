// `berth system graph` (issue 16, first slice): the host's whole network as data, DOT and
// an SVG laid out by elkjs, from a lab with bridge networks (one internal), a container on
// two networks, a published port and a link.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labFor } from '../lab/lab.js';
import { inspect, ok, runSleeper } from './helpers.js';

test('system graph: every network, container, interface and port, as json, dot and svg', async (t) => {
  const lab = await labFor(t);
  await ok(lab, ['network', 'create', '--subnet', '10.61.0.0/24', 'front']);
  await ok(lab, ['network', 'create', '--internal', '--subnet', '10.62.0.0/24', 'back']);
  await runSleeper(lab, 'web', ['--network', 'front', '-p', '8080:80']);
  await ok(lab, ['network', 'connect', 'back', 'web']);
  await runSleeper(lab, 'db', ['--network', 'back', '--network-alias', 'database']);
  await runSleeper(lab, 'legacy', ['--network', 'front', '--link', 'web:w']);
  await ok(lab, ['create', '--name', 'idle', '--network', 'front', '--', 'sleep', '1']);

  const g = JSON.parse(await ok(lab, ['system', 'graph', '--format', 'json']));
  const net = (name: string) => g.networks.find((n: { name: string }) => n.name === name);
  const frontId = await ok(lab, ['network', 'inspect', '-f', '{{.Id}}', 'front']);
  assert.deepEqual({ ...net('front'), id: undefined }, {
    id: undefined, name: 'front', driver: 'bridge', scope: 'local', subnets: ['10.61.0.0/24'], gateways: ['10.61.0.1'], internal: false,
    device: `br-${frontId.slice(0, 12)}`, isolatedFrom: ['back', 'bridge'],
  });
  assert.equal(net('back').internal, true);
  assert.deepEqual(g.networks.map((n: { name: string }) => n.name), ['back', 'bridge', 'front', 'host', 'none']);
  const ctr = (name: string) => g.containers.find((c: { name: string }) => c.name === name);
  const web = ctr('web');
  assert.deepEqual(web.interfaces.map((i: { network: string; ifName: string }) => `${i.ifName}@${i.network}`), ['eth0@front', 'eth1@back']);
  assert.equal(web.interfaces[0].ipv4, `${await inspect(lab, 'web', '{{.NetworkSettings.Networks.front.IPAddress}}')}/24`);
  assert.equal(web.interfaces[0].mac, await inspect(lab, 'web', '{{.NetworkSettings.Networks.front.MacAddress}}'));
  assert.match(web.interfaces[0].hostLink, /^veth/);
  assert.deepEqual(ctr('db').interfaces[0].aliases, ['database']);
  assert.deepEqual(ctr('legacy').links, [{ alias: 'w', target: 'web', network: 'front' }]);
  assert.equal(ctr('idle').status, 'created');
  assert.deepEqual(ctr('idle').interfaces, [], 'a container not started has no interface');
  assert.deepEqual(g.ports.filter((p: { container: string }) => p.container === 'web').map((p: { hostIp: string; hostPort: number; containerPort: number; proto: string }) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.proto}`), ['0.0.0.0:8080->80/tcp']);

  const dot = await ok(lab, ['system', 'graph', '--format', 'dot']);
  assert.match(dot, /^graph berth \{/);
  for (const s of ['"net:front"', '"net:back"', '"ctr:web" -- "net:back"', '"port:0.0.0.0:8080/tcp" -- "ctr:web"', '"ctr:legacy" -- "ctr:web"']) assert.ok(dot.includes(s), `dot has ${s}`);

  const svg = await ok(lab, ['system', 'graph']);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+(\.\d+)?" height="\d+(\.\d+)?"/);
  for (const id of ['net:front', 'net:back', 'ctr:web', 'ctr:db', 'ctr:legacy', 'port:0.0.0.0:8080/tcp']) assert.ok(svg.includes(`data-id="${id}"`), `svg draws ${id}`);
  // laid out: no two boxes on top of each other
  const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)].map((m) => m.slice(1).map(Number));
  for (let i = 0; i < rects.length; i++) {
    for (let j = i + 1; j < rects.length; j++) {
      const [a, b] = [rects[i]!, rects[j]!];
      const overlap = a[0]! < b[0]! + b[2]! && b[0]! < a[0]! + a[2]! && a[1]! < b[1]! + b[3]! && b[1]! < a[1]! + a[3]!;
      assert.equal(overlap, false, `boxes ${i} and ${j} overlap`);
    }
  }
  const bad = await lab.berth(['system', 'graph', '--format', 'png']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid --format png: svg, dot or json/);
});
