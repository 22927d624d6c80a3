// dockerode's scenario of the compatibility suite (issue 10), the twin of sdk_scenario.py.
//
// Usage: node dist/test/compat/dockerode-scenario.js SOCKET VERSION ROOTFS_TAR
//   VERSION: "auto" (dockerode's default: unversioned paths, the server's own version) or
//   e.g. "v1.41".
// Drives a daemon (berthd, or dockerd 20.10 in scripts/record-reference.sh) as dockerode
// users do: image import, a network lifecycle with IPAM config, labels and options,
// containers with a published port, links, aliases, connect/disconnect with static IPs,
// the clean-ups (label-filtered list, remove({force, v}), pruneNetworks with filters, swarm
// probes). Prints one JSON object: `observed` (free of ids and times, so two daemons compare
// with deepEqual) and `answers` (raw JSON answers for the key-by-key shape comparison).
// An API error never stops the scenario: the step records {error: status, message}.
import { setTimeout as sleep } from 'node:timers/promises';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';

const [SOCKET, VERSION, ROOTFS_TAR] = process.argv.slice(2);
const LABEL = 'berth.sdk=dockerode';
const HOST_PORT = 18081;
const PAGE = 'ode-page';

const observed: Record<string, unknown> = {};
const answers: Record<string, unknown> = {};

interface ModemError extends Error {
  statusCode?: number;
  json?: { message?: string } | null;
}

/** API errors as observations; container and network ids in messages vary, so they are masked. */
function errorOf(e: unknown): unknown {
  const err = e as ModemError;
  if (typeof err.statusCode !== 'number') return { exception: err.name, message: err.message };
  return { error: err.statusCode, message: maskIds(err.json?.message ?? err.message) };
}

function maskIds(message: string): string {
  return message.replace(/\b[0-9a-f]{64}\b/g, '<id>');
}

async function step(name: string, fn: () => Promise<unknown>, record?: string): Promise<unknown> {
  let value: unknown;
  try {
    value = (await fn()) ?? null;
    // answers without a body (204, or an empty 200) come back as an empty Buffer
    if (Buffer.isBuffer(value)) value = value.length ? value.toString('utf8') : null;
  } catch (e) {
    value = errorOf(e);
  }
  observed[name] = value;
  if (record) answers[record] = value;
  return value;
}

async function answer(name: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    answers[name] = await fn();
  } catch (e) {
    answers[name] = errorOf(e);
  }
}

const docker = new Docker({ socketPath: SOCKET, ...(VERSION === 'auto' ? {} : { version: VERSION }) });

/** exec as dockerode users write it: create, start with hijack, demux, inspect for the code. */
async function execOut(container: string, argv: string[]): Promise<{ code: number | null; out: string }> {
  const exec = await docker.getContainer(container).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise((resolve) => stream.on('end', resolve).on('close', resolve));
  const info = await exec.inspect();
  return { code: info.ExitCode, out: Buffer.concat(chunks).toString('utf8').trim() };
}

async function firstLine(container: string, argv: string[]): Promise<{ code: number | null; line: string }> {
  const r = await execOut(container, argv);
  return { code: r.code, line: r.out.split('\n')[0] ?? '' };
}

async function ipv4Addrs(container: string): Promise<string[]> {
  const { out } = await execOut(container, ['ip', '-o', '-4', 'addr', 'show']);
  return out.split('\n').filter((l) => / inet /.test(l) && l.split(/\s+/)[1] !== 'lo').map((l) => l.split(/\s+/)[3] ?? '').sort();
}

/** The published port from the host; httpd may need a moment to listen. */
async function fetchPage(url: string): Promise<unknown> {
  let last: Error | undefined;
  for (let i = 0; i < 50; i++) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
      return (await r.text()).trim();
    } catch (e) {
      last = e as Error;
      await sleep(200);
    }
  }
  return { exception: last?.name, message: last?.message };
}

/** Other blocks of the recording leave networks and containers behind: only ours count. */
const ours = (names: string[]) => names.map((n) => n.replace(/^\//, '')).filter((n) => n.startsWith('ode_')).sort();
const netNames = async (opts: object) => ours((await docker.listNetworks(opts)).map((n) => n.Name));
const containerNames = async (opts: object) => ours((await docker.listContainers(opts)).map((c) => c.Names[0] ?? ''));

async function run(name: string, cmd: string[], extra: Partial<Docker.ContainerCreateOptions> = {}): Promise<Docker.ContainerInspectInfo> {
  const c = await docker.createContainer({ name, Image: 'odebb', Cmd: cmd, Labels: { 'berth.sdk': 'dockerode' }, ...extra });
  await c.start();
  return c.inspect();
}

async function importImage(): Promise<unknown> {
  const stream = await docker.importImage(ROOTFS_TAR, { repo: 'odebb', tag: 'latest', changes: ['ENV PATH=/bin', 'CMD ["/bin/sh"]'] } as object);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  answers['image-import'] = Buffer.concat(chunks).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
  const img = await docker.getImage('odebb').inspect();
  return { tags: img.RepoTags, cmd: img.Config.Cmd, env: img.Config.Env };
}

async function scenario(): Promise<void> {
  // ---- the daemon, as fixtures probe it ----
  await step('ping', async () => (await docker.ping()).toString());
  await step('info_swarm_state', async () => ((await docker.info()) as { Swarm: { LocalNodeState: string } }).Swarm.LocalNodeState);
  await answer('info-swarm', async () => ((await docker.info()) as { Swarm: unknown }).Swarm);
  await step('swarm_inspect', () => docker.swarmInspect(), 'swarm-inspect');
  await step('swarm_leave_force', () => docker.swarmLeave({ force: true }));

  await step('image_import', importImage);

  // ---- the network lifecycle ----
  await step('network_create', async () => {
    const net = await docker.createNetwork({
      Name: 'ode_front', Driver: 'bridge', CheckDuplicate: true, Attachable: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: '10.87.0.0/24', IPRange: '10.87.0.128/25', Gateway: '10.87.0.1', AuxiliaryAddresses: { reserved: '10.87.0.5' } }] },
      Labels: { 'berth.sdk': 'dockerode', role: 'front' },
      Options: { 'com.docker.network.bridge.enable_icc': 'true' },
    });
    const n = await net.inspect();
    return { name: n.Name, labels: n.Labels, options: n.Options, ipam: n.IPAM, attachable: n.Attachable };
  });
  await step('network_create_back', async () => (await (await docker.createNetwork({ Name: 'ode_back', IPAM: { Config: [{ Subnet: '10.88.0.0/24' }] }, Labels: { 'berth.sdk': 'dockerode', role: 'back' } })).inspect()).Name);
  await step('network_create_keep', async () => (await (await docker.createNetwork({ Name: 'ode_keep', Labels: { 'berth.keep': '1' } })).inspect()).Name);
  await step('network_create_duplicate', async () => (await docker.createNetwork({ Name: 'ode_front', CheckDuplicate: true })).id);
  await step('network_remove', async () => {
    await (await docker.createNetwork({ Name: 'ode_gone', Labels: { 'berth.sdk': 'dockerode' } })).remove();
    return netNames({ filters: { name: ['ode_gone'] } });
  });
  await answer('network-inspect-empty', () => docker.getNetwork('ode_front').inspect());
  await step('network_list_label', () => netNames({ filters: { label: [LABEL] } }));
  await step('network_list_label_value', () => netNames({ filters: { label: ['role=front'] } }));
  await step('network_list_labels_all_match', () => netNames({ filters: { label: [LABEL, 'role=back'] } }));
  await step('network_list_driver_custom', () => netNames({ filters: { driver: ['bridge'], type: ['custom'] } }));
  await step('network_list_names', () => netNames({ filters: { name: ['ode_front', 'ode_keep'] } }));
  await step('network_list_nothing', () => netNames({ filters: { label: ['berth.sdk=nobody'] } }));
  await step('network_list_unknown_filter', () => netNames({ filters: { colour: ['blue'] } }));
  await answer('network-list-label', async () => (await docker.listNetworks({ filters: { label: [LABEL] } })).sort((a, b) => a.Name.localeCompare(b.Name)));

  // ---- containers: a published port, aliases, links, static IPs ----
  await step('container_run_web', async () => {
    const c = await run('ode_web', ['sh', '-c', `mkdir -p /www && echo ${PAGE} > /www/index.html && exec httpd -f -p 80 -h /www`], {
      ExposedPorts: { '80/tcp': {} },
      HostConfig: { NetworkMode: 'ode_front', PortBindings: { '80/tcp': [{ HostPort: String(HOST_PORT) }] } },
    });
    return { status: c.State.Status, host_port: c.NetworkSettings.Ports['80/tcp']?.[0]?.HostPort, labels: c.Config.Labels };
  });
  // the image a container runs, found through the id in its inspect (and in the list)
  await step('container_image', async () => {
    const byInspect = await docker.getImage((await docker.getContainer('ode_web').inspect()).Image).inspect();
    const listed = (await docker.listContainers({ filters: { name: ['ode_web'] } }))[0];
    return { tags: byInspect.RepoTags, list_id_matches: listed?.ImageID === byInspect.Id };
  });
  await step('published_port_page', () => fetchPage(`http://127.0.0.1:${HOST_PORT}/index.html`));
  await step('container_run_db_static_alias', async () => {
    const c = await run('ode_db', ['sleep', '3600'], {
      HostConfig: { NetworkMode: 'ode_front' },
      NetworkingConfig: { EndpointsConfig: { ode_front: { Aliases: ['database'], IPAMConfig: { IPv4Address: '10.87.0.200' } } } },
    });
    const ep = c.NetworkSettings.Networks.ode_front;
    return { ip: ep?.IPAddress, aliases_include_database: (ep?.Aliases ?? []).includes('database') };
  });
  await step('alias_resolves_from_peer', () => firstLine('ode_web', ['ping', '-c1', '-W2', 'database']));
  // links on a user network live on the endpoint (what `docker run --link` sends there)
  await step('container_run_linked', async () => {
    const c = await run('ode_linked', ['sleep', '3600'], {
      HostConfig: { NetworkMode: 'ode_front' },
      NetworkingConfig: { EndpointsConfig: { ode_front: { Links: ['ode_db:dblink'] } } },
    });
    return { links: c.HostConfig.Links ?? null, endpoint_links: c.NetworkSettings.Networks.ode_front?.Links ?? null };
  });
  await step('link_alias_resolves', () => firstLine('ode_linked', ['ping', '-c1', '-W2', 'dblink']));
  await step('link_alias_private_to_linker', async () => (await execOut('ode_web', ['ping', '-c1', '-W2', 'dblink'])).code !== 0);
  // HostConfig.Links alone on a user network: what a client that knows only the old field sends
  await step('hostconfig_links_on_user_network', async () => {
    await run('ode_hclinked', ['sleep', '3600'], { HostConfig: { NetworkMode: 'ode_front', Links: ['ode_db:hclink'] } });
    return (await firstLine('ode_hclinked', ['ping', '-c1', '-W2', 'hclink'])).code;
  });
  await step('legacy_link_on_default_bridge', async () => {
    await run('ode_legacy_target', ['sleep', '3600']);
    await run('ode_legacy', ['sleep', '3600'], { HostConfig: { Links: ['ode_legacy_target:oldlink'] } });
    const hosts = (await execOut('ode_legacy', ['cat', '/etc/hosts'])).out;
    return { hosts_has_alias: hosts.split('\n').some((l) => l.trim().split(/\s+/).slice(1).includes('oldlink')), ping: (await firstLine('ode_legacy', ['ping', '-c1', '-W2', 'oldlink'])).code };
  });
  await step('legacy_link_remove', () => docker.getContainer('ode_legacy/oldlink').remove({ link: true }));
  await step('legacy_link_after_remove', async () => (await docker.getContainer('ode_legacy').inspect()).HostConfig.Links ?? null);

  const back = docker.getNetwork('ode_back');
  await step('connect_static_ip', () => back.connect({ Container: 'ode_web', EndpointConfig: { IPAMConfig: { IPv4Address: '10.88.0.50' }, Aliases: ['backweb'] } }));
  await step('connect_addrs', () => ipv4Addrs('ode_web'));
  await step('connect_peer', () => back.connect({ Container: 'ode_db' }));
  await step('connect_alias_resolves', () => firstLine('ode_db', ['ping', '-c1', '-W2', 'backweb']));
  await step('connect_duplicate', () => back.connect({ Container: 'ode_web' }));
  await answer('container-inspect-web', () => docker.getContainer('ode_web').inspect());
  await answer('network-inspect-front', () => docker.getNetwork('ode_front').inspect());
  await answer('network-inspect-back', () => back.inspect());
  await step('network_containers', async () => ours(Object.values(((await back.inspect()) as { Containers: Record<string, { Name: string }> }).Containers).map((c) => c.Name)));
  await step('disconnect', () => back.disconnect({ Container: 'ode_web' }));
  await step('disconnect_addrs', () => ipv4Addrs('ode_web'));
  await step('disconnect_again', () => back.disconnect({ Container: 'ode_web' }));
  await step('network_remove_in_use', () => back.remove());

  // ---- clean-up, the way fixtures and apps do it ----
  await step('decoy', async () => (await run('ode_decoy', ['sleep', '3600'], { Labels: {} })).Name.replace(/^\//, ''));
  const exited = async (name: string, labels: Record<string, string>) => {
    const c = await docker.createContainer({ name, Image: 'odebb', Cmd: ['true'], Labels: labels });
    await c.start();
    return ((await c.wait()) as { StatusCode: number }).StatusCode;
  };
  await step('exited_labelled', () => exited('ode_exited', { 'berth.sdk': 'dockerode' }));
  await step('exited_unlabelled', () => exited('ode_exited_keep', {}));
  await step('container_list_running_filter', () => containerNames({ filters: { label: [LABEL], status: ['running'] } }));
  await answer('container-list-label', async () => (await docker.listContainers({ all: true, filters: { label: [LABEL] } })).sort((a, b) => (a.Names[0] ?? '').localeCompare(b.Names[0] ?? '')));
  await step('containers_prune_label', async () => {
    const r = (await docker.pruneContainers({ filters: { label: [LABEL] } })) as { ContainersDeleted: string[] | null; SpaceReclaimed: number };
    answers['containers-prune'] = r;
    return { deleted: (r.ContainersDeleted ?? []).length, space: r.SpaceReclaimed };
  });
  await step('containers_exited_after_prune', () => containerNames({ all: true, filters: { status: ['exited'] } }));
  await step('cleanup_containers', async () => {
    const mine = await docker.listContainers({ all: true, filters: { label: [LABEL] } });
    for (const c of mine) await docker.getContainer(c.Id).remove({ force: true, v: true });
    return ours(mine.map((c) => c.Names[0] ?? ''));
  });
  await step('containers_left', () => containerNames({ all: true }));
  await step('networks_prune_label', async () => ((await docker.pruneNetworks({ filters: { label: [LABEL] } })) as { NetworksDeleted: string[] | null }).NetworksDeleted?.sort() ?? []);
  await step('networks_left', () => netNames({}));
  await step('network_inspect_removed', async () => (await docker.getNetwork('ode_front').inspect()).Name);
  await step('container_inspect_removed', async () => (await docker.getContainer('ode_web').inspect()).Name);
  await step('decoy_remove', () => docker.getContainer('ode_decoy').remove({ force: true, v: true }));
  await step('exited_keep_remove', () => docker.getContainer('ode_exited_keep').remove({ v: true }));
  await answer('networks-prune-keep', () => docker.pruneNetworks({ filters: { label: ['berth.keep'] } }));
}

try {
  await scenario();
} catch (e) {
  // a step outside step() failed: report what was seen so far
  observed.fatal = { exception: (e as Error).name, message: (e as Error).message };
}
process.stdout.write(JSON.stringify({ observed, answers }, null, 1) + '\n');
