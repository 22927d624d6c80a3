import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Firewall } from '../../src/drivers/bridge/firewall.js';
import type { Kernel } from '../../src/kernel/types.js';
import { PortAllocator, type Reserver } from '../../src/portmap/allocator.js';
import { networkSettingsPorts, portLines } from '../../src/portmap/format.js';
import { PortMapper, type PublishRequest } from '../../src/portmap/mapper.js';
import { parsePortSpec } from '../../src/portmap/spec.js';

function setup(busy = new Set<number>()) {
  const nft: string[] = [];
  const kernel = { nft: async (c: string) => { nft.push(c); return ''; } } as unknown as Kernel;
  const reserver: Reserver = async (_ip, _proto, port) => {
    if (busy.has(port)) throw Object.assign(new Error('busy'), { code: 'EADDRINUSE' });
    return { close: async () => undefined };
  };
  const mapper = new PortMapper(new Firewall(kernel, true), new PortAllocator({ first: 40000, last: 40100 }, reserver));
  return { nft, mapper };
}

const NET = { name: 'bridge', internal: false, hostBindingIpv4: '0.0.0.0' };

function req(specs: string[], extra: Partial<PublishRequest> = {}): PublishRequest {
  return { containerId: 'c1', containerIp: '172.17.0.2', containerIp6: '', network: NET, bindings: specs.flatMap(parsePortSpec), exposed: [], publishAll: false, ...extra };
}

test('a container\'s ports are published in one firewall transaction, with the network\'s default host address', async () => {
  const { nft, mapper } = setup();
  const ports = await mapper.publish(req(['8080:80', '127.0.0.1:5353:53/udp', '9000'], { network: { ...NET, hostBindingIpv4: '198.18.0.1' } }));
  assert.deepEqual(ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.proto}`), ['198.18.0.1:8080->80/tcp', '127.0.0.1:5353->53/udp', '198.18.0.1:40000->9000/tcp']);
  assert.equal(nft.length, 1);
  assert.match(nft[0]!, /published \{ 198\.18\.0\.1 \. tcp \. 8080 : 172\.17\.0\.2 \. 80, 127\.0\.0\.1 \. udp \. 5353 : 172\.17\.0\.2 \. 53, 198\.18\.0\.1 \. tcp \. 40000 : 172\.17\.0\.2 \. 9000 \}/);
  await mapper.unpublish('c1');
  assert.match(nft[1]!, /^delete element ip berth published \{/);
  await mapper.unpublish('c1');
  assert.equal(nft.length, 2, 'unpublish is idempotent');
});

test('-P publishes every exposed port without a binding on a random port', async () => {
  const { mapper } = setup();
  const ports = await mapper.publish(req(['8080:80'], { exposed: ['80/tcp', '443/tcp', '53/udp'], publishAll: true }));
  assert.deepEqual(ports.map((p) => `${p.hostPort}->${p.containerPort}/${p.proto}`), ['8080->80/tcp', '40000->443/tcp', '40001->53/udp']);
});

test('a conflict changes nothing: the ports taken so far are released and no rule is added', async () => {
  const { nft, mapper } = setup(new Set([8081]));
  await assert.rejects(mapper.publish(req(['8080:80', '8081:81'])), /Bind for 0\.0\.0\.0:8081 failed: port is already allocated/);
  assert.equal(nft.length, 0);
  const ports = await mapper.publish(req(['8080:80'], { containerId: 'c2' }));
  assert.equal(ports[0]?.hostPort, 8080, 'the port of the failed publish is free again');
});

test('internal networks, sctp and a host address of a family the container lacks are refused with a clear error', async () => {
  const { nft, mapper } = setup();
  await assert.rejects(mapper.publish(req(['80'], { network: { ...NET, name: 'secret', internal: true } })), /internal network "secret"/);
  await assert.rejects(mapper.publish(req(['80/sctp'])), /sctp is not supported/);
  await assert.rejects(mapper.publish(req(['8081:81', '[::1]:8080:80'])), { status: 400, message: 'cannot publish on [::1]:8080: the container has no IPv6 address on "bridge"' });
  await assert.rejects(mapper.publish(req(['127.0.0.1:8080:80'], { containerIp: '', containerIp6: 'fd00::2' })), /cannot publish on 127\.0\.0\.1:8080: the container has no IPv4 address on "bridge"/);
  assert.deepEqual(await mapper.publish(req([], { network: { ...NET, internal: true } })), [], 'nothing to publish is fine anywhere');
  assert.equal(nft.length, 0, 'a refused publish changes nothing');
  assert.deepEqual(await mapper.publish(req(['8081:81'])), [{ proto: 'tcp', containerPort: 81, hostIp: '0.0.0.0', hostPort: 8081, containerIp: '172.17.0.2' }], '8081 was not kept by the refused request');
});

test('a dual-stack container publishes on 0.0.0.0 and :: with the same host port; an explicit address publishes on it alone', async () => {
  const { nft, mapper } = setup(new Set());
  const dual = { containerIp: '172.17.0.2', containerIp6: 'fd00::2' };
  const ports = await mapper.publish(req(['8080:80', '9000', '[::1]:8443:443', '127.0.0.1:8444:443', '[0:0::0]:8445:443/udp'], dual));
  assert.deepEqual(ports.map((p) => `${p.hostIp} ${p.hostPort}->${p.containerIp} ${p.containerPort}/${p.proto}`), [
    '0.0.0.0 8080->172.17.0.2 80/tcp', ':: 8080->fd00::2 80/tcp',
    '0.0.0.0 40000->172.17.0.2 9000/tcp', ':: 40000->fd00::2 9000/tcp',
    '::1 8443->fd00::2 443/tcp', '127.0.0.1 8444->172.17.0.2 443/tcp', ':: 8445->fd00::2 443/udp',
  ]);
  assert.equal(nft.length, 1, 'one transaction for both families');
  assert.match(nft[0]!, /add element ip berth published_any \{ tcp \. 8080 : 172\.17\.0\.2 \. 80, tcp \. 40000 : 172\.17\.0\.2 \. 9000 \}/);
  assert.doesNotMatch(nft[0]!, /::1|8443/, '[::1] is relayed by berthd, not DNATed (the kernel cannot)');
  assert.match(nft[0]!, /add element ip6 berth published_any \{ tcp \. 8080 : fd00::2 \. 80, tcp \. 40000 : fd00::2 \. 9000, udp \. 8445 : fd00::2 \. 443 \}/);
  // :: and 0.0.0.0 are taken on their own: another container gets :: 8446 while 0.0.0.0 8446 is someone else's only on v4
  await assert.rejects(mapper.publish(req(['[::]:8080:80'], { ...dual, containerId: 'c2' })), { status: 409, message: 'Bind for [::]:8080 failed: port is already allocated' });
  assert.equal((await mapper.publish(req(['127.0.0.1:8445:80/udp'], { containerId: 'c3' })))[0]?.hostPort, 8445, 'a v4 binding does not clash with a v6 one');
});

test('a v4-only container is not published on ::, a v6-only one only there; both families get the same random port or none', async () => {
  const { mapper } = setup(new Set([40000]));
  assert.deepEqual((await mapper.publish(req(['8080:80']))).map((p) => p.hostIp), ['0.0.0.0']);
  assert.deepEqual((await mapper.publish(req(['8081:80'], { containerId: 'v6', containerIp: '', containerIp6: 'fd00::3' }))).map((p) => `${p.hostIp} ${p.containerIp}`), [':: fd00::3']);
  const random = await mapper.publish(req(['80'], { containerId: 'both', containerIp6: 'fd00::4' }));
  assert.deepEqual(random.map((p) => `${p.hostIp} ${p.hostPort}`), ['0.0.0.0 40001', ':: 40001']);
});

test('with --ip6tables=false nothing is published on IPv6', async () => {
  const kernel = { nft: async () => '' } as unknown as Kernel;
  const mapper = new PortMapper(new Firewall(kernel, true, false), new PortAllocator({ first: 40000, last: 40100 }, async () => ({ close: async () => undefined })));
  const dual = { containerIp: '172.17.0.2', containerIp6: 'fd00::2' };
  assert.deepEqual((await mapper.publish(req(['8080:80'], dual))).map((p) => p.hostIp), ['0.0.0.0']);
  await assert.rejects(mapper.publish(req(['[::]:8081:80'], { ...dual, containerId: 'c2' })), /cannot publish on \[::\]:8081: IPv6 firewalling is off \(--ip6tables=false\)/);
});

test('restore re-takes the stored ports in one transaction and reports the ones lost meanwhile', async () => {
  const { nft, mapper } = setup(new Set([9999]));
  const stored = [
    { proto: 'tcp' as const, containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080, containerIp: '172.17.0.2' },
    { proto: 'tcp' as const, containerPort: 81, hostIp: '0.0.0.0', hostPort: 9999, containerIp: '172.17.0.2' },
  ];
  const failed = await mapper.restore([{ containerId: 'c1', ports: stored }]);
  assert.deepEqual(failed, [{ containerId: 'c1', error: 'Bind for 0.0.0.0:9999 failed: port is already allocated' }]);
  assert.equal(nft.length, 1);
  assert.deepEqual(mapper.published('c1'), [stored[0]]);
});

test('NetworkSettings.Ports and `berth port` lines look like Docker\'s', () => {
  const published = [
    { proto: 'tcp' as const, containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080, containerIp: '172.17.0.2' },
    { proto: 'udp' as const, containerPort: 53, hostIp: '127.0.0.1', hostPort: 5353, containerIp: '172.17.0.2' },
  ];
  const ports = networkSettingsPorts(published, ['80/tcp', '443/tcp']);
  assert.deepEqual(ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '443/tcp': null, '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }] });
  assert.deepEqual(portLines(ports, 'web'), ['53/udp -> 127.0.0.1:5353', '80/tcp -> 0.0.0.0:8080']);
  const dual = networkSettingsPorts([...published, { proto: 'tcp', containerPort: 80, hostIp: '::', hostPort: 8080, containerIp: 'fd00::2' }]);
  assert.deepEqual(dual['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }], 'dockerd shows HostIp "::"');
  assert.deepEqual(portLines(dual, 'web'), ['53/udp -> 127.0.0.1:5353', '80/tcp -> 0.0.0.0:8080', '80/tcp -> [::]:8080']);
  assert.deepEqual(portLines(dual, 'web', '80'), ['0.0.0.0:8080', '[::]:8080']);
  assert.deepEqual(portLines(ports, 'web', '80'), ['0.0.0.0:8080']);
  assert.deepEqual(portLines(ports, 'web', '53/udp'), ['127.0.0.1:5353']);
  assert.throws(() => portLines(ports, 'web', '443/tcp'), { status: 404, message: "No public port '443/tcp' published for web" });
});

test('a link opens the linked container\'s exposed tcp/udp ports, from the linking container', async () => {
  const { linkEntries } = await import('../../src/portmap/links.js');
  assert.deepEqual(linkEntries('172.17.0.3', '172.17.0.2', ['80/tcp', '53/udp', '9/sctp']), [
    { clientIp: '172.17.0.3', serverIp: '172.17.0.2', proto: 'tcp', port: 80 },
    { clientIp: '172.17.0.3', serverIp: '172.17.0.2', proto: 'udp', port: 53 },
  ]);
});
