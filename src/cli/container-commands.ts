import type { Command } from 'commander';
import type { Duplex } from 'node:stream';
import type { Client } from './client.js';
import { collect, eachName, filtersParam } from './args.js';
import { joinHostPort } from '../util/ip-family.js';
import { inspectEach, printList } from './output.js';
import { demux } from './streams.js';
import { exposedKeys, parseExpose, parsePortSpec, toPortBindings } from '../portmap/spec.js';
import { portLines, type NetworkPortsJson } from '../portmap/format.js';

// `berth run`, `ps`, `exec`, `logs`, `start`, `stop`, `restart`, `kill`, `wait`, `rm`, `inspect`:
// docker's flags and output, for process sandboxes.

interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  Created: number;
  State: string;
  Status: string;
  /** IP and PublicPort are absent for a port that is exposed, not published */
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
}

export function containerCommands(program: Command, client: () => Client): void {
  withContainerOptions(program.command('run')
    .description('Run a command in a new container (berth run [OPTIONS] [--] CMD [ARG...])')
    .helpOption('--help', 'display help for command')
    .argument('[cmd...]')
    .option('-d, --detach', 'run the container in the background and print its ID', false),
  ).passThroughOptions()
    .action(async (cmd: string[], o) => {
      const c = client();
      const id = await createContainer(c, cmd, o);
      if (o.detach) {
        await startOrUndo(c, id);
        process.stdout.write(id + '\n');
        return;
      }
      const stream = await c.hijack(`/containers/${id}/attach?stream=1&stdout=1&stderr=1${o.interactive ? '&stdin=1' : ''}`);
      const output = pump(stream, o.tty, o.interactive);
      const waited = c.call('POST', `/containers/${id}/wait?condition=next-exit`);
      await startOrUndo(c, id);
      const code = ((await waited).body as { StatusCode: number }).StatusCode;
      await output;
      process.exitCode = code;
    });

  withContainerOptions(program.command('create')
    .description('Create a new container, not started (berth create [OPTIONS] [--] CMD [ARG...])')
    .helpOption('--help', 'display help for command')
    .argument('[cmd...]'),
  ).passThroughOptions()
    .action(async (cmd: string[], o) => {
      process.stdout.write(`${await createContainer(client(), cmd, o)}\n`);
    });

  program.command('ps')
    .description('List containers')
    .option('-a, --all', 'show all containers (default shows just running)', false)
    .option('-q, --quiet', 'only display container IDs', false)
    .option('-f, --filter <k=v>', 'filter output as docker ps does (label=, name=, id=, status=, network=, ancestor=, exited=, publish=, …)', collect, [])
    .option('--format <fmt>', 'format output: table, json, or a Go template')
    .option('--no-trunc', 'do not truncate output')
    .action(async (o) => {
      const q = filtersParam(o.filter);
      const list = (await client().call('GET', `/containers/json${q ? q + '&' : '?'}all=${o.all ? 1 : 0}`)).body as ContainerSummary[];
      const { timeAgo } = await import('./format.js');
      await printList(list.map((x) => ({
        ID: o.trunc === false ? x.Id : x.Id.slice(0, 12),
        Image: x.Image,
        Command: JSON.stringify(o.trunc === false || x.Command.length <= 20 ? x.Command : x.Command.slice(0, 19) + '…'),
        CreatedAt: new Date(x.Created * 1000).toISOString(),
        RunningFor: timeAgo(x.Created * 1000),
        Status: x.Status,
        State: x.State,
        // "[::]:8080->80/tcp" for IPv6 bindings, as docker 26+ prints them
        Ports: x.Ports.map((p) => (p.PublicPort ? `${joinHostPort(p.IP ?? '', p.PublicPort)}->` : '') + `${p.PrivatePort}/${p.Type}`).join(', '),
        Names: x.Names.map((n) => n.replace(/^\//, '')).join(','),
      })), { quiet: o.quiet, format: o.format, kind: 'container', defaultTable: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}' });
    });

  program.command('inspect')
    .description('Display detailed information on containers')
    .argument('<container...>')
    .option('-f, --format <template>', 'format the output using the given Go template')
    .action(async (names: string[], o) => {
      await inspectEach(names, o.format, async (n) => (await client().call('GET', `/containers/${encodeURIComponent(n)}/json`)).body);
    });

  program.command('exec')
    .description('Run a command in a running container')
    .helpOption('--help', 'display help for command')
    .argument('<container>')
    .argument('<cmd...>')
    .option('-i, --interactive', 'keep STDIN open', false)
    .option('-t, --tty', 'allocate a pseudo-TTY', false)
    .option('-e, --env <K=V>', 'set environment variables', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-d, --detach', 'run the command in the background', false)
    .option('--privileged', 'give the command every capability', false)
    .passThroughOptions()
    .action(async (container: string, cmd: string[], o) => {
      const c = client();
      const exec = (await c.call('POST', `/containers/${encodeURIComponent(container)}/exec`, {
        Cmd: cmd, Env: o.env, WorkingDir: o.workdir, Tty: o.tty, AttachStdin: o.interactive, AttachStdout: !o.detach, AttachStderr: !o.detach, Privileged: o.privileged,
      })).body as { Id: string };
      if (o.detach) {
        await c.call('POST', `/exec/${exec.Id}/start`, { Detach: true, Tty: o.tty });
        return;
      }
      const stream = await c.hijack(`/exec/${exec.Id}/start`, { Detach: false, Tty: o.tty });
      await pump(stream, o.tty, o.interactive);
      const info = (await c.call('GET', `/exec/${exec.Id}/json`)).body as { ExitCode: number };
      process.exitCode = info.ExitCode;
    });

  program.command('logs')
    .description('Fetch the logs of a container')
    .argument('<container>')
    .option('-f, --follow', 'follow log output', false)
    .option('-n, --tail <n>', 'number of lines to show from the end of the logs', 'all')
    .action(async (container: string, o) => {
      const res = await client().open('GET', `/containers/${encodeURIComponent(container)}/logs?stdout=1&stderr=1&follow=${o.follow ? 1 : 0}&tail=${o.tail}`);
      if ((res.statusCode ?? 500) >= 400) {
        const { readAll } = await import('./client.js');
        const text = await readAll(res);
        throw new Error(JSON.parse(text).message ?? text);
      }
      if ((res.headers['content-type'] ?? '').includes('multiplexed')) await demux(res, process.stdout, process.stderr);
      else res.pipe(process.stdout);
    });

  for (const [name, desc] of [['start', 'Start one or more stopped containers'], ['stop', 'Stop one or more running containers'], ['restart', 'Restart one or more containers'], ['kill', 'Kill one or more running containers'], ['rm', 'Remove one or more containers']] as const) {
    const cmd = program.command(name).description(desc).argument('<container...>');
    if (name === 'stop' || name === 'restart') cmd.option('-t, --time <seconds>', 'seconds to wait before killing the container', '10');
    if (name === 'kill') cmd.option('-s, --signal <signal>', 'signal to send to the container', 'KILL');
    if (name === 'rm') {
      cmd.option('-f, --force', 'force the removal of a running container (uses SIGKILL)', false);
      cmd.option('-l, --link', 'remove the specified link (PARENT/ALIAS)', false);
    }
    cmd.action(async (names: string[], o) => {
      await eachName(names, (n) => {
        if (name === 'rm' && o.link) return client().call('DELETE', `/containers/${linkPath(n)}?link=1`);
        const path = `/containers/${encodeURIComponent(n)}`;
        if (name === 'start') return client().call('POST', `${path}/start`);
        if (name === 'stop' || name === 'restart') return client().call('POST', `${path}/${name}?t=${encodeURIComponent(o.time)}`);
        if (name === 'kill') return client().call('POST', `${path}/kill?signal=${encodeURIComponent(o.signal)}`);
        return client().call('DELETE', `${path}?force=${o.force ? 1 : 0}`);
      });
    });
  }

  program.command('port')
    .description('List port mappings or a specific mapping for the container')
    .argument('<container>')
    .argument('[port]', 'PORT[/PROTO]')
    .action(async (container: string, port: string | undefined) => {
      const body = (await client().call('GET', `/containers/${encodeURIComponent(container)}/json`)).body as { Name: string; NetworkSettings: { Ports: NetworkPortsJson } };
      const lines = portLines(body.NetworkSettings.Ports ?? {}, body.Name.replace(/^\//, ''), port);
      if (lines.length) process.stdout.write(lines.join('\n') + '\n');
    });

  program.command('wait')
    .description('Block until a container stops, then print its exit code')
    .argument('<container...>')
    .action(async (names: string[]) => {
      for (const n of names) {
        const res = (await client().call('POST', `/containers/${encodeURIComponent(n)}/wait`)).body as { StatusCode: number };
        process.stdout.write(`${res.StatusCode}\n`);
      }
    });
}

/** docker run -d semantics, but a container that cannot start is removed: nothing half-made. */
async function startOrUndo(c: Client, id: string): Promise<void> {
  try {
    await c.call('POST', `/containers/${id}/start`);
  } catch (err) {
    await c.call('DELETE', `/containers/${id}?force=1`).catch(() => undefined);
    throw err;
  }
}

/** Relays a hijacked stream: stdin in (with -i), output out (raw with -t, demuxed otherwise). */
function pump(stream: Duplex, tty: boolean, interactive: boolean): Promise<void> {
  if (interactive) {
    if (tty && process.stdin.isTTY) process.stdin.setRawMode(true);
    process.stdin.pipe(stream);
    process.stdin.on('end', () => (stream as Duplex & { end(): void }).end());
  }
  const done = tty ? new Promise<void>((r) => { stream.pipe(process.stdout, { end: false }); stream.on('end', r); stream.on('close', r); }) : demux(stream, process.stdout, process.stderr);
  return done.finally(() => {
    if (interactive) {
      process.stdin.unpipe(stream);
      if (tty && process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
    }
  });
}

/** PARENT/ALIAS as the path of DELETE /containers/…: each part escaped, the slash kept (docker trims outer slashes). */
function linkPath(name: string): string {
  const trimmed = name.replace(/^\/+|\/+$/g, '');
  if (!trimmed) throw new Error('Container name cannot be empty');
  return trimmed.split('/').map(encodeURIComponent).join('/');
}

/** The flags `run` and `create` share: what the container is made with. */
function withContainerOptions(cmd: Command): Command {
  return cmd
    .option('--rm', 'automatically remove the container when it exits', false)
    .option('-i, --interactive', 'keep STDIN open', false)
    .option('-t, --tty', 'allocate a pseudo-TTY', false)
    .option('--name <name>', 'assign a name to the container')
    .option('--network <net>', 'connect a container to a network: bridge, host, none, container:NAME, or a network name', 'bridge')
    .option('--net <net>', 'alias of --network')
    .option('--ip <ip>', 'IPv4 address (user-defined networks only)')
    .option('--ip6 <ip>', 'IPv6 address (user-defined networks with IPv6 only)')
    .option('--mac-address <mac>', 'container MAC address')
    .option('--link-local-ip <ip>', 'container IPv4/IPv6 link-local addresses', collect, [])
    .option('-h, --hostname <name>', 'container host name')
    .option('--pid <mode>', 'PID namespace to use: host, or container:NAME (default: its own)')
    .option('--rootfs <dir>', 'run with this directory as its root instead of the host filesystem')
    .option('--image <name>', 'run on an imported image (berth import): its rootfs, Env and Cmd')
    .option('-e, --env <K=V>', 'set environment variables', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('--dns <ip>', 'set custom DNS servers', collect, [])
    .option('--dns-search <domain>', 'set custom DNS search domains', collect, [])
    .option('--dns-opt <opt>', 'set DNS options', collect, [])
    .option('--dns-option <opt>', 'alias of --dns-opt', collect, [])
    .option('--add-host <name:ip>', 'add a custom host-to-IP mapping', collect, [])
    .option('--link <name:alias>', 'add link to another container', collect, [])
    .option('--network-alias <alias>', 'add network-scoped alias for the container', collect, [])
    .option('--expose <port>', 'expose a port or a range of ports', collect, [])
    .option('-p, --publish <[ip:][hostPort:]containerPort[/proto]>', "publish a container's port(s) to the host", collect, [])
    .option('-P, --publish-all', 'publish all exposed ports to random ports', false)
    .option('-l, --label <k=v>', 'set metadata on a container', collect, [])
    .option('--cap-add <cap>', 'add a Linux capability (NET_ADMIN, CAP_SYS_TIME, ALL …) to the default set', collect, [])
    .option('--cap-drop <cap>', 'drop a Linux capability (or ALL) from the default set', collect, [])
    .option('--privileged', 'give the container every capability (and no no_new_privs)', false)
    .option('--security-opt <opt>', 'security options: no-new-privileges[=true|false]', collect, []);
}

/** POST /containers/create from run's and create's flags; prints the daemon's warnings; returns the id. */
async function createContainer(c: Client, cmd: string[], o: Record<string, any>): Promise<string> {
  const network: string = o.net ?? o.network;
  const bindings = (o.publish as string[]).flatMap(parsePortSpec);
  const endpoint: Record<string, unknown> = {};
  if (o.ip || o.ip6 || o.linkLocalIp.length) endpoint.IPAMConfig = { IPv4Address: o.ip, IPv6Address: o.ip6, LinkLocalIPs: o.linkLocalIp.length ? o.linkLocalIp : undefined };
  if (o.networkAlias.length) endpoint.Aliases = o.networkAlias;
  // on a user-defined network links are the endpoint's, as the docker CLI sends them
  if (o.link.length && network && !['bridge', 'default', 'host', 'none'].includes(network) && !network.startsWith('container:')) endpoint.Links = o.link;
  const body = {
    Hostname: o.hostname ?? '',
    Cmd: cmd,
    Env: o.env,
    WorkingDir: o.workdir ?? '',
    Tty: o.tty,
    OpenStdin: o.interactive,
    AttachStdin: o.interactive,
    MacAddress: o.macAddress,
    Image: o.image ?? '',
    ExposedPorts: Object.fromEntries(exposedKeys(bindings, o.expose.flatMap(parseExpose)).map((k) => [k, {}])),
    Labels: Object.fromEntries(o.label.map((l: string) => [l.split('=')[0], l.split('=').slice(1).join('=')])),
    HostConfig: {
      NetworkMode: network,
      AutoRemove: o.rm,
      BerthRootfs: o.rootfs,
      Dns: o.dns,
      DnsSearch: o.dnsSearch,
      DnsOptions: [...o.dnsOpt, ...o.dnsOption],
      ExtraHosts: o.addHost,
      Links: o.link,
      PortBindings: toPortBindings(bindings),
      PublishAllPorts: o.publishAll,
      PidMode: o.pid ?? '',
      // absent when not given, as the docker CLI sends them: inspect then shows null
      CapAdd: o.capAdd.length ? o.capAdd : undefined,
      CapDrop: o.capDrop.length ? o.capDrop : undefined,
      SecurityOpt: o.securityOpt.length ? o.securityOpt : undefined,
      Privileged: o.privileged,
    },
    NetworkingConfig: { EndpointsConfig: Object.keys(endpoint).length ? { [network]: endpoint } : {} },
  };
  const created = (await c.call('POST', `/containers/create${o.name ? `?name=${encodeURIComponent(o.name)}` : ''}`, body)).body as { Id: string; Warnings?: string[] | null };
  // as the docker CLI prints them, on stderr
  for (const w of created.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
  return created.Id;
}
