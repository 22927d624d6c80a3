import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { advertiseIp, resolveAdvertise } from '../../src/cluster/advertise.js';
import { parseClusterStoreOpts, parseClusterStoreUrl } from '../../src/cluster/options.js';
import { parseDaemonFlags } from '../../src/daemon/flags.js';

// --cluster-store, --cluster-advertise, --cluster-store-opt and their daemon.json keys.

const dir = mkdtempSync(join(tmpdir(), 'berth-cluster-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ca = join(dir, 'ca.pem');
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
for (const p of [ca, cert, key]) writeFileSync(p, 'x');
writeFileSync(join(dir, 'empty.json'), '{}');
const NO_FILE = ['--config-file', join(dir, 'empty.json')];

const ifaces = {
  lo: [{ address: '127.0.0.1', family: 'IPv4' }],
  uplink0: [{ address: 'fd00::2', family: 'IPv6' }, { address: '198.51.100.2', family: 'IPv4' }, { address: '198.51.100.9', family: 'IPv4' }],
  v6only: [{ address: 'fd00::3', family: 'IPv6' }],
} as unknown as ReturnType<typeof import('node:os').networkInterfaces>;

test('an etcd URL lists its members, with 2379 where no port is given', () => {
  assert.deepEqual(parseClusterStoreUrl('etcd://10.99.0.2:2379'), ['10.99.0.2:2379']);
  assert.deepEqual(parseClusterStoreUrl('etcd://10.99.0.2,etcd1.example:32379,[fd00::1]/'), ['10.99.0.2:2379', 'etcd1.example:32379', '[fd00::1]:2379']);
});

test('a store that is not etcd, a path, a bad port or no member is refused, naming the flag', () => {
  assert.throws(() => parseClusterStoreUrl('consul://10.0.0.1:8500'), /^Error: invalid --cluster-store "consul:\/\/10\.0\.0\.1:8500": berth's cluster store is etcd/);
  assert.throws(() => parseClusterStoreUrl('10.0.0.1:2379'), /expected etcd:\/\/HOST:PORT/);
  assert.throws(() => parseClusterStoreUrl('etcd://10.0.0.1:2379/docker'), /a path is not supported/);
  assert.throws(() => parseClusterStoreUrl('etcd://10.0.0.1:99999'), /port out of range/);
  assert.throws(() => parseClusterStoreUrl('etcd://'), /no etcd endpoint/);
  assert.throws(() => parseClusterStoreUrl('etcd://[10.0.0.1]:2379'), /not an IPv6 address in brackets/);
});

test('--cluster-advertise: an interface stands for its first IPv4 address; an address stands for itself, port kept', () => {
  assert.equal(resolveAdvertise('uplink0', ifaces), '198.51.100.2');
  assert.equal(resolveAdvertise('uplink0:2376', ifaces), '198.51.100.2:2376');
  assert.equal(resolveAdvertise('10.99.0.3', ifaces), '10.99.0.3');
  assert.equal(resolveAdvertise('10.99.0.3:2376', ifaces), '10.99.0.3:2376');
  assert.equal(resolveAdvertise('[fd00::3]:2376', ifaces), '[fd00::3]:2376');
  assert.equal(advertiseIp('198.51.100.2:2376'), '198.51.100.2');
  assert.equal(advertiseIp('[fd00::3]:2376'), 'fd00::3');
  assert.equal(advertiseIp('10.99.0.3'), '10.99.0.3');
});

test('--cluster-advertise naming nothing usable is one line that says why', () => {
  assert.throws(() => resolveAdvertise('nosuch0', ifaces), /^Error: invalid --cluster-advertise "nosuch0": no such interface \(here: lo, uplink0, v6only\)$/);
  assert.throws(() => resolveAdvertise('v6only', ifaces), /interface v6only has no IPv4 address/);
  assert.throws(() => resolveAdvertise('10.99.0.300', ifaces), /not an IPv4 address/);
  assert.throws(() => resolveAdvertise('uplink0:0', ifaces), /port out of range/);
  assert.throws(() => resolveAdvertise('', ifaces), /expected an interface name or an IP address/);
});

test("--cluster-store-opt takes Docker's kv.* names, repeated or comma-separated, and checks the files", () => {
  assert.equal(parseClusterStoreOpts([]), undefined);
  assert.deepEqual(parseClusterStoreOpts([`kv.cacertfile=${ca},kv.certfile=${cert}`, `kv.keyfile=${key}`]), { caFile: ca, certFile: cert, keyFile: key });
  assert.deepEqual(parseClusterStoreOpts([`kv.cacertfile=${ca}`]), { caFile: ca, certFile: undefined, keyFile: undefined });
  assert.throws(() => parseClusterStoreOpts(['kv.path=/docker']), /invalid --cluster-store-opt "kv\.path=\/docker": berth knows kv\.cacertfile, kv\.certfile, kv\.keyfile/);
  assert.throws(() => parseClusterStoreOpts(['kv.cacertfile=']), /expected kv\.cacertfile=PATH/);
  assert.throws(() => parseClusterStoreOpts([`kv.cacertfile=${join(dir, 'missing.pem')}`]), /no such file/);
  assert.throws(() => parseClusterStoreOpts([`kv.certfile=${cert}`, `kv.keyfile=${key}`]), /needs kv\.cacertfile/);
  assert.throws(() => parseClusterStoreOpts([`kv.cacertfile=${ca}`, `kv.certfile=${cert}`]), /kv\.certfile and kv\.keyfile go together/);
});

test('berthd flags: a store with an advertise address becomes the cluster settings; neither is none', () => {
  const f = parseDaemonFlags([...NO_FILE, '--cluster-store', 'etcd://10.99.0.2:2379,10.99.0.3:2379', '--cluster-advertise', '127.0.0.1:2376', '--cluster-store-opt', `kv.cacertfile=${ca}`]);
  assert.deepEqual(f.config.cluster, {
    store: { url: 'etcd://10.99.0.2:2379,10.99.0.3:2379', endpoints: ['10.99.0.2:2379', '10.99.0.3:2379'], tls: { caFile: ca, certFile: undefined, keyFile: undefined } },
    advertise: '127.0.0.1:2376',
  });
  assert.equal(parseDaemonFlags(NO_FILE).config.cluster, undefined);
});

test('berthd flags: the cluster flags go together', () => {
  assert.throws(() => parseDaemonFlags([...NO_FILE, '--cluster-advertise', '127.0.0.1']), /--cluster-advertise needs --cluster-store/);
  assert.throws(() => parseDaemonFlags([...NO_FILE, '--cluster-store', 'etcd://127.0.0.1']), /--cluster-store needs --cluster-advertise/);
  assert.throws(() => parseDaemonFlags([...NO_FILE, '--cluster-store-opt', `kv.cacertfile=${ca}`]), /--cluster-store-opt needs --cluster-store/);
});

test("daemon.json: cluster-store, cluster-advertise and cluster-store-opts (an object, as dockerd's)", () => {
  const p = join(dir, 'daemon.json');
  writeFileSync(p, JSON.stringify({ 'cluster-store': 'etcd://10.99.0.2:2379', 'cluster-advertise': '127.0.0.1', 'cluster-store-opts': { 'kv.cacertfile': ca, 'kv.certfile': cert, 'kv.keyfile': key } }));
  const f = parseDaemonFlags(['--config-file', p]);
  assert.deepEqual(f.config.cluster, { store: { url: 'etcd://10.99.0.2:2379', endpoints: ['10.99.0.2:2379'], tls: { caFile: ca, certFile: cert, keyFile: key } }, advertise: '127.0.0.1' });
  assert.throws(() => parseDaemonFlags(['--config-file', p, '--cluster-advertise', '127.0.0.1']), /specified both as a flag and in the configuration file: cluster-advertise/);
  writeFileSync(p, JSON.stringify({ 'cluster-store-opts': ['kv.cacertfile=x'] }));
  assert.throws(() => parseDaemonFlags(['--config-file', p]), /"cluster-store-opts" must be an object of strings/);
});
