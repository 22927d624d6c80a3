// Remote network drivers (issue 15): a plugin found in berthd's plugin folder, activated
// and driven over Docker's plugin protocol v1. The plugin (test/lab/net-plugin.ts) really
// networks, with a bridge and veth pairs of its own: containers on its network reach
// each other by IP and name through the interfaces it made.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { sleep } from '../lab/exec.js';
import { labFor, type Lab } from '../lab/lab.js';
import type { LabProcess } from '../lab/process.js';
import { normalizeCalls, type PluginCall } from '../lab/plugin-calls.js';
import { eventually, fails, hostOk, inspect, ok, pingFrom, runSleeper } from './helpers.js';

const PLUGIN = fileURLToPath(new URL('../lab/net-plugin.js', import.meta.url));

interface Call {
  method: string;
  body: Record<string, any>;
  accept?: string;
}

class LabPlugin {
  private proc: LabProcess | undefined;
  constructor(private readonly lab: Lab, readonly dir: string, readonly name: string) {}

  get log(): string {
    return join(this.dir, `${this.name}.calls`);
  }

  async start(...args: string[]): Promise<void> {
    await this.stop();
    this.proc = this.lab.spawnIn(this.lab.hostNs, ['node', PLUGIN, join(this.dir, `${this.name}.sock`), this.log, ...args]);
    await this.proc.waitForOutput('ready\n');
  }

  async stop(): Promise<void> {
    await this.proc?.stop('SIGTERM');
    this.proc = undefined;
  }

  /** The calls since the last take, in order. */
  take(): (Call & PluginCall)[] {
    let text = '';
    try {
      text = readFileSync(this.log, 'utf8');
    } catch {
      return [];
    }
    writeFileSync(this.log, '');
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call);
  }
}

const methods = (calls: Call[]) => calls.map((c) => c.method.replace(/^NetworkDriver\./, ''));
/** The lab plugin's veth ends on the host (lph…/lpc…): by name, since its bridge (lp + 10 hex
 * of the network id) may begin with the same letters. */
async function pluginVeths(lab: Lab, nid: string, master?: string): Promise<string[]> {
  const names = (await hostOk(lab, ['ip', '-o', 'link', 'show', ...(master ? ['master', master] : [])])).split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '');
  return names.filter((n) => /^lp[hc][0-9a-f]{9}$/.test(n) && n !== `lp${nid.slice(0, 10)}`);
}

/** A lab whose berthd finds the lab plugin "labnet" in a plugin folder of its own. */
async function labWithPlugin(t: TestContext): Promise<{ lab: Lab; plugin: LabPlugin }> {
  const lab = await labFor(t, { startDaemon: false });
  const dir = join(lab.dir, 'plugins');
  mkdirSync(dir, { recursive: true });
  const plugin = new LabPlugin(lab, dir, 'labnet');
  t.after(() => plugin.stop());
  await plugin.start();
  await lab.startDaemon(['--plugin-dir', dir]);
  return { lab, plugin };
}

test('a remote network driver plugin, over Docker\'s plugin protocol', async (t) => {
  const { lab, plugin } = await labWithPlugin(t);

  let nid = '';
  await t.test('network create -d PLUGIN: activated, asked its capabilities, then CreateNetwork with the IPAM data and -o options', async () => {
    nid = await ok(lab, ['network', 'create', '-d', 'labnet', '--subnet', '10.77.0.0/24', '-o', 'color=blue', 'pnet']);
    lab.foreignLinks.add(`lp${nid.slice(0, 10)}`); // the plugin's bridge: not berth's to account for
    const calls = plugin.take();
    assert.deepEqual(methods(calls), ['Plugin.Activate', 'GetCapabilities', 'CreateNetwork']);
    assert.ok(calls.every((c) => c.accept === 'application/vnd.docker.plugins.v1.2+json'), 'the protocol\'s media type');
    assert.deepEqual(calls[2]!.body, {
      NetworkID: nid,
      Options: { 'com.docker.network.enable_ipv6': false, 'com.docker.network.generic': { color: 'blue' } },
      IPv4Data: [{ AddressSpace: 'LocalDefault', Pool: '10.77.0.0/24', Gateway: '10.77.0.1/24' }],
      IPv6Data: [],
    });
    assert.match(await ok(lab, ['network', 'ls', '--filter', 'name=pnet']), /pnet\s+labnet\s+local/);
    const info = (await lab.api('GET', '/info')).body as { Plugins: { Network: string[] } };
    assert.ok(info.Plugins.Network.includes('labnet'), `docker info lists the plugin: ${info.Plugins.Network.join(', ')}`);
  });

  await t.test('containers on it reach each other by IP and name through the interfaces the plugin made', async () => {
    await runSleeper(lab, 'p1', ['--network', 'pnet']);
    await runSleeper(lab, 'p2', ['--network', 'pnet']);
    const calls = plugin.take();
    assert.deepEqual(methods(calls), ['CreateEndpoint', 'Join', 'ProgramExternalConnectivity', 'EndpointOperInfo', 'CreateEndpoint', 'Join', 'ProgramExternalConnectivity', 'EndpointOperInfo']);
    const [create, join1] = calls as [Call, Call];
    assert.deepEqual(create.body.Interface, { Address: '10.77.0.2/24', AddressIPv6: '', MacAddress: '' }, 'the MAC is left to the plugin, as dockerd does');
    assert.equal(join1.body.SandboxKey, await inspect(lab, 'p1', '{{.NetworkSettings.SandboxKey}}'));
    assert.equal(await inspect(lab, 'p2', '{{(index .NetworkSettings.Networks "pnet").IPAddress}}'), '10.77.0.3');
    assert.ok(await pingFrom(lab, 'p1', '10.77.0.3'));
    assert.ok(await pingFrom(lab, 'p1', 'p2'), 'by name, through berth\'s resolver');
    assert.match(await ok(lab, ['exec', 'p1', 'ip', 'route']), /default via 10\.77\.0\.1 dev eth0/, 'the plugin\'s gateway is the default route');
    assert.equal((await pluginVeths(lab, nid, `lp${nid.slice(0, 10)}`)).filter((n) => n.startsWith('lph')).length, 2, 'the host ends are on the plugin\'s bridge');
  });

  await t.test('a plugin that restarts is activated again before it is asked anything else', async () => {
    await plugin.stop();
    const run = runSleeper(lab, 'p4', ['--network', 'pnet']);
    await sleep(300); // the run waits for the plugin meanwhile
    await plugin.start();
    await run;
    assert.deepEqual(methods(plugin.take()), ['Plugin.Activate', 'CreateEndpoint', 'Join', 'ProgramExternalConnectivity', 'EndpointOperInfo']);
    await ok(lab, ['rm', '-f', 'p4']);
    plugin.take();
  });

  await t.test('rm: RevokeExternalConnectivity, Leave, then DeleteEndpoint', async () => {
    const ep = JSON.parse(await inspect(lab, 'p1', '{{json (index .NetworkSettings.Networks "pnet").EndpointID}}')) as string;
    await ok(lab, ['rm', '-f', 'p1']);
    const calls = plugin.take();
    assert.deepEqual(methods(calls), ['RevokeExternalConnectivity', 'Leave', 'DeleteEndpoint']);
    assert.ok(calls.every((c) => c.body.EndpointID === ep && c.body.NetworkID === nid));
  });

  await t.test('berthd restarted: the network is kept, its running container still reached, and its endpoint left on rm', async () => {
    await lab.restartDaemon();
    assert.match(await ok(lab, ['network', 'ls', '--filter', 'name=pnet']), /pnet\s+labnet/);
    await runSleeper(lab, 'p3', ['--network', 'pnet']);
    assert.ok(await pingFrom(lab, 'p3', 'p2'));
    await ok(lab, ['rm', '-f', 'p2', 'p3']);
    // p2 was programmed before the restart and is not programmed again; its removal revokes it as dockerd's would
    assert.deepEqual(methods(plugin.take()).filter((m) => m !== 'Plugin.Activate' && m !== 'GetCapabilities'),
      ['CreateEndpoint', 'Join', 'ProgramExternalConnectivity', 'EndpointOperInfo', 'RevokeExternalConnectivity', 'Leave', 'DeleteEndpoint', 'RevokeExternalConnectivity', 'Leave', 'DeleteEndpoint']);
    await ok(lab, ['network', 'rm', 'pnet']);
    assert.deepEqual(methods(plugin.take()), ['DeleteNetwork']);
    assert.equal((await lab.inHost(['ip', 'link', 'show', `lp${nid.slice(0, 10)}`])).code, 1, 'the plugin deleted its bridge');
  });

  await t.test('berthd started while the plugin is down: its network is kept, and used once the plugin answers', async () => {
    lab.foreignLinks.add(`lp${(await ok(lab, ['network', 'create', '-d', 'labnet', '--subnet', '10.79.0.0/24', 'later'])).slice(0, 10)}`);
    await plugin.stop();
    const t0 = Date.now();
    await lab.restartDaemon();
    t.diagnostic(`berthd answered ${Date.now() - t0} ms after its restart with the plugin down`);
    assert.match(await ok(lab, ['network', 'ls', '--filter', 'name=later']), /later\s+labnet/);
    await plugin.start();
    plugin.take();
    await runSleeper(lab, 'p5', ['--network', 'later']);
    assert.deepEqual(methods(plugin.take()), ['Plugin.Activate', 'CreateEndpoint', 'Join', 'ProgramExternalConnectivity', 'EndpointOperInfo']);
    await ok(lab, ['rm', '-f', 'p5']);
    await ok(lab, ['network', 'rm', 'later']);
    plugin.take();
  });

  await t.test('a plugin that refuses, hangs or is not there: one clear line naming it, nothing half-made', async () => {
    await fails(lab, ['network', 'create', '-d', 'nosuch', 'nn'], /plugin "nosuch" not found/);
    await fails(lab, ['network', 'create', '--ipam-driver', 'nosuch', 'nn'], /plugin "nosuch" not found/);
    await fails(lab, ['network', 'create', '--ipam-driver', 'labnet', 'nn'], /plugin labnet does not implement IpamDriver \(it implements NetworkDriver\)/);
    await plugin.start('--fail', 'NetworkDriver.CreateNetwork', '--hang', 'NetworkDriver.Join');
    await fails(lab, ['network', 'create', '-d', 'labnet', 'refused'], /plugin labnet: NetworkDriver\.CreateNetwork: NetworkDriver\.CreateNetwork refused by the lab plugin/);
    assert.equal((await lab.berth(['network', 'inspect', 'refused'])).code, 1, 'no network left');
    plugin.take();
    // a hanging Join: the run fails in bounded time, and the endpoint is deleted at the plugin again
    await plugin.start('--hang', 'NetworkDriver.Join');
    lab.foreignLinks.add(`lp${(await ok(lab, ['network', 'create', '-d', 'labnet', '--subnet', '10.78.0.0/24', 'hangs'])).slice(0, 10)}`);
    const t0 = Date.now();
    await fails(lab, ['run', '-d', '--name', 'stuck', '--network', 'hangs', '--', 'sleep', '60'], /plugin labnet did not answer NetworkDriver\.Join within 10000 ms/);
    const took = Date.now() - t0;
    t.diagnostic(`a hanging Join failed the run after ${took} ms`);
    assert.ok(took < 20_000, 'bounded');
    await eventually('DeleteEndpoint after the hung Join', async () => methods(plugin.take()).includes('DeleteEndpoint'), 5_000);
    assert.equal((await ok(lab, ['ps', '--filter', 'name=stuck', '-q'])), '', 'the container does not run');
    await lab.berth(['rm', '-f', 'stuck']);
    await plugin.start();
    await ok(lab, ['network', 'rm', 'hangs']);
  });
});

// Conformance with the real thing: scripts/reference/70-plugin.sh recorded every call
// dockerd 20.10 made to this same plugin for the same steps (test/fixtures/dockerd-20.10/
// plugin-calls.json). berth must make the same calls with the same bodies, endpoint by
// endpoint and in the same order, but for what is said here:
//   - EndpointOperInfo: dockerd asks it twice while it fills a container's NetworkSettings
//     (the ports it shows come from the answer), berth once, for its gateway endpoint;
//   - Join's options on a connect: dockerd adds its legacy-link bookkeeping
//     (com.docker.network.generic {ChildEndpoints, ParentEndpoints}), berth has none;
//   - across endpoints the order may differ (dockerd removes two containers at once).
const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/dockerd-20.10/plugin-calls.json', import.meta.url));

function comparable(calls: PluginCall[]): PluginCall[] {
  return calls.filter((c) => c.method !== 'NetworkDriver.EndpointOperInfo').map((c) => {
    const body = c.body as Record<string, any>;
    if (c.method !== 'NetworkDriver.Join' || !body.Options?.['com.docker.network.generic']) return c;
    const { ['com.docker.network.generic']: _links, ...options } = body.Options;
    return { method: c.method, body: { ...body, Options: options } };
  });
}

function byEndpoint(calls: PluginCall[]): Map<string, PluginCall[]> {
  const out = new Map<string, PluginCall[]>();
  for (const c of calls) {
    const ep = (c.body as { EndpointID?: string }).EndpointID ?? '(network)';
    out.set(ep, [...(out.get(ep) ?? []), c]);
  }
  return out;
}

test('the plugin calls berth makes are the calls dockerd 20.10 makes (recorded reference)', async (t) => {
  const { lab, plugin } = await labWithPlugin(t);
  await runSleeper(lab, 'd1');
  // the steps of scripts/reference/70-plugin.sh
  const nid = await ok(lab, ['network', 'create', '-d', 'labnet', '--subnet', '10.77.0.0/24', '-o', 'color=blue', 'pnet']);
  lab.foreignLinks.add(`lp${nid.slice(0, 10)}`);
  await runSleeper(lab, 'p1', ['--network', 'pnet', '-p', '8081:80']);
  // the ports are the plugin's to publish: shown as its EndpointOperInfo says, as dockerd shows them
  assert.equal(await ok(lab, ['port', 'p1']), '80/tcp -> 0.0.0.0:8081');
  await runSleeper(lab, 'p2', ['--network', 'pnet']);
  await ok(lab, ['network', 'connect', 'pnet', 'd1']);
  await ok(lab, ['network', 'disconnect', 'pnet', 'd1']);
  await ok(lab, ['rm', '-f', 'p1', 'p2']);
  await ok(lab, ['network', 'rm', 'pnet']);
  await ok(lab, ['rm', '-f', 'd1']);
  const ours = comparable(normalizeCalls(plugin.take()));
  const theirs = comparable(JSON.parse(readFileSync(FIXTURE, 'utf8')) as PluginCall[]);
  const [mine, ref] = [byEndpoint(ours), byEndpoint(theirs)];
  assert.deepEqual([...mine.keys()].sort(), [...ref.keys()].sort(), 'the same endpoints');
  for (const [ep, calls] of ref) assert.deepEqual(mine.get(ep), calls, `the calls for ${ep}`);
  assert.deepEqual(ours.at(-1), theirs.at(-1), 'DeleteNetwork last');
});

const IPAM_FIXTURE = fileURLToPath(new URL('../../../test/fixtures/dockerd-20.10/ipam-calls.json', import.meta.url));

test('an IPAM plugin gives a bridge network its pool and its containers their addresses, with the calls dockerd 20.10 makes', async (t) => {
  const { lab, plugin } = await labWithPlugin(t);
  await plugin.start('--ipam');
  await runSleeper(lab, 'd1');
  plugin.take();
  // the steps of scripts/reference/75-ipam-plugin.sh
  await ok(lab, ['network', 'create', '--ipam-driver', 'labnet', '--subnet', '10.78.0.0/24', '--gateway', '10.78.0.1', '--ip-range', '10.78.0.128/25', '--aux-address', 'host1=10.78.0.5', 'inet']);
  await runSleeper(lab, 'i1', ['--network', 'inet']);
  await runSleeper(lab, 'i2', ['--network', 'inet', '--ip', '10.78.0.200']);
  // the plugin's addresses, on berth's bridge: reachable by name
  assert.equal(await inspect(lab, 'i1', '{{.NetworkSettings.Networks.inet.IPAddress}}'), '10.78.0.2', 'the address the plugin chose');
  assert.equal(await inspect(lab, 'i2', '{{.NetworkSettings.Networks.inet.IPAddress}}'), '10.78.0.200');
  assert.ok(await pingFrom(lab, 'i1', 'i2'));
  assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{.IPAM.Driver}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}} {{.AuxiliaryAddresses}}{{end}}', 'inet']), 'labnet 10.78.0.0/24 10.78.0.1 10.78.0.128/25 map[host1:10.78.0.5]');
  await ok(lab, ['network', 'connect', 'inet', 'd1']);
  await ok(lab, ['network', 'disconnect', 'inet', 'd1']);
  await ok(lab, ['rm', '-f', 'i1', 'i2']);
  await ok(lab, ['network', 'rm', 'inet']);
  await ok(lab, ['network', 'create', '--ipam-driver', 'labnet', 'inet2']);
  assert.equal(await ok(lab, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'inet2']), '10.200.1.0/24 10.200.1.1', 'a pool of the plugin\'s choice');
  await ok(lab, ['network', 'rm', 'inet2']);
  const ours = normalizeCalls(plugin.take()).filter((c) => c.method.startsWith('IpamDriver.'));
  // differences, and why: dockerd activates the plugin as a network driver too
  // (NetworkDriver.GetCapabilities), berth only when a network uses it as one; docker's CLI
  // removes i1 and i2 in parallel, so their two releases come in either order
  const theirs = (JSON.parse(readFileSync(IPAM_FIXTURE, 'utf8')) as PluginCall[]).filter((c) => c.method.startsWith('IpamDriver.'));
  const rmPhase = (calls: PluginCall[]) => {
    const at = calls.findIndex((c) => c.method === 'IpamDriver.ReleaseAddress') + 1;
    return [...calls.slice(0, at), ...calls.slice(at, at + 2).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), ...calls.slice(at + 2)];
  };
  assert.deepEqual(rmPhase(ours), rmPhase(theirs));
  await ok(lab, ['rm', '-f', 'd1']);
});

test('an IPAM plugin that refuses, hangs, forgets or restarts: one clear line, nothing half-made, addresses replayed', async (t) => {
  const { lab, plugin } = await labWithPlugin(t);
  await plugin.start('--ipam', '--fail', 'IpamDriver.RequestPool');
  await fails(lab, ['network', 'create', '--ipam-driver', 'labnet', 'nn'], /plugin labnet: IpamDriver\.RequestPool: IpamDriver\.RequestPool refused by the lab plugin/);
  // a refused gateway: the pool it had goes back
  await plugin.start('--ipam', '--fail', 'IpamDriver.RequestAddress');
  plugin.take();
  await fails(lab, ['network', 'create', '--ipam-driver', 'labnet', '--subnet', '10.81.0.0/24', 'nn'], /IpamDriver\.RequestAddress refused by the lab plugin/);
  assert.deepEqual(methods(plugin.take()).filter((m) => m.startsWith('IpamDriver.')).slice(-2), ['IpamDriver.RequestAddress', 'IpamDriver.ReleasePool']);
  assert.equal((await lab.berth(['network', 'inspect', 'nn'])).code, 1, 'no network left');
  await fails(lab, ['network', 'create', '-d', 'overlay', '--ipam-driver', 'labnet', 'ov'], /berth runs IPAM plugins for networks of scope local only/);

  // a container's address that hangs: the run fails in bounded time, nothing of it stays.
  // (A plugin's capabilities are read once per activation, as dockerd reads them once per
  // registration: berthd restarts to meet this plugin as a new one.)
  await plugin.start('--ipam', '--replay');
  await lab.restartDaemon();
  await ok(lab, ['network', 'create', '--ipam-driver', 'labnet', '--subnet', '10.82.0.0/24', 'ok']);
  await plugin.start('--ipam', '--replay', '--hang', 'IpamDriver.RequestAddress');
  const t0 = Date.now();
  await fails(lab, ['run', '-d', '--name', 'stuck', '--network', 'ok', '--', 'sleep', '60'], /plugin labnet did not answer IpamDriver\.RequestAddress within 10000 ms/);
  t.diagnostic(`a hanging RequestAddress failed the run after ${Date.now() - t0} ms`);
  assert.equal(await ok(lab, ['ps', '--filter', 'name=stuck', '-q']), '');

  // the plugin restarted and forgot everything (RequiresRequestReplay): berthd's restart asks again
  await plugin.start('--ipam', '--replay');
  await lab.restartDaemon();
  await runSleeper(lab, 'r1', ['--network', 'ok']);
  const r1 = await inspect(lab, 'r1', '{{.NetworkSettings.Networks.ok.IPAddress}}');
  await plugin.start('--ipam', '--replay');
  plugin.take();
  await lab.restartDaemon();
  await runSleeper(lab, 'r2', ['--network', 'ok']);
  const replayed = plugin.take().filter((c) => c.method.startsWith('IpamDriver.')).map((c) => `${c.method.replace('IpamDriver.', '')} ${c.body.Address ?? c.body.Pool ?? ''}`);
  assert.deepEqual(replayed.filter((c) => !c.startsWith('Get')), ['RequestPool 10.82.0.0/24', 'RequestAddress 10.82.0.1', `RequestAddress ${r1}`, 'RequestAddress '], 'pool, gateway and the running container\'s address again, then the new one');
  assert.notEqual(await inspect(lab, 'r2', '{{.NetworkSettings.Networks.ok.IPAddress}}'), r1, 'no address given twice');
  assert.ok(await pingFrom(lab, 'r2', 'r1'));
  await ok(lab, ['rm', '-f', 'r1', 'r2']);
  await ok(lab, ['network', 'rm', 'ok']);
});

test('berthd killed while a plugin makes an endpoint (kill -9 before and after its Join answer): the restart has the plugin let go, nothing left', async (t) => {
  const { lab, plugin } = await labWithPlugin(t);
  const nid = await ok(lab, ['network', 'create', '-d', 'labnet', '--subnet', '10.83.0.0/24', 'pnet']);
  lab.foreignLinks.add(`lp${nid.slice(0, 10)}`);
  for (const at of ['plugin-endpoint.recorded', 'plugin-endpoint.joined']) {
    await lab.stopDaemon();
    await lab.startDaemon(undefined, { BERTH_CRASH_AT: at });
    plugin.take();
    const cut = await lab.berth(['run', '-d', '--name', 'cut', '--network', 'pnet', '--', 'sleep', '60']);
    assert.notEqual(cut.code, 0, `${at}: berthd died in the run`);
    const joined = methods(plugin.take()).filter((m) => m !== 'Plugin.Activate');
    assert.deepEqual(joined, at === 'plugin-endpoint.recorded' ? [] : ['CreateEndpoint', 'Join'], `${at}: what the plugin did before the kill`);
    await lab.killDaemon();
    await lab.startDaemon();
    // the endpoint is given back at the plugin (it may not know it: a refusal is no failure) …
    assert.deepEqual(methods(plugin.take()).filter((m) => ['Leave', 'DeleteEndpoint'].includes(m)), ['Leave', 'DeleteEndpoint'], `${at}: the restart had the plugin let go`);
    // … and the veth it made with it
    assert.deepEqual(await pluginVeths(lab, nid), [], `${at}: no veth of the plugin left`);
    assert.equal((await lab.berth(['ps', '-a', '--filter', 'name=cut', '--format', '{{.Status}}'])).stdout.trim().startsWith('Up'), false);
    await ok(lab, ['rm', '-f', 'cut']);
  }
  await runSleeper(lab, 'after', ['--network', 'pnet']);
  await ok(lab, ['rm', '-f', 'after']);
  await ok(lab, ['network', 'rm', 'pnet']);
});
