// A cluster store client as one host's berthd would use it, run in a lab netns by
// cluster-store.test.ts (the test process itself cannot reach the lab's etcd). Prints one
// JSON line per result. Usage:
//   node cluster-client.js ENDPOINT claim   START_AT KEY_PREFIX N asc|desc  N claims of KEY_PREFIX<i>, all at once at START_AT (ms since epoch)
//   node cluster-client.js ENDPOINT allocate START_AT NETWORK SUBNET N [settle]  N address allocations at once (settle: errors too)
//   node cluster-client.js ENDPOINT allocate-ip NETWORK SUBNET IP          one allocation of exactly IP
//   node cluster-client.js ENDPOINT release NETWORK IP                     gives an address back
//   node cluster-client.js ENDPOINT sync PREFIX [RECONCILE_MS]            follows PREFIX until killed
//   node cluster-client.js ENDPOINT get KEY [TIMEOUT_MS]                   one get: its value or its error, and how long it took
//   node cluster-client.js ENDPOINT put KEY VALUE
//   node cluster-client.js ENDPOINT latency N                              put and get round trips (ms, p50/p99)
//   node cluster-client.js ENDPOINT watch-from PREFIX REVISION            a watch from REVISION: ok, or how etcd canceled it
import { AddressAllocator } from '../../src/cluster/addresses.js';
import { claim } from '../../src/cluster/claims.js';
import { keys } from '../../src/cluster/keys.js';
import { parseClusterStoreUrl } from '../../src/cluster/options.js';
import { ClusterStore } from '../../src/cluster/store.js';
import { PrefixSync } from '../../src/cluster/sync.js';

const [endpoint, cmd, ...args] = process.argv.slice(2);
const out = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};
const url = `etcd://${endpoint}`;

async function atStart(startAt: string): Promise<void> {
  const wait = Number(startAt) - Date.now();
  // a client that comes late races nobody: the test would prove nothing
  if (wait <= 0) throw new Error(`ready ${-wait} ms after the start time: give the clients more time`);
  await new Promise((r) => setTimeout(r, wait));
}

async function main(): Promise<void> {
  const store = ClusterStore.connect({ url, endpoints: parseClusterStoreUrl(url) }, { timeoutMs: cmd === 'get' && args[1] ? Number(args[1]) : undefined });
  switch (cmd) {
    case 'claim': {
      const [startAt, prefix, n, order] = args;
      await store.get('/berth/v1/warm-up'); // connected before the race starts
      await atStart(startAt);
      // one host goes up the list, the other down: they meet in the middle, key by key
      const indexes = Array.from({ length: Number(n) }, (_, i) => i);
      if (order === 'desc') indexes.reverse();
      const results = await Promise.all(indexes.map((i) =>
        claim(store, `${prefix}${i}`, JSON.stringify(`${process.pid}`), `name "${prefix.split('/').pop()}${i}"`).then(() => ({ key: `${prefix}${i}`, won: true, ms: Date.now() - Number(startAt) }), (err: Error) => ({ key: `${prefix}${i}`, won: false, ms: Date.now() - Number(startAt), error: `${err.name}: ${err.message}` }))));
      out(results.sort((x, y) => x.key.localeCompare(y.key, 'en', { numeric: true })));
      break;
    }
    case 'allocate': {
      const [startAt, networkId, subnet, n] = args;
      const allocator = new AddressAllocator(store);
      await store.get('/berth/v1/warm-up');
      await atStart(startAt);
      const allocations = Array.from({ length: Number(n) }, (_, i) => allocator.allocate({ networkId, subnet }, `ep-${process.pid}-${i}`));
      // settle: each allocation's address or error; else all must succeed
      if (args[4] === 'settle') out(await Promise.all(allocations.map((p) => p.then((ip) => ({ ip }), (err: Error) => ({ error: `${err.name}: ${err.message}` })))));
      else out(await Promise.all(allocations));
      break;
    }
    case 'allocate-ip': {
      const [networkId, subnet, ip] = args;
      try {
        out({ ip: await new AddressAllocator(store).allocate({ networkId, subnet }, `ep-${process.pid}`, { preferred: ip }) });
      } catch (err) {
        out({ error: `${(err as Error).name}: ${(err as Error).message}` });
      }
      break;
    }
    case 'release': {
      // as its owner would: only while it still holds the address
      const kv = await store.get(keys.address(args[0], args[1]));
      const owner = kv ? (JSON.parse(kv.value) as string) : 'nobody';
      const allocator = new AddressAllocator(store);
      const notMine = await allocator.release(args[0], args[1], `${owner}-not`);
      out({ released: !notMine && (await allocator.release(args[0], args[1], owner)) });
      break;
    }
    case 'sync': {
      const sync = new PrefixSync(store, args[0], {
        // args[1]: ms each reconcile takes (an owner programming the kernel), 0 by default
        reconcile: async (all, why) => {
          out({ reconcile: all.map((kv) => kv.key).sort(), why });
          await new Promise((r) => setTimeout(r, Number(args[1] ?? 0)));
        },
        put: (kv) => out({ put: kv.key, value: kv.value }),
        delete: (key) => out({ delete: key }),
      }, { retryMs: 300, log: (msg) => out({ log: msg }) });
      sync.start();
      process.on('SIGTERM', () => void sync.stop().then(() => process.exit(0)));
      return; // runs until stopped
    }
    case 'get': {
      const t0 = Date.now();
      try {
        const kv = await store.get(args[0]);
        out({ value: kv?.value ?? null, ms: Date.now() - t0 });
      } catch (err) {
        out({ error: `${(err as Error).name}: ${(err as Error).message}`, ms: Date.now() - t0 });
      }
      break;
    }
    case 'watch-from': {
      const w = await store.watch(args[0], args[1]);
      // etcd says "created", then cancels a watch whose revision it compacted
      const canceled = await new Promise<Error | undefined>((resolve) => {
        w.once('error', resolve);
        setTimeout(() => resolve(undefined), 2_000);
      });
      if (canceled) out({ canceled: canceled.message, compacted: await store.compactedSince(args[1]) });
      else out({ ok: true });
      await w.cancel();
      break;
    }
    case 'latency': {
      // N puts one after another, then N gets: the round trips a host's calls cost
      const n = Number(args[0]);
      const times = (xs: number[]) => {
        const sorted = [...xs].sort((a, b) => a - b);
        return { p50: sorted[Math.floor(n * 0.5)], p99: sorted[Math.min(n - 1, Math.floor(n * 0.99))] };
      };
      await store.get('/berth/v1/warm-up');
      const puts: number[] = [];
      const gets: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await store.put(`/berth/v1/latency/${i}`, '{}');
        puts.push(performance.now() - t0);
      }
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await store.get(`/berth/v1/latency/${i}`);
        gets.push(performance.now() - t0);
      }
      out({ put: times(puts), get: times(gets) });
      break;
    }
    case 'put':
      await store.put(args[0], args[1]);
      out({ ok: true });
      break;
    default:
      throw new Error(`unknown command ${cmd}`);
  }
  store.close();
}

main().catch((err: Error) => {
  process.stderr.write(`cluster-client: ${err.stack}\n`);
  process.exit(1);
});
