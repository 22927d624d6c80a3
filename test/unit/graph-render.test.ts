// The pictures of `berth system graph`: DOT text and an SVG laid out by elkjs, from a
// topology given as data (the integration test draws a lab's).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toDot } from '../../src/cli/graph-dot.js';
import { toSvg } from '../../src/cli/graph-svg.js';
import { shapesOf } from '../../src/ui/picture.js';
import type { Topology } from '../../src/engine/topology.js';

const T: Topology = {
  host: { hostname: 'lab' },
  networks: [
    { id: 'n1', name: 'front', driver: 'bridge', scope: 'local', subnets: ['10.1.0.0/24'], gateways: ['10.1.0.1'], internal: false, device: 'br-1', isolatedFrom: ['back'] },
    { id: 'n2', name: 'back "db"', driver: 'bridge', scope: 'local', subnets: ['10.2.0.0/24'], gateways: ['10.2.0.1'], internal: true, device: 'br-2', isolatedFrom: ['front'] },
  ],
  containers: [
    { id: 'c1', name: 'web', status: 'running', runtime: 'berth', networkMode: 'front', interfaces: [{ network: 'front', ifName: 'eth0', ipv4: '10.1.0.2/24', mac: '02:42:0a:01:00:02', hostLink: 'veth1', aliases: [] }, { network: 'back "db"', ifName: 'eth1', ipv4: '10.2.0.2/24', mac: '02:42:0a:02:00:02', aliases: [] }], links: [] },
    { id: 'c2', name: 'pod<1>', status: 'running', runtime: 'cni', networkMode: 'front', interfaces: [{ network: 'front', ifName: 'eth0', ipv4: '10.1.0.3/24', mac: '02:42:0a:01:00:03', aliases: ['api'] }], links: [{ alias: 'w', target: 'web' }, { alias: 'x', target: 'gone' }] },
  ],
  ports: [{ container: 'web', proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '10.1.0.2', containerPort: 80 }],
  remote: [{ network: 'front', name: 'far', ipv4: '10.1.0.9', mac: '02:42:0a:01:00:09', host: '10.99.0.3' }],
};

test('dot: one node per network, container and port; edges with addresses; quotes escaped; the internal network has no way to the host', () => {
  const dot = toDot(T);
  assert.ok(dot.includes('"net:back \\"db\\""'), 'a quote in a name is escaped');
  assert.ok(dot.includes('host -- "net:front" [label="10.1.0.1"]'));
  assert.ok(!dot.includes('host -- "net:back'), 'internal: no edge to the host');
  assert.ok(dot.includes('"ctr:web" -- "net:front" [label="eth0\\n10.1.0.2/24\\nveth1"]'));
  assert.ok(dot.includes('"port:0.0.0.0:8080/tcp" -- "ctr:web" [label="→ 10.1.0.2:80"]'));
  assert.ok(dot.includes('label="pod<1> (cni)\\nrunning"'));
  assert.ok(dot.includes('"remote:10.99.0.3:far" -- "net:front" [style=dotted, label="10.1.0.9"]'), 'a container of another host on an overlay');
});

test('svg: laid out by elkjs, every box drawn once without overlap, text escaped, a link to a container not drawn left out', async () => {
  const { boxes, edges } = shapesOf(T);
  assert.deepEqual(boxes.map((b) => b.id), ['host', 'net:front', 'net:back "db"', 'ctr:web', 'ctr:pod<1>', 'remote:10.99.0.3:far', 'port:0.0.0.0:8080/tcp']);
  assert.ok(!edges.some((e) => e.to === 'ctr:gone'));
  const svg = await toSvg(T);
  assert.match(svg, /^<svg xmlns/);
  assert.ok(svg.includes('data-id="ctr:pod&lt;1&gt;"') && svg.includes('pod&lt;1&gt; (cni)'), 'escaped');
  const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)].map((m) => m.slice(1).map(Number));
  assert.equal(rects.length, boxes.length);
  for (const [i, a] of rects.entries()) {
    for (const b of rects.slice(i + 1)) assert.ok(!(a[0]! < b[0]! + b[2]! && b[0]! < a[0]! + a[2]! && a[1]! < b[1]! + b[3]! && b[1]! < a[1]! + a[3]!), 'no overlap');
  }
  assert.equal((svg.match(/<polyline/g) ?? []).length, edges.length, 'every edge routed');
});

test('a collapsed network folds the containers it alone holds into one box; one also on an open network stays', () => {
  const { boxes, edges } = shapesOf(T, new Set(['front']));
  // web is on back too: drawn; pod<1> is on front alone: folded (its link to web goes with it)
  assert.deepEqual(boxes.map((b) => b.id), ['host', 'net:front', 'net:back "db"', 'ctr:web', 'folded:front', 'port:0.0.0.0:8080/tcp']);
  assert.deepEqual(boxes.find((b) => b.id === 'folded:front')!.lines, ['1 container', '(click the network)']);
  assert.ok(edges.some((e) => e.from === 'net:front' && e.to === 'folded:front'));
  assert.ok(!edges.some((e) => e.from === 'ctr:pod<1>'));
});
