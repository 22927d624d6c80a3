import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.js';
import { busyboxTar, dockerFails, dockerOk, DOCKER_20, DOCKER_28, importBusybox } from '../compat/docker-cli.js';
import { byName, containersByName, describeDiffs, shapeDiff, type DiffOptions } from '../compat/shape-diff.js';

// berth's JSON next to dockerd 20.10's, recorded by scripts/record-reference.sh after the
// same steps (busybox image bb; my_net1; vm1 on my_net1; d1 on the default bridge; then
// the shapes block: odd network names, "my net", net_full with every create option,
// c_created / c_api given endpoint settings before their start, p1 with ports and DNS,
// every swarm endpoint). Compared key by key at API 1.41, the version the 20.10 client
// speaks, in both directions: every key dockerd prints, berth prints, with the same JSON
// type, and no key more, unless named below with the reason.

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/dockerd-20.10/', import.meta.url));
const fixture = <T = unknown>(name: string): T => JSON.parse(readFileSync(FIXTURES + name, 'utf8')) as T;

/** Values that differ between any two daemons: compared by JSON type only. */
const VARYING: RegExp[] = [
  /(.*\.)?Id/, /(.*\.)?Created/, /.*EndpointID/, /.*NetworkID/, /.*SandboxID/, /.*SandboxKey/,
  /State\.(Pid|StartedAt|FinishedAt)/,
  // container list entries (keyed "/name"): "Up 2 seconds", the image's sha256 id
  /\/[^.]+\.(Status|ImageID)/,
  // short ids: the container's hostname, and the alias user-defined networks add
  /Config\.Hostname/, /.*\.Aliases/,
  // dockerd shows the image's sha256 id here (Config.Image keeps the name, compared)
  /Image/,
  // files under each daemon's own data root
  /(ResolvConf|Hostname|Hosts|Log)Path/,
];

/** Values where berth differs from dockerd on purpose, each with its reason; key and type still compared. */
const BERTH_VALUES: Record<string, RegExp> = {
  'the default bridge is berth0, not docker0': /(.*\.)?Options\.com\.docker\.network\.bridge\.name/,
  'no storage driver: berth runs the image directory as it is (dockerd recorded with vfs)': /Driver|GraphDriver\.Name/,
  'containers run under berth-shim, not runc': /HostConfig\.Runtime/,
  'berth makes no cgroup namespace: "host"': /HostConfig\.CgroupnsMode/,
  'berth masks and write-protects no /proc paths: []': /HostConfig\.(MaskedPaths|ReadonlyPaths)/,
  'berth publishes IPv4 only (dockerd adds a [::] binding) on random host ports': /NetworkSettings\.Ports\.(9090|5000)\/tcp/,
};

/** Keys not compared at all, each with its reason. */
const NOT_COMPARED: Record<string, RegExp> = {
  // a client reading it as *bool takes either
  'dockerd echoes what the client sent (false from docker create, nothing from docker run); berth has no memory cgroup: null': /HostConfig\.OomKillDisable/,
  // newer dockerd prints it, as berth does (the list is keyed by name: "bridge.IPAM…")
  'dockerd 20.10 leaves the default bridge\'s Gateway out of its IPAM config': /bridge\.IPAM\.Config\[0\]\.Gateway/,
};
/** The same, in GET /networks/bridge itself. */
const BRIDGE_GATEWAY = /IPAM\.Config\[0\]\.Gateway/;

/**
 * c_api is made by a bare POST /containers/create with no HostConfig (as curl or a
 * low-level SDK call makes it): dockerd echoes the request's HostConfig, so its lists are
 * null there and it leaves Runtime out; berth shows what the docker CLI's requests get.
 */
const BARE_API_CLIENT = /HostConfig\.(BlkioWeightDevice|Devices|Dns|DnsOptions|DnsSearch|PortBindings|RestartPolicy\.Name|Runtime)/;

const OPTS: DiffOptions = { typeOnly: [...VARYING, ...Object.values(BERTH_VALUES)], ignore: Object.values(NOT_COMPARED) };
/** Networks: "Driver" there is the network driver, compared by value. */
const NETWORK_OPTS: DiffOptions = { typeOnly: [...VARYING, BERTH_VALUES['the default bridge is berth0, not docker0']!], ignore: OPTS.ignore };

describe('API shapes next to dockerd 20.10', { concurrency: false }, () => {
  let lab: Lab;
  const get = async (path: string): Promise<unknown> => {
    const r = await lab.api('GET', `/v1.41${path}`);
    assert.equal(r.status, 200, `GET ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const same = (what: string, docker: unknown, berth: unknown, opts: DiffOptions = OPTS) => {
    const diffs = shapeDiff(docker, berth, opts);
    assert.equal(diffs.length, 0, `${what} differs from dockerd 20.10:\n${describeDiffs(diffs)}`);
  };
  const sameContainer = async (name: string, file: string, opts = OPTS) => same(name, fixture(file), await get(`/containers/${encodeURIComponent(name)}/json`), opts);
  const BARE_OPTS: DiffOptions = { ...OPTS, ignore: [...OPTS.ignore!, BARE_API_CLIENT] };
  const sameNetwork = async (name: string, file: string, opts = NETWORK_OPTS) =>
    same(name, containersByName(fixture(file)), containersByName(await get(`/networks/${encodeURIComponent(name)}`)), opts);
  const sameList = async (query: string, file: string) =>
    same(`GET /containers/json${query}`, byName(fixture(file)), byName(await get(`/containers/json${query}`)));
  /**
   * GET /containers/json while p1 runs. dockerd lists Ports in map order: sorted here.
   * dockerd's [::] bindings of this IPv4-only container are left out (its docker-proxy
   * carries them; berth publishes on [::] only containers with IPv6) and the random
   * PublicPort of 9090 is compared by type.
   */
  const sameListedPorts = async () => {
    type Port = { IP?: string; PrivatePort: number };
    const sorted = (list: unknown, v4only: boolean) => (list as { Ports: Port[] }[]).map((x) => ({
      ...x,
      Ports: x.Ports.filter((p) => !v4only || p.IP !== '::').sort((a, b) => a.PrivatePort - b.PrivatePort || (a.IP ?? '').localeCompare(b.IP ?? '')),
    }));
    const random = /\/p1\.Ports\[\d+\]\.PublicPort/;
    same('GET /containers/json (p1 running)', byName(sorted(fixture('container-list-p1.json'), true)), byName(sorted(await get('/containers/json'), false)),
      { ...OPTS, typeOnly: [...OPTS.typeOnly!, random] });
  };
  // the requests the recording made with the 20.10 client, made with it here too
  const d20 = (args: string[]) => dockerOk(lab, DOCKER_20, args);

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
    same('network list', byName(fixture('networks.json')), byName(await get('/networks')), NETWORK_OPTS);
  });

  test('GET /networks/my_net1 matches, containers and all', () => sameNetwork('my_net1', 'network-my_net1.json'));

  test('GET /networks/bridge matches, except the bridge interface name', () => sameNetwork('bridge', 'network-bridge.json', { ...NETWORK_OPTS, ignore: [...NETWORK_OPTS.ignore!, BRIDGE_GATEWAY] }));

  test('GET /containers/vm1/json: every key of dockerd\'s, HostConfig and Config in full', () => sameContainer('vm1', 'container-vm1.json'));

  test('GET /containers/d1/json (default bridge) matches key by key', () => sameContainer('d1', 'container-d1.json'));

  test('GET /containers/json: the entries match key by key', () => sameList('', 'container-list.json'));

  test('"my net": a name with a space, with the docker CLI, matches dockerd\'s network and container', async () => {
    await d20(['network', 'create', 'my net']);
    await d20(['run', '-d', '--name', 'spacey', '--network', 'my net', 'bb', 'sleep', '3600']);
    await sameNetwork('my net', 'network-my-net.json');
    await sameContainer('spacey', 'container-spacey.json');
    await d20(['rm', '-f', 'spacey']);
    await d20(['network', 'rm', 'my net']);
  });

  test('network create takes the names dockerd takes and refuses the ones it refuses, with its message', async () => {
    const recorded = fixture<Record<string, { status: number; Name: string | null; body: { message?: string } }>>('network-names.json');
    const problems: string[] = [];
    for (const [name, want] of Object.entries(recorded)) {
      const r = await lab.api('POST', '/v1.41/networks/create', { Name: name });
      // dockerd answers a blank name with a 500; it is the caller's mistake: berth says 400
      const status = want.status === 500 ? 400 : want.status;
      const shown = r.status === 201 ? ((await get(`/networks/${r.body.Id}`)) as { Name: string }).Name : null;
      if (r.status === 201) assert.equal((await lab.api('DELETE', `/v1.41/networks/${r.body.Id}`)).status, 204);
      if (r.status !== status || shown !== want.Name || (want.body.message !== undefined && r.body.message !== want.body.message)) {
        problems.push(`${JSON.stringify(name)}: dockerd ${want.status} ${JSON.stringify(want.body)}, berth ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('networks with odd names work end to end: create, connect, resolve, list, rm', async () => {
    const names = ['ünïcödé 名前', 'a/b:c,d', '-lead', 'n'.repeat(300)];
    for (const name of names) {
      const created = await lab.api('POST', '/v1.41/networks/create', { Name: name });
      assert.equal(created.status, 201, `${name}: ${JSON.stringify(created.body)}`);
      const id = created.body.Id as string;
      const path = `/v1.41/networks/${encodeURIComponent(name)}`;
      // the kernel's side is named after the id, never the name
      await lab.inHost(['ip', 'link', 'show', `br-${id.slice(0, 12)}`]).then((r) => assert.equal(r.code, 0, r.stderr));
      assert.equal((await lab.api('POST', `${path}/connect`, { Container: 'd1', EndpointConfig: { Aliases: ['odd'] } })).status, 200);
      assert.equal((await lab.api('POST', `${path}/connect`, { Container: 'vm1' })).status, 200);
      const net = (await get(`/networks/${encodeURIComponent(name)}`)) as { Name: string; Containers: Record<string, { Name: string }> };
      assert.equal(net.Name, name);
      assert.deepEqual(Object.values(net.Containers).map((c) => c.Name).sort(), ['d1', 'vm1']);
      const inspect = (await get('/containers/d1/json')) as { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } };
      const ip = inspect.NetworkSettings.Networks[name]?.IPAddress;
      assert.ok(ip, `d1 has an address on ${name}`);
      const lookup = await dockerOk(lab, DOCKER_28, ['exec', 'vm1', 'nslookup', 'odd']);
      assert.match(lookup, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));
      assert.ok((await dockerOk(lab, DOCKER_28, ['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes(name));
      assert.ok((await lab.berth(['network', 'ls'])).stdout.includes(name.slice(0, 20)));
      for (const c of ['d1', 'vm1']) assert.equal((await lab.api('POST', `${path}/disconnect`, { Container: c })).status, 200);
      assert.equal((await lab.api('DELETE', path)).status, 204);
      await lab.inHost(['ip', 'link', 'show', `br-${id.slice(0, 12)}`]).then((r) => assert.notEqual(r.code, 0, `br-${id.slice(0, 12)} is gone`));
    }
    // berth's own CLI takes them too
    const spaced = 'spaced out ünï';
    assert.equal((await lab.berth(['network', 'create', spaced])).code, 0);
    assert.equal((await lab.berth(['network', 'inspect', '-f', '{{.Name}}', spaced])).stdout.trim(), spaced);
    assert.equal((await lab.berth(['network', 'rm', spaced])).code, 0);
    const blank = await lab.berth(['network', 'create', ' ']);
    assert.notEqual(blank.code, 0);
    assert.match(blank.stderr, /invalid name: /);
  });

  test('endpoint settings given before the start (--mac-address, connect --driver-opt, EndpointsConfig) show as dockerd shows them', async () => {
    await d20(['network', 'create', '--subnet', '10.77.0.0/16', '--ip-range', '10.77.1.0/24', '--gateway', '10.77.0.1',
      '--aux-address', 'host1=10.77.0.5', '--ipam-opt', 'foo=bar', '-o', 'com.docker.network.driver.mtu=1400', '-o', 'custom=x',
      '--label', 'a=b', '--label', 'empty=', '--internal', '--attachable', 'net_full']);
    await d20(['create', '--name', 'c_created', '--network', 'my_net1', '--mac-address', '02:42:ac:12:00:99', 'bb', 'sleep', '3600']);
    await d20(['network', 'connect', '--driver-opt', 'k=v', '--alias', 'al', '--ip', '10.77.1.10', 'net_full', 'c_created']);
    await sameContainer('c_created', 'container-created.json');
    const api = await lab.api('POST', '/v1.41/containers/create?name=c_api', {
      Image: 'bb', Cmd: ['sleep', '3600'],
      NetworkingConfig: { EndpointsConfig: { my_net1: { DriverOpts: { k1: 'v1' }, MacAddress: '02:42:ac:12:00:98', Aliases: ['api'] } } },
    });
    assert.equal(api.status, 201, JSON.stringify(api.body));
    await sameContainer('c_api', 'container-api-created.json', BARE_OPTS);
    await sameList('?all=1', 'container-list-all.json');

    await d20(['start', 'c_created', 'c_api']);
    await sameContainer('c_created', 'container-created-started.json');
    await sameNetwork('net_full', 'network-full.json');
    // the MAC and the driver options given at create time reached the interface's endpoint
    const started = (await get('/containers/c_api/json')) as { NetworkSettings: { Networks: Record<string, { MacAddress: string; DriverOpts: unknown }> } };
    assert.deepEqual(started.NetworkSettings.Networks.my_net1, { ...started.NetworkSettings.Networks.my_net1, MacAddress: '02:42:ac:12:00:98', DriverOpts: { k1: 'v1' } });
    assert.match(await dockerOk(lab, DOCKER_28, ['exec', 'c_api', 'cat', '/sys/class/net/eth0/address']), /02:42:ac:12:00:98/);

    await d20(['kill', 'c_created', 'c_api']);
    await d20(['wait', 'c_created', 'c_api']);
    await sameContainer('c_created', 'container-created-stopped.json');
    await sameContainer('c_api', 'container-api-stopped.json', BARE_OPTS);
    await d20(['rm', '-f', 'c_created', 'c_api']);
    await d20(['network', 'rm', 'net_full']);
  });

  test('HostConfig and Config carry ports, DNS, host entries, hostname, env, workdir and labels as dockerd does', async () => {
    await d20(['run', '-d', '--name', 'p1', '-p', '127.0.0.1:8080:80', '-p', '9090', '--expose', '7070', '--dns', '192.0.2.53',
      '--dns-search', 'example.test', '--dns-option', 'ndots:2', '--add-host', 'h:10.0.0.1', '--hostname', 'p1host',
      '--domainname', 'example.test', '-e', 'A=1', '-w', '/tmp', '--label', 'x=y', 'bb', 'sleep', '3600']);
    await sameContainer('p1', 'container-p1.json');
    // the paths shown are the files the container sees
    const p1 = (await get('/containers/p1/json')) as { HostsPath: string; ResolvConfPath: string; HostnamePath: string };
    assert.match(readFileSync(p1.HostsPath, 'utf8'), /^10\.0\.0\.1\s+h$/m);
    assert.match(readFileSync(p1.ResolvConfPath, 'utf8'), /^nameserver 192\.0\.2\.53$/m);
    assert.equal(readFileSync(p1.HostnamePath, 'utf8').trim(), 'p1host');
    await sameListedPorts();
    await d20(['rm', '-f', 'p1']);
  });

  test('--network host, none and container:d1 show as dockerd shows them', async () => {
    await d20(['run', '-d', '--name', 'h1', '--network', 'host', 'bb', 'sleep', '3600']);
    await d20(['run', '-d', '--name', 'n1', '--network', 'none', 'bb', 'sleep', '3600']);
    await d20(['run', '-d', '--name', 'k1', '--network', 'container:d1', 'bb', 'sleep', '3600']);
    await sameContainer('h1', 'container-h1.json');
    await sameContainer('n1', 'container-n1.json');
    // container:NAME is kept as container:<id of NAME>: the id differs between daemons
    const k1 = fixture<{ HostConfig: { NetworkMode: string } }>('container-k1.json');
    assert.match(k1.HostConfig.NetworkMode, /^container:[0-9a-f]{64}$/);
    const d1 = (await get('/containers/d1/json')) as { Id: string };
    same('k1', k1, await get('/containers/k1/json'), { ...OPTS, typeOnly: [...OPTS.typeOnly!, /HostConfig\.NetworkMode/] });
    assert.equal(((await get('/containers/k1/json')) as typeof k1).HostConfig.NetworkMode, `container:${d1.Id}`);
    await sameNetwork('host', 'network-host.json');
    await sameNetwork('none', 'network-none.json');
    await d20(['rm', '-f', 'h1', 'n1', 'k1']);
  });

  test('an image\'s ENTRYPOINT, CMD, LABEL and EXPOSE show in Config as dockerd shows them; -P publishes the image\'s port', async () => {
    await dockerOk(lab, DOCKER_28, ['import', '-c', 'ENV PATH=/bin', '-c', 'ENTRYPOINT ["/bin/sleep"]', '-c', 'CMD ["3600"]',
      '-c', 'LABEL img=yes', '-c', 'EXPOSE 5000', busyboxTar(), 'bbe']);
    await d20(['run', '-d', '--name', 'e1', 'bbe']);
    await d20(['run', '-d', '--name', 'e2', '--entrypoint', '/bin/sh', '--label', 'img=no', 'bbe', '-c', 'sleep 3600']);
    await d20(['run', '-d', '--name', 'e3', '-P', 'bbe']);
    await sameContainer('e1', 'container-e1.json');
    await sameContainer('e2', 'container-e2.json');
    await sameContainer('e3', 'container-e3.json');
    assert.match(await dockerOk(lab, DOCKER_28, ['port', 'e3', '5000']), /^0\.0\.0\.0:\d+$/m);
    await d20(['rm', '-f', 'e1', 'e2', 'e3']);
  });

  test('every swarm endpoint answers as a dockerd outside any swarm: same status, same message', async () => {
    const recorded = fixture<Record<string, { status: number; body: unknown }>>('swarm.json');
    const problems: string[] = [];
    for (const [request, want] of Object.entries(recorded)) {
      const [method, path] = request.split(' ');
      const r = await lab.api(method!, `/v1.41${path}`, method === 'GET' || method === 'DELETE' ? undefined : {});
      if (r.status !== want.status || JSON.stringify(r.body) !== JSON.stringify(want.body)) {
        problems.push(`${request}: dockerd ${want.status} ${JSON.stringify(want.body)}, berth ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
    assert.deepEqual(problems, []);
    for (const path of ['/swarm/init', '/swarm/join']) {
      const r = await lab.api('POST', `/v1.41${path}`, {});
      assert.equal(r.status, 503, path);
      assert.match(r.body.message, /berth does not support swarm mode/);
    }
    assert.deepEqual(((await get('/info')) as { Swarm: unknown }).Swarm, fixture<{ Swarm: unknown }>('info.json').Swarm);
    // the docker CLI, as a user meets them
    await dockerFails(lab, DOCKER_28, ['swarm', 'leave', '--force'], /This node is not part of a swarm/);
    await dockerFails(lab, DOCKER_28, ['service', 'ls'], /This node is not a swarm manager/);
    await dockerFails(lab, DOCKER_20, ['secret', 'ls'], /This node is not a swarm manager/);
  });
});
