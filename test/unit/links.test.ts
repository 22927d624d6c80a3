import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkEnv, linkHostNames, parseLink } from '../../src/engine/links.js';
import type { ContainerRecord } from '../../src/store/records.js';

const container = (name: string, exposed: string[], env: string[]): ContainerRecord => ({
  id: 'e8c8b240869779ccb159f8e49ccb8fd067f3a24e186c556a8cdd6ac7ff2c74fb',
  name,
  created: '',
  config: { image: '', cmd: ['sleep'], env, hostname: '', domainname: '', workdir: '', tty: false, openStdin: false, exposedPorts: exposed, labels: {} },
  hostConfig: { networkMode: 'bridge', autoRemove: false, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], links: [], portBindings: {}, publishAllPorts: false },
  state: { status: 'running', pid: 1, shimPid: 1, exitCode: 0, startedAt: '', finishedAt: '', error: '' },
  sandboxKey: '',
});

test('--link NAME[:ALIAS] parses, the alias defaulting to the name', () => {
  assert.deepEqual(parseLink('vm1:web'), { name: 'vm1', alias: 'web' });
  assert.deepEqual(parseLink('/vm1'), { name: 'vm1', alias: 'vm1' });
  assert.throws(() => parseLink('a:b:c'), /invalid link format/);
});

test('link variables describe the exposed ports as Docker sets them', () => {
  const env = linkEnv(container('d3', [], []), { name: 'd1', alias: 'web' }, container('d1', ['80/tcp', '53/udp'], ['PATH=/bin', 'MODE=prod']), '172.17.0.2');
  assert.deepEqual(env, [
    'WEB_NAME=/d3/web',
    'WEB_PORT=udp://172.17.0.2:53',
    'WEB_PORT_53_UDP=udp://172.17.0.2:53', 'WEB_PORT_53_UDP_ADDR=172.17.0.2', 'WEB_PORT_53_UDP_PORT=53', 'WEB_PORT_53_UDP_PROTO=udp',
    'WEB_PORT_80_TCP=tcp://172.17.0.2:80', 'WEB_PORT_80_TCP_ADDR=172.17.0.2', 'WEB_PORT_80_TCP_PORT=80', 'WEB_PORT_80_TCP_PROTO=tcp',
    'WEB_ENV_MODE=prod',
  ]);
  assert.deepEqual(linkHostNames({ name: 'd1', alias: 'web' }, container('d1', [], [])), ['web', 'e8c8b2408697', 'd1']);
});
