import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor, type Lab } from '../lab/lab.js';
import { hostOk, ok } from './helpers.js';

// Issue 6: concurrent requests are safe. Many starts, connects and network creations in
// flight at once must give distinct addresses, interface names and subnets, and every
// interface the store names must exist in the kernel afterwards.

async function apiOk(lab: Lab, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await lab.api(method, path, body);
  assert.ok(r.status < 400, `${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

async function createAndStart(lab: Lab, name: string, network: string): Promise<string> {
  const { Id } = (await apiOk(lab, 'POST', `/containers/create?name=${name}`, { Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: network } })) as { Id: string };
  await apiOk(lab, 'POST', `/containers/${Id}/start`);
  return Id;
}

interface Attached { name: string; ip: string; mac: string; endpoint: string }

async function attachedTo(lab: Lab, network: string): Promise<Attached[]> {
  const net = (await apiOk(lab, 'GET', `/networks/${network}`)) as { Containers: Record<string, { Name: string; IPv4Address: string; MacAddress: string; EndpointID: string }> };
  return Object.values(net.Containers).map((c) => ({ name: c.Name, ip: c.IPv4Address, mac: c.MacAddress, endpoint: c.EndpointID }));
}

describe('concurrent requests', { concurrency: false }, () => {
  test('24 starts in flight over two networks: distinct addresses, MACs and veths, all in the kernel', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', 'racea']);
    await ok(lab, ['network', 'create', 'raceb']);
    const names = Array.from({ length: 24 }, (_, i) => `r${i}`);
    await Promise.all(names.map((n, i) => createAndStart(lab, n, i % 2 ? 'raceb' : 'racea')));

    for (const net of ['racea', 'raceb']) {
      const members = await attachedTo(lab, net);
      assert.equal(members.length, 12, `${net} has its 12 containers`);
      assert.equal(new Set(members.map((m) => m.ip)).size, 12, `${net}: no address given twice`);
      assert.equal(new Set(members.map((m) => m.mac)).size, 12, `${net}: no MAC given twice`);
    }
    // every container has its eth0 with its own address, every host end is on its bridge
    const veths = JSON.parse(await hostOk(lab, ['ip', '-j', 'link', 'show', 'type', 'veth'])) as { ifname: string; master?: string }[];
    const links = veths.filter((l) => l.master?.startsWith('br-')); // not the lab's own uplink
    assert.equal(links.length, 24, 'one host-side veth per container, no strays');
    assert.equal(new Set(links.map((l) => l.ifname)).size, 24);
    for (const n of names) {
      const ip = await ok(lab, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', n]);
      const pid = await ok(lab, ['inspect', '-f', '{{.State.Pid}}', n]);
      const inside = await hostOk(lab, ['nsenter', `--net=/proc/${pid}/ns/net`, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      assert.match(inside, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`), `${n} has ${ip} on eth0`);
    }
  });

  test('connects of many containers to one network at once, and networks created at once, never collide', async (t) => {
    const lab = await labFor(t);
    const names = Array.from({ length: 10 }, (_, i) => `c${i}`);
    await Promise.all(names.map((n) => createAndStart(lab, n, 'bridge')));
    await ok(lab, ['network', 'create', 'shared']);
    await Promise.all(names.map((n) => apiOk(lab, 'POST', '/networks/shared/connect', { Container: n })));
    const members = await attachedTo(lab, 'shared');
    assert.equal(members.length, 10);
    assert.equal(new Set(members.map((m) => m.ip)).size, 10);

    const nets = Array.from({ length: 6 }, (_, i) => `par${i}`);
    await Promise.all(nets.map((n) => apiOk(lab, 'POST', '/networks/create', { Name: n })));
    const subnets = await Promise.all(nets.map((n) => ok(lab, ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', n])));
    assert.equal(new Set(subnets).size, 6, `distinct subnets: ${subnets.join(' ')}`);
    const bridges = JSON.parse(await hostOk(lab, ['ip', '-j', 'link', 'show', 'type', 'bridge'])) as unknown[];
    assert.equal(bridges.length, 1 + 1 + 6, 'docker0-style default bridge, shared, and the six new ones');
  });
});
