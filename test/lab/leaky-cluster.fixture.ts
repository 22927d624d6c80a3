// A test file whose test fails and leaves its cluster behind: run by cluster-lab.test.ts
// under node's test runner, it must still end, its cluster (hosts, store, underlay)
// destroyed by the runner-wide hook in lab.ts. Not a *.test.js file: the suite does not
// run it itself.
import { test } from 'node:test';
import { Cluster } from './cluster.js';

test('a cluster nobody destroys, in a test that fails', async () => {
  const cluster = await Cluster.create({ hosts: 2, etcd: true });
  process.stdout.write(`leaky-cluster ${cluster.name} ${cluster.dir} ${cluster.host(1).dir} ${cluster.host(2).dir}\n`);
  throw new Error('failing on purpose');
});
