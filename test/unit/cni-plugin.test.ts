// berth-cni's side of CNI: what it reads from the environment and the config, what it asks
// berthd (a real HTTP server on a unix socket here, recording the requests), the result in
// each CNI version, and the error codes it prints.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { run } from '../../src/cni/plugin.js';
import { mergedInto, resultIn } from '../../src/cni/versions.js';
import type { CniResult } from '../../src/cni/types.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-cni-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const RESULT: CniResult = {
  cniVersion: '1.1.0',
  interfaces: [{ name: 'br-1', mac: '02:00:00:00:00:01' }, { name: 'veth1', mac: '02:00:00:00:00:02' }, { name: 'eth0', mac: '02:42:ac:1e:00:02', sandbox: '/run/netns/p' }],
  ips: [{ address: '172.30.0.2/24', gateway: '172.30.0.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0', gw: '172.30.0.1' }],
  dns: { nameservers: ['127.0.0.11'], search: [], options: [] },
};

/** A berthd stand-in: records each request, answers with `reply(path)`. */
async function daemon(reply: (path: string) => { status: number; body?: unknown }): Promise<{ socket: string; seen: { path: string; body: any }[]; server: Server }> {
  const socket = join(dir, `d${Math.random().toString(16).slice(2)}.sock`);
  const seen: { path: string; body: any }[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', body: text ? JSON.parse(text) : undefined });
      const { status, body } = reply(req.url ?? '');
      res.writeHead(status, body === undefined ? {} : { 'Content-Type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  after(() => server.close());
  return { socket, seen, server };
}

const ENV = { CNI_CONTAINERID: 'abc123', CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };

function config(socket: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ cniVersion: '1.0.0', name: 'podnet', type: 'berth', host: `unix://${socket}`, ...extra });
}

test('ADD: what podman passes becomes one request to berthd; the result comes back in the asked version', async () => {
  const d = await daemon(() => ({ status: 200, body: RESULT }));
  const out = await run({
    env: { ...ENV, CNI_COMMAND: 'ADD', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=podc;IP=172.30.0.9' },
    stdin: config(d.socket, { network: 'mynet', runtimeConfig: { aliases: { podnet: ['al1', 'abc123'] }, portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], mac: '02:00:00:00:00:09' } }),
  });
  assert.equal(out.exit, 0, out.stdout);
  assert.deepEqual(JSON.parse(out.stdout), { ...RESULT, cniVersion: '1.0.0' });
  assert.deepEqual(d.seen, [{
    path: '/berth/cni/add',
    body: {
      containerId: 'abc123', ifName: 'eth0', netns: '/run/netns/p', network: 'mynet', names: ['podc', 'al1', 'abc123'], ips: ['172.30.0.9'],
      mac: '02:00:00:00:00:09', portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '' }], bindPorts: false, labels: {},
    },
  }]);
});

test('results: 0.x carries ips[].version; a chained result keeps the earlier plugins\' and shifts interface indices', () => {
  assert.deepEqual(resultIn('0.3.1', RESULT).ips, [{ address: '172.30.0.2/24', gateway: '172.30.0.1', interface: 2, version: '4' }]);
  assert.equal(resultIn('1.1.0', RESULT).ips?.[0] && 'version' in resultIn('1.1.0', RESULT).ips![0], false);
  const prev: CniResult = { cniVersion: '0.4.0', interfaces: [{ name: 'x0' }], ips: [{ address: '10.0.0.2/24', interface: 0, version: '4' } as never], dns: { nameservers: ['10.0.0.1'] } };
  const merged = mergedInto(prev, RESULT);
  assert.deepEqual(merged.interfaces?.map((i) => i.name), ['x0', 'br-1', 'veth1', 'eth0']);
  assert.deepEqual(merged.ips, [{ address: '10.0.0.2/24', interface: 0 }, { address: '172.30.0.2/24', gateway: '172.30.0.1', interface: 3 }]);
  assert.deepEqual(merged.dns?.nameservers, ['127.0.0.11']);
});

test('VERSION needs no daemon; CHECK, GC and STATUS are refused in versions that lack them', async () => {
  const version = await run({ env: { CNI_COMMAND: 'VERSION' }, stdin: '{"cniVersion":"1.0.0"}' });
  assert.deepEqual(JSON.parse(version.stdout), { cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  for (const [command, old] of [['CHECK', '0.3.1'], ['GC', '1.0.0'], ['STATUS', '1.0.0']]) {
    const out = await run({ env: { ...ENV, CNI_COMMAND: command }, stdin: JSON.stringify({ cniVersion: old, name: 'n', prevResult: RESULT }) });
    assert.equal(out.exit, 1);
    assert.equal(JSON.parse(out.stdout).code, 1, command);
  }
});

test('errors: berthd\'s cniCode kept, its 500 is 102, no berthd is 11 (STATUS: 50), bad env 4, bad JSON 6, unknown command 4', async () => {
  const refusing = await daemon((path) => (path.startsWith('/berth/cni/add')
    ? { status: 409, body: { message: 'Bind for 0.0.0.0:8080 failed: port is already allocated', cniCode: 100 } }
    : { status: 500, body: { message: 'cannot add address' } }));
  const code = async (env: Record<string, string>, stdin: string) => JSON.parse((await run({ env, stdin })).stdout) as { code: number; msg: string };
  assert.deepEqual(await code({ ...ENV, CNI_COMMAND: 'ADD' }, config(refusing.socket)), { cniVersion: '1.0.0', code: 100, msg: 'Bind for 0.0.0.0:8080 failed: port is already allocated' });
  assert.equal((await code({ ...ENV, CNI_COMMAND: 'DEL' }, config(refusing.socket))).code, 102);
  const gone = join(dir, 'nobody.sock');
  const down = await code({ ...ENV, CNI_COMMAND: 'ADD' }, config(gone));
  assert.equal(down.code, 11);
  assert.match(down.msg, /berthd is not running at unix:\/\/.*nobody\.sock/);
  assert.equal((await code({ CNI_COMMAND: 'STATUS' }, config(gone, { cniVersion: '1.1.0' }))).code, 50);
  assert.equal((await code({ CNI_COMMAND: 'ADD' }, config(gone))).code, 4);
  assert.equal((await code({ ...ENV, CNI_COMMAND: 'ADD' }, '{')).code, 6);
  assert.equal((await code({ ...ENV, CNI_COMMAND: 'FROB' }, config(gone))).code, 4);
  assert.equal((await code({ ...ENV, CNI_COMMAND: 'ADD', CNI_CONTAINERID: '-x' }, config(gone))).code, 4);
});
