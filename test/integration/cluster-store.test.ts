import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { etcdctl, freezeEtcd, startEtcd, type EtcdTls, type LabEtcd } from '../lab/etcd.js';
import { runOk, sleep } from '../lab/exec.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { withLab, type Lab, type LabProcess } from '../lab/lab.js';
import { ok, pingFrom, runSleeper, until } from './helpers.js';

// berth's cluster store (src/cluster/) against a real etcd 3.4 in the lab host's netns:
// the host record on the host's lease, claims and address allocation racing between two
// clients (two processes, as two hosts), the sync's list → watch → re-list, and what
// berthd does while etcd is gone.

const CLIENT = fileURLToPath(new URL('./cluster-client.js', import.meta.url));
const STORE = 'etcd://127.0.0.1:2379';
const ENDPOINT = '127.0.0.1:2379';
const CLUSTER_FLAGS = ['--cluster-store', STORE, '--cluster-advertise', 'uplink0'];
const TTL_MS = 10_000;

interface EtcdKv { key: string; value: string; lease: string }

async function etcdList(etcd: LabEtcd, prefix: string): Promise<EtcdKv[]> {
  const r = await etcdctl(etcd, ['get', '--prefix', prefix, '-w', 'json']);
  assert.equal(r.code, 0, r.stderr);
  // lease ids are 64-bit: read them as text, not as JSON numbers (they would lose digits)
  const res = JSON.parse(r.stdout.replace(/"lease":(\d+)/g, '"lease":"$1"')) as { kvs?: { key: string; value: string; lease?: string }[] };
  return (res.kvs ?? []).map((kv) => ({ key: Buffer.from(kv.key, 'base64').toString(), value: Buffer.from(kv.value, 'base64').toString(), lease: String(kv.lease ?? 0) }));
}

const hostRecords = (etcd: LabEtcd) => etcdList(etcd, '/berth/v1/hosts/');

async function client(lab: Lab, args: string[]): Promise<unknown> {
  const r = await lab.inHost(['node', CLIENT, ENDPOINT, ...args], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** The JSON lines a sync client printed so far. */
function syncLines(p: LabProcess): Record<string, unknown>[] {
  return p.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('cluster store', { concurrency: false }, () => {
  test('berthd puts its host record on a lease, keeps its id across restarts, and the record goes within the TTL when berthd is killed', async (t) => {
    await withLab(t, { startDaemon: false }, async (lab) => {
      const etcd = await lab.startEtcd();
      await lab.startDaemon(CLUSTER_FLAGS);
      const first = await until('host record', async () => (await hostRecords(etcd))[0]);
      const record = JSON.parse(first.value) as { advertise: string; hostname: string; version: string };
      assert.equal(record.advertise, lab.hostUplinkAddr, 'the interface named by --cluster-advertise stands for its first IPv4 address');
      assert.ok(record.hostname);
      assert.match(record.version, /^\d+\.\d+\.\d+/, "berth's version");
      assert.match(first.key, /^\/berth\/v1\/hosts\/[0-9a-f]{32}$/);
      assert.notEqual(first.lease, '0', 'the record hangs on a lease');
      const ttl = await etcdctl(etcd, ['lease', 'timetolive', BigInt(first.lease).toString(16)]);
      assert.match(ttl.stdout, /granted with TTL\(10s\)/);
      const info = (await lab.api('GET', '/info')).body as { ClusterStore?: string; ClusterAdvertise?: string };
      assert.equal(info.ClusterStore, STORE);
      assert.equal(info.ClusterAdvertise, lab.hostUplinkAddr);

      await lab.restartDaemon(CLUSTER_FLAGS);
      await sleep(500);
      const afterRestart = await hostRecords(etcd);
      assert.deepEqual(afterRestart.map((kv) => kv.key), [first.key], 'the same id after a restart, and no second record');

      await lab.killDaemon();
      const t0 = Date.now();
      await until('host record gone after kill -9', async () => ((await hostRecords(etcd)).length === 0 ? true : undefined), TTL_MS + 15_000);
      t.diagnostic(`host record gone ${Date.now() - t0} ms after berthd was killed (lease TTL ${TTL_MS} ms)`);
    });
  });

  test('two hosts claiming the same names at once: exactly one wins each, the other gets a conflict that says what was taken', async (t) => {
    await withLab(t, { startDaemon: false }, async (lab) => {
      const etcd = await lab.startEtcd();
      const startAt = String(Date.now() + 6_000);
      const n = 200;
      const [a, b] = (await Promise.all([client(lab, ['claim', startAt, '/berth/v1/names/race-', String(n), 'asc']), client(lab, ['claim', startAt, '/berth/v1/names/race-', String(n), 'desc'])])) as { key: string; won: boolean; ms: number; error?: string }[][];
      const stored = new Map((await etcdList(etcd, '/berth/v1/names/race-')).map((kv) => [kv.key, kv.value]));
      assert.equal(stored.size, n);
      for (let i = 0; i < n; i++) {
        assert.equal(a[i].key, `/berth/v1/names/race-${i}`);
        const winners = [a[i], b[i]].filter((r) => r.won);
        assert.equal(winners.length, 1, `exactly one winner for ${a[i].key}: ${JSON.stringify([a[i], b[i]])}`);
        const loser = [a[i], b[i]].find((r) => !r.won)!;
        assert.match(loser.error ?? '', new RegExp(`^ConflictError: name "race-${i}" (is already taken in the cluster \\(held by \\d+\\)|: claimed by another host at the same moment, try again)$`));
      }
      const span = (rs: { ms: number }[]) => `${Math.min(...rs.map((r) => r.ms))}-${Math.max(...rs.map((r) => r.ms))} ms`;
      t.diagnostic(`first client won ${a.filter((r) => r.won).length} of ${n} (answers ${span(a)} after the start), the second ${b.filter((r) => r.won).length} (${span(b)})`);
    });
  });

  test('50 addresses allocated at once from two hosts are 50 distinct addresses of the subnet', async (t) => {
    await withLab(t, { startDaemon: false }, async (lab) => {
      const etcd = await lab.startEtcd();
      const startAt = String(Date.now() + 6_000);
      const [a, b] = (await Promise.all([
        client(lab, ['allocate', startAt, 'net1', '10.20.0.0/24', '25']),
        client(lab, ['allocate', startAt, 'net1', '10.20.0.0/24', '25']),
      ])) as string[][];
      const all = [...a, ...b];
      t.diagnostic(`round trips from one host: ${JSON.stringify(await client(lab, ['latency', '100']))} ms`);
      assert.equal(new Set(all).size, 50, `duplicates: ${all.sort().join(' ')}`);
      for (const ip of all) assert.match(ip, /^10\.20\.0\.(\d+)$/);
      assert.ok(!all.includes('10.20.0.0') && !all.includes('10.20.0.255'));
      const keys = await etcdList(etcd, '/berth/v1/addresses/net1/');
      assert.deepEqual(keys.map((kv) => kv.key.split('/').pop()).sort(), [...all].sort());
    });
  });

  test('a small pool runs out with a clear error, --ip takes exactly its address, and a released address is handed out again', async (t) => {
    await withLab(t, { startDaemon: false }, async (lab) => {
      await lab.startEtcd();
      const startAt = String(Date.now() + 6_000);
      const [a, b] = (await Promise.all([
        client(lab, ['allocate', startAt, 'net2', '10.30.0.0/29', '4', 'settle']),
        client(lab, ['allocate', startAt, 'net2', '10.30.0.0/29', '4', 'settle']),
      ])) as { ip?: string; error?: string }[][];
      const got = [...a, ...b].filter((r) => r.ip).map((r) => r.ip!);
      const refused = [...a, ...b].filter((r) => r.error);
      assert.deepEqual(got.sort(), ['10.30.0.1', '10.30.0.2', '10.30.0.3', '10.30.0.4', '10.30.0.5', '10.30.0.6'], 'every usable address of the /29, once');
      assert.equal(refused.length, 2);
      for (const r of refused) assert.match(r.error!, /^ConflictError: no free address left on network net2 \(10\.30\.0\.0\/29\)$/);

      const preferred = (await client(lab, ['allocate-ip', 'net3', '10.40.0.0/24', '10.40.0.77'])) as { ip?: string; error?: string };
      assert.deepEqual(preferred, { ip: '10.40.0.77' });
      const again = (await client(lab, ['allocate-ip', 'net3', '10.40.0.0/24', '10.40.0.77'])) as { ip?: string; error?: string };
      assert.match(again.error ?? '', /^ConflictError: address 10\.40\.0\.77 on network net3 is already taken in the cluster \(held by ep-\d+\)$/);
      const outside = (await client(lab, ['allocate-ip', 'net3', '10.40.0.0/24', '10.41.0.1'])) as { ip?: string; error?: string };
      assert.match(outside.error ?? '', /^InvalidParameterError: address 10\.41\.0\.1 is not in network net3's subnet 10\.40\.0\.0\/24$/);

      const released = (await client(lab, ['release', 'net2', '10.30.0.3'])) as { released: boolean };
      assert.deepEqual(released, { released: true });
      const next = (await client(lab, ['allocate', String(Date.now() + 1_500), 'net2', '10.30.0.0/29', '1', 'settle'])) as { ip?: string }[];
      assert.deepEqual(next, [{ ip: '10.30.0.3' }]);
    });
  });

  test('sync: records put by another host arrive, and an etcd restart leads to a re-list that reconciles with the full set', async (t) => {
    await withLab(t, { startDaemon: false }, async (lab) => {
      let etcd = await lab.startEtcd();
      await client(lab, ['put', '/berth/v1/endpoints/n1/a', '{"ip":"10.0.0.2"}']);
      const sync = lab.spawnIn(lab.hostNs, ['node', CLIENT, ENDPOINT, 'sync', '/berth/v1/endpoints/']);
      await until('first reconcile', async () => syncLines(sync).find((l) => l.reconcile && l.why === 'start'));
      assert.deepEqual(syncLines(sync).find((l) => l.reconcile)?.reconcile, ['/berth/v1/endpoints/n1/a']);

      await client(lab, ['put', '/berth/v1/endpoints/n1/b', '{"ip":"10.0.0.3"}']);
      await until('put from another client', async () => syncLines(sync).find((l) => l.put === '/berth/v1/endpoints/n1/b'));
      await etcdctl(etcd, ['del', '/berth/v1/endpoints/n1/a']);
      await until('delete from another client', async () => syncLines(sync).find((l) => l.delete === '/berth/v1/endpoints/n1/a'));
      await etcdctl(etcd, ['put', '/berth/v1/endpoints/n2/c', '{}']);
      await until('second put', async () => syncLines(sync).find((l) => l.put === '/berth/v1/endpoints/n2/c'));

      await etcd.kill();
      await etcd.restart();
      const resync = await until('re-list after the restart', async () => syncLines(sync).find((l) => l.reconcile && l.why !== 'start'), 30_000);
      assert.deepEqual(resync.reconcile, ['/berth/v1/endpoints/n1/b', '/berth/v1/endpoints/n2/c'], 'the full set, after the restart');
      t.diagnostic(`re-listed after the restart because: ${String(resync.why)}`);
      await etcdctl(etcd, ['put', '/berth/v1/endpoints/n2/d', '{}']);
      await until('a put after the re-list', async () => syncLines(sync).find((l) => l.put === '/berth/v1/endpoints/n2/d'));
    });
  });

  test('a watch from a compacted revision is refused as compacted, and the sync lists again with the full set', async (t) => {
    await withLab(t, { startDaemon: false }, async (lab) => {
      const etcd = await lab.startEtcd();
      for (let i = 0; i < 3; i++) await client(lab, ['put', `/berth/v1/endpoints/n1/e${i}`, '{}']);
      const status = JSON.parse((await etcdctl(etcd, ['endpoint', 'status', '-w', 'json'])).stdout) as { Status: { header: { revision: number } } }[];
      const rev = status[0].Status.header.revision;
      assert.equal((await etcdctl(etcd, ['compact', String(rev)])).code, 0);
      const r = (await client(lab, ['watch-from', '/berth/v1/endpoints/', '2'])) as { canceled?: string; compacted?: boolean };
      assert.ok(r.canceled !== undefined, `etcd cancels the watch: ${JSON.stringify(r)}`);
      assert.equal(r.compacted, true, 'and the store says why: the revision was compacted');
      const fresh = (await client(lab, ['watch-from', '/berth/v1/endpoints/', String(rev + 1)])) as { canceled?: string; compacted?: boolean };
      assert.deepEqual(fresh, { ok: true }, 'a watch from after the compaction stays');

      // the sync: while its owner reconciles (slowly), a change and a compaction pass it by;
      // its watch from the listed revision + 1 is refused, and it lists again
      const sync = lab.spawnIn(lab.hostNs, ['node', CLIENT, ENDPOINT, 'sync', '/berth/v1/endpoints/', '3000']);
      await until('first reconcile', async () => syncLines(sync).find((l) => l.reconcile && l.why === 'start'));
      // two changes: etcd still serves a watch from the compaction's own revision
      await client(lab, ['put', '/berth/v1/endpoints/n1/late', '{}']);
      await etcdctl(etcd, ['del', '/berth/v1/endpoints/n1/e0']);
      const now = JSON.parse((await etcdctl(etcd, ['endpoint', 'status', '-w', 'json'])).stdout) as { Status: { header: { revision: number } } }[];
      assert.equal((await etcdctl(etcd, ['compact', String(now[0].Status.header.revision)])).code, 0);
      const resync = await until('re-list after the compaction', async () => syncLines(sync).find((l) => l.reconcile && l.why !== 'start'), 20_000).catch((err: Error) => {
        throw new Error(`${err.message}; the sync said:\n${sync.output()}`);
      });
      assert.equal(resync.why, 'compacted');
      assert.deepEqual(resync.reconcile, ['/berth/v1/endpoints/n1/e1', '/berth/v1/endpoints/n1/e2', '/berth/v1/endpoints/n1/late']);
      assert.ok(!syncLines(sync).some((l) => l.put || l.delete), 'the changes came with the re-list, not from a watch that missed nothing');
    });
  });

  test('etcd frozen: a store call fails within its deadline naming the store; berthd and bridge networks keep working; a lost lease is granted again and the record put back', async (t) => {
    await withLab(t, { startDaemon: false }, async (lab) => {
      const etcd = await lab.startEtcd();
      await lab.startDaemon(CLUSTER_FLAGS);
      const rec = await until('host record', async () => (await hostRecords(etcd))[0]);

      freezeEtcd(etcd, true);
      try {
        const r = (await client(lab, ['get', '/berth/v1/hosts/x', '2000'])) as { error?: string; ms: number };
        assert.match(r.error ?? '', /^ClusterStoreUnavailableError: cluster store etcd:\/\/127\.0\.0\.1:2379 unreachable: get \/berth\/v1\/hosts\/x: /);
        assert.ok(r.ms < 10_000, `failed after ${r.ms} ms: no hang`);
        t.diagnostic(`a get to a frozen etcd failed after ${r.ms} ms (deadline 2000 ms)`);
        assert.equal((await lab.api('GET', '/_ping')).status, 200);
        await ok(lab, ['network', 'create', 'br1']);
        await runSleeper(lab, 's1', ['--network', 'br1']);
        await runSleeper(lab, 's2', ['--network', 'br1']);
        assert.ok(await pingFrom(lab, 's1', 's2'), 'bridge containers reach each other while etcd is frozen');
      } finally {
        freezeEtcd(etcd, false);
      }
      const r = (await client(lab, ['get', '/berth/v1/hosts/x'])) as { value: unknown };
      assert.equal(r.value, null);

      // the lease lost (as after a partition longer than the TTL): berthd grants a new one
      assert.equal((await etcdctl(etcd, ['lease', 'revoke', BigInt(rec.lease).toString(16)])).code, 0);
      assert.equal((await hostRecords(etcd)).length, 0);
      const back = await until('host record put again', async () => (await hostRecords(etcd))[0]);
      assert.equal(back.key, rec.key, 'the same host id');
      assert.notEqual(back.lease, rec.lease, 'on a new lease');
      assert.match(lab.daemonLog(), /lease [0-9]+ expired; granting a new one/);
      await ok(lab, ['rm', '-f', 's1', 's2']);
      await ok(lab, ['network', 'rm', 'br1']);
    });
  });

  test('etcd down at start-up does not stop berthd; the host record appears when etcd starts', async (t) => {
    await withLab(t, { startDaemon: false }, async (lab) => {
      const etcd = await lab.startEtcd();
      await etcd.kill();
      await lab.startDaemon(CLUSTER_FLAGS);
      assert.equal((await lab.api('GET', '/_ping')).status, 200);
      await until('one line about the store in the log', async () => (/cluster store etcd:\/\/127\.0\.0\.1:2379 unreachable: .*\(berthd keeps trying in the background\)/.test(lab.daemonLog()) ? true : undefined));
      await sleep(2_500);
      assert.equal(lab.daemonLog().match(/unreachable/g)?.length, 1, 'logged once per outage');
      const refused = (await client(lab, ['get', '/berth/v1/hosts/x', '2000'])) as { error?: string; ms: number };
      assert.equal(refused.error, 'ClusterStoreUnavailableError: cluster store etcd://127.0.0.1:2379 unreachable: get /berth/v1/hosts/x: connect ECONNREFUSED 127.0.0.1:2379');
      t.diagnostic(`a get to a stopped etcd (connection refused) failed after ${refused.ms} ms: ${refused.error}`);
      await etcd.restart();
      const back = etcd;
      const rec = await until('host record', async () => (await hostRecords(back))[0]);
      assert.equal((JSON.parse(rec.value) as { advertise: string }).advertise, lab.hostUplinkAddr);
    });
  });

  test("etcd with TLS and client certificates: berthd's --cluster-store-opt kv.* files let it in", async (t) => {
    await withLab(t, { startDaemon: false }, async (lab) => {
      const tls = await makeCertificates(join(lab.dir, 'pki'));
      const etcd = await startEtcd((ns, argv) => lab.spawnIn(ns, argv), lab.hostNs, '127.0.0.1', join(lab.dir, 'etcd-tls'), 'lab-etcd', { tls });
      assert.match(etcd.endpoint, /^https:/);
      await lab.startDaemon([...CLUSTER_FLAGS, '--cluster-store-opt', `kv.cacertfile=${tls.caFile},kv.certfile=${tls.clientCertFile},kv.keyfile=${tls.clientKeyFile}`]);
      const rec = await until('host record over TLS', async () => (await hostRecords(etcd))[0]);
      assert.equal((JSON.parse(rec.value) as { advertise: string }).advertise, lab.hostUplinkAddr);
      // without a client certificate etcd refuses the handshake: berthd runs on and says so once
      await lab.restartDaemon([...CLUSTER_FLAGS, '--cluster-store-opt', `kv.cacertfile=${tls.caFile}`]);
      await until('the refusal in the log', async () => (/cluster store etcd:\/\/127\.0\.0\.1:2379 unreachable: .*: TLS: .*bad certificate \(berthd keeps trying in the background\)/.test(lab.daemonLog()) ? true : undefined));
      assert.equal((await lab.api('GET', '/_ping')).status, 200);
    });
  });

  test('bad cluster flags: berthd refuses to start with one line', async (t) => {
    await withLab(t, { startDaemon: false }, async (lab) => {
      const cases: [string[], RegExp][] = [
        [['--cluster-store', STORE, '--cluster-advertise', 'nosuch0'], /^berthd: invalid --cluster-advertise "nosuch0": no such interface \(here: .*uplink0.*\)$/],
        [['--cluster-store', 'consul://10.0.0.1:8500', '--cluster-advertise', 'uplink0'], /^berthd: invalid --cluster-store "consul:\/\/10\.0\.0\.1:8500": berth's cluster store is etcd/],
        [['--cluster-advertise', 'uplink0'], /^berthd: --cluster-advertise needs --cluster-store/],
        [['--cluster-store', STORE, '--cluster-advertise', 'uplink0', '--cluster-store-opt', 'kv.cacertfile=/nonexistent.pem'], /^berthd: invalid --cluster-store-opt kv\.cacertfile: no such file \/nonexistent\.pem$/],
      ];
      for (const [flags, message] of cases) {
        const r = await lab.inHost(lab.daemonArgv(flags), { timeoutMs: 20_000 });
        assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr.trim(), message);
      }
    });
  });
});

/** A CA, a certificate for etcd on 127.0.0.1 and a client certificate, all signed by that CA. */
async function makeCertificates(dir: string): Promise<EtcdTls> {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const ossl = (args: string[]) => runOk(['openssl', ...args]);
  await ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('ca-key.pem'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=lab-ca']);
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
    await ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${name}-key.pem`), '-out', f(`${name}.csr`), '-subj', `/CN=lab-${name}`]);
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    await ossl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`)]);
  }
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server-key.pem'), clientCertFile: f('client.pem'), clientKeyFile: f('client-key.pem') };
}
