import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.js';
import { dockerOk, DOCKER_28, importBusybox } from '../compat/docker-cli.js';
import { containersByName, describeDiffs, shapeDiff, type DiffOptions } from '../compat/shape-diff.js';

// Issue 5's conformance suite, part 3: berth's JSON next to dockerd 20.10's, recorded by
// scripts/record-reference.sh after the same seed steps (busybox image bb; my_net1; vm1 on
// my_net1; d1 on the default bridge). Compared key by key at API 1.41, the version the
// 20.10 client speaks; ids, times, pids and sandbox paths by JSON type only.

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/dockerd-20.10/', import.meta.url));
const fixture = (name: string): unknown => JSON.parse(readFileSync(FIXTURES + name, 'utf8'));

const VARYING: RegExp[] = [
  /(.*\.)?Id/, /(.*\.)?Created/, /.*EndpointID/, /.*NetworkID/, /.*SandboxID/, /.*SandboxKey/,
  /State\.(Pid|StartedAt|FinishedAt)/, /Config\.Hostname/, /.*DNSNames/, /.*\.Aliases/,
  /(Config\.)?Image/, /(ResolvConf|Hostname|Hosts|Log)Path/,
];

/**
 * Known, intended differences: the default bridge's interface name (docker0 / berth0);
 * its IPAM Gateway, which dockerd 20.10 leaves out of the list and inspect (newer dockerd
 * prints it, as berth does).
 */
const INTENDED: RegExp[] = [/(.*\.)?Options\.com\.docker\.network\.bridge\.name/, /bridge\.IPAM\.Config\[0\]\.Gateway/];

/** The networking part of container inspect: what issue 5 promises to match. */
const CONTAINER_SCOPE: DiffOptions = {
  typeOnly: VARYING,
  ignore: [
    ...INTENDED,
    // outside networking: storage, security, resources, mounts
    /AppArmorProfile|ExecIDs|GraphDriver|Mounts|MountLabel|ProcessLabel|Driver|Platform|RestartCount/,
    /HostConfig\.(?!NetworkMode$|PortBindings$|PublishAllPorts$|Dns$|DnsOptions$|DnsSearch$|ExtraHosts$|Links$).*/,
    /Config\.(?!Hostname$|ExposedPorts$|Env$|Cmd$|Image$|Domainname$).*/,
    /State\.(OOMKilled|Dead|Paused|Restarting|Error|ExitCode|Status|Running)/,
  ],
};

describe('API shapes next to dockerd 20.10', { concurrency: false }, () => {
  let lab: Lab;
  const get = async (path: string): Promise<unknown> => {
    const r = await lab.api('GET', `/v1.41${path}`);
    assert.equal(r.status, 200, `GET ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const same = (what: string, docker: unknown, berth: unknown, opts: DiffOptions) => {
    const diffs = shapeDiff(docker, berth, opts);
    assert.equal(diffs.length, 0, `${what} differs from dockerd 20.10:\n${describeDiffs(diffs)}`);
  };

  before(async () => {
    lab = await Lab.create();
    await importBusybox(lab, DOCKER_28);
    await dockerOk(lab, DOCKER_28, ['network', 'create', 'my_net1']);
    await dockerOk(lab, DOCKER_28, ['run', '-d', '--name', 'vm1', '--network', 'my_net1', 'bb', 'sleep', '3600']);
    await dockerOk(lab, DOCKER_28, ['run', '-d', '--name', 'd1', 'bb', 'sleep', '3600']);
  });
  after(async () => {
    await lab?.destroy();
  });

  test('GET /networks lists the same networks with the same keys and values', async () => {
    const byName = (list: unknown) => Object.fromEntries((list as { Name: string }[]).map((n) => [n.Name, n]));
    same('network list', byName(fixture('networks.json')), byName(await get('/networks')), { typeOnly: VARYING, ignore: INTENDED });
  });

  test('GET /networks/my_net1 matches, containers and all', async () => {
    same('my_net1', containersByName(fixture('network-my_net1.json') as Record<string, unknown>), containersByName(await get('/networks/my_net1') as Record<string, unknown>), { typeOnly: VARYING, ignore: INTENDED });
  });

  test('GET /networks/bridge matches, except the bridge interface name', async () => {
    same('bridge', containersByName(fixture('network-bridge.json') as Record<string, unknown>), containersByName(await get('/networks/bridge') as Record<string, unknown>), { typeOnly: VARYING, ignore: [...INTENDED, /IPAM\.Config\[0\]\.Gateway/] });
  });

  test('GET /containers/vm1/json: State, NetworkSettings and the networking HostConfig match', async () => {
    same('vm1', fixture('container-vm1.json'), await get('/containers/vm1/json'), CONTAINER_SCOPE);
  });

  test('GET /containers/d1/json (default bridge): the top-level NetworkSettings fields match', async () => {
    same('d1', fixture('container-d1.json'), await get('/containers/d1/json'), CONTAINER_SCOPE);
  });
});
