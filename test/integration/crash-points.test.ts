import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkConsistency } from '../lab/consistency.js';
import { labFor, type Lab } from '../lab/lab.js';
import { inspect, ok } from './helpers.js';

// berthd killed with -9 at each named instant between the steps of each journaled
// operation (src/engine/crash-points.ts: BERTH_CRASH_AT makes berthd SIGKILL itself
// there), started again, then: kernel, processes and store agree (consistency.ts), the
// operation is either finished or undone as a whole, and the next operation works at
// once. The random drill (crash-drill.test.ts) rarely lands in windows this narrow.

interface Case {
  at: string;
  /** made before berthd runs with the crash point armed */
  setup: (lab: Lab) => Promise<void>;
  /** the API call that reaches the crash point */
  trigger: (lab: Lab) => Promise<unknown>;
  /** finished or undone, as this operation must be */
  outcome: (lab: Lab) => Promise<void>;
}

async function create(lab: Lab, hostConfig: Record<string, unknown>, endpoints?: Record<string, unknown>): Promise<void> {
  const res = await lab.api('POST', '/containers/create?name=cc', { Cmd: ['sleep', '3600'], ExposedPorts: { '80/tcp': {} }, HostConfig: hostConfig, NetworkingConfig: { EndpointsConfig: endpoints ?? {} } });
  assert.equal(res.status, 201, res.text);
}
const created = async (lab: Lab) => create(lab, { NetworkMode: 'n1', PortBindings: { '80/tcp': [{ HostPort: '8080' }] } }, { n1: { IPAMConfig: { IPv4Address: '10.57.0.10' } } });
const running = async (lab: Lab) => {
  await ok(lab, ['run', '-d', '--name', 'cc', '--network', 'n1', '--ip', '10.57.0.10', '-p', '8080:80', '--', 'sleep', '3600']);
};
const start = (lab: Lab) => lab.api('POST', '/containers/cc/start');
const notStarted = async (lab: Lab) => {
  assert.equal(await inspect(lab, 'cc', '{{.State.Status}}'), 'created');
  assert.match(await inspect(lab, 'cc', '{{.State.Error}}'), /cut short/);
  // its address and its host port are free: a start now works
  await ok(lab, ['start', 'cc']);
  assert.equal(await inspect(lab, 'cc', '{{.NetworkSettings.Networks.n1.IPAddress}}'), '10.57.0.10');
};
const onN2 = async (lab: Lab) => (await inspect(lab, 'cc', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}')).trim();

const CASES: Case[] = [
  ...['start.recorded', 'start.sandbox', 'start.ports', 'start.process'].map((at): Case => ({ at, setup: created, trigger: start, outcome: notStarted })),
  {
    at: 'start.process',
    // with the host's network there is no netns to find its process by: only the shim's command line says it runs
    setup: (lab) => create(lab, { NetworkMode: 'host' }),
    trigger: start,
    outcome: async (lab) => assert.equal(await inspect(lab, 'cc', '{{.State.Status}}'), 'created'),
  },
  {
    at: 'exit.recorded',
    setup: running,
    trigger: (lab) => lab.api('POST', '/containers/cc/stop?t=0'),
    outcome: async (lab) => {
      assert.equal(await inspect(lab, 'cc', '{{.State.Status}}'), 'exited');
      assert.equal(await inspect(lab, 'cc', '{{.NetworkSettings.SandboxKey}}'), '');
    },
  },
  ...['connect.recorded', 'connect.assigned', 'connect.joined'].map((at): Case => ({
    at,
    setup: running,
    trigger: (lab) => lab.api('POST', '/networks/n2/connect', { Container: 'cc' }),
    outcome: async (lab) => {
      // finished (an address on n2, on its interface: the consistency check compared) or undone (not on n2)
      const nets = await onN2(lab);
      assert.match(nets, /^n1=10\.57\.0\.10( n2=10\.58\.0\.\d+)?$/, nets);
      await lab.berth(['network', 'disconnect', '-f', 'n2', 'cc']);
      await ok(lab, ['network', 'connect', 'n2', 'cc']);
      assert.match(await onN2(lab), /n2=10\.58\.0\.\d+/);
    },
  })),
  ...['disconnect.removed', 'disconnect.left'].map((at): Case => ({
    at,
    setup: async (lab) => {
      await running(lab);
      await ok(lab, ['network', 'connect', 'n2', 'cc']);
    },
    trigger: (lab) => lab.api('POST', '/networks/n2/disconnect', { Container: 'cc' }),
    outcome: async (lab) => {
      assert.equal(await onN2(lab), 'n1=10.57.0.10');
      await ok(lab, ['network', 'connect', 'n2', 'cc']);
    },
  })),
  ...['remove.torn-down', 'remove.dropped'].map((at): Case => ({
    at,
    setup: running,
    trigger: (lab) => lab.api('DELETE', '/containers/cc?force=1'),
    outcome: async (lab) => {
      assert.equal((await lab.berth(['inspect', 'cc'])).code, 1, 'the removal was finished');
    },
  })),
  {
    at: 'network-create.recorded',
    setup: async () => undefined,
    trigger: (lab) => lab.api('POST', '/networks/create', { Name: 'n3', Options: { 'com.docker.network.bridge.name': 'crashbr' } }),
    outcome: async (lab) => {
      assert.equal((await lab.inHost(['ip', 'link', 'show', 'crashbr'])).code, 0, 'the recorded network was made');
      await ok(lab, ['run', '--rm', '--network', 'n3', '--', 'true']);
      await ok(lab, ['network', 'rm', 'n3']);
    },
  },
  {
    at: 'network-remove.dropped',
    // a bridge name of its own: once the record is gone, only the intent says the bridge is berth's
    setup: async (lab) => void (await ok(lab, ['network', 'create', '-o', 'com.docker.network.bridge.name=crashbr', 'n3'])),
    trigger: (lab) => lab.api('DELETE', '/networks/n3'),
    outcome: async (lab) => {
      assert.equal((await lab.berth(['network', 'inspect', 'n3'])).code, 1);
      assert.notEqual((await lab.inHost(['ip', 'link', 'show', 'crashbr'])).code, 0, 'its bridge is gone');
    },
  },
];

async function clean(lab: Lab): Promise<void> {
  const ids = (await ok(lab, ['ps', '-aq'])).split('\n').filter(Boolean);
  if (ids.length) await ok(lab, ['rm', '-f', ...ids]);
  for (const n of ['n3']) await lab.berth(['network', 'rm', n]);
}

describe('kill -9 at every step of every journaled operation', { concurrency: false }, () => {
  test('each is finished or undone at start-up; nothing leaked; the next operation works', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--subnet', '10.57.0.0/24', 'n1']);
    await ok(lab, ['network', 'create', '--subnet', '10.58.0.0/24', 'n2']);
    const only = process.env.BERTH_CRASH_CASES?.split(',');
    for (const c of CASES.filter((x) => !only || only.includes(x.at))) {
      await t.test(c.at, async (tc) => {
        try {
          await runCase(lab, c);
        } catch (err) {
          tc.diagnostic(`berthd log:\n${lab.daemonLog().slice(-3000)}`);
          throw err;
        }
      });
    }
  });
});

/** One case: armed, triggered, started again, then checked. */
async function runCase(lab: Lab, c: Case): Promise<void> {
  await clean(lab);
  await c.setup(lab);
  await lab.stopDaemon();
  await lab.startDaemon(undefined, { BERTH_CRASH_AT: c.at });
  await c.trigger(lab).catch(() => undefined);
  await lab.stopDaemon(); // it killed itself: this only collects its log
  assert.match(lab.daemonLog(), /berthd killed by SIGKILL\n$/, `berthd reached ${c.at}`);
  await lab.startDaemon();
  const f = await checkConsistency(lab);
  assert.deepEqual(f, { processes: [], netnsMounts: [], links: [], addresses: [], nftElements: [], files: [], store: [] });
  await c.outcome(lab);
  // the next operation works the first time: a run with the same port and address
  await clean(lab);
  assert.doesNotMatch(lab.daemonLog(), /cannot settle/);
  await ok(lab, ['run', '-d', '--name', 'next', '--network', 'n1', '--ip', '10.57.0.10', '-p', '8080:80', '--', 'sleep', '3600']);
  await ok(lab, ['rm', '-f', 'next']);
  assert.equal(existsSync(join(lab.execRoot, 'netns')) ? (await lab.inHost(['ls', join(lab.execRoot, 'netns')])).stdout.trim() : '', '');
}
