import { Command, CommanderError } from 'commander';
import { Client, DaemonError } from './client.js';
import { clientFor } from './connection.js';
import { containerCommands } from './container-commands.js';
import { networkCommands } from './network-commands.js';
import { imageCommands } from './image-commands.js';
import { toDot } from './graph-dot.js';
import { toSvg } from './graph-svg.js';
import type { Topology } from '../engine/topology.js';
import type { Explanation } from '../engine/explain/explain.js';
import { explanationText } from './explain-text.js';

// berth: docker's networking commands against berthd. Errors print one line and exit 1
// (125 for a run that could not start, as docker does). The command tree is built apart
// from its run so that the startup snapshot (snapshot.ts) can hold it built.

/** The whole CLI, flags and commands, not run yet. */
export function berthProgram(): Command {
  const program = new Command('berth')
    .description('berth: container networking on the real kernel (docker-compatible CLI)')
    .option('-H, --host <addr>', 'daemon socket to connect to: unix:///path or tcp://HOST:PORT (or $BERTH_HOST, $DOCKER_HOST)')
    // plain switches, as docker's: an optional value would swallow the command after them
    .option('--tls', 'use TLS; implied by --tlsverify (or $DOCKER_TLS)')
    .option('--tlsverify', "use TLS and verify the daemon's certificate (or $DOCKER_TLS_VERIFY)")
    .option('--tlscacert <path>', 'trust certificates signed only by this CA (default $DOCKER_CERT_PATH/ca.pem, ~/.docker/ca.pem)')
    .option('--tlscert <path>', 'path to the TLS certificate file (default $DOCKER_CERT_PATH/cert.pem)')
    .option('--tlskey <path>', 'path to the TLS key file (default $DOCKER_CERT_PATH/key.pem)')
    .version('0.1.0', '-v, --version')
    .enablePositionalOptions()
    .showHelpAfterError(false)
    .exitOverride();

  let client: Client | undefined;
  const getClient = () => (client ??= clientFor(program.opts()));

  networkCommands(program, getClient);
  containerCommands(program, getClient);
  imageCommands(program, getClient);

  program.command('version').description('Show the berth version information').action(async () => {
    const v = (await getClient().call('GET', '/version')).body as { Version: string; ApiVersion: string; KernelVersion: string };
    process.stdout.write(`Client: berth 0.1.0\nServer: berthd ${v.Version} (API ${v.ApiVersion}, kernel ${v.KernelVersion})\n`);
  });

  const system = program.command('system').description('Manage berth');
  system.command('firewall').description("Print berth's current nftables ruleset").action(async () => {
    process.stdout.write(String((await getClient().call('GET', '/berth/firewall')).body));
  });
  system.command('graph')
    .description("Write the host's whole network as a picture (svg), Graphviz DOT, or JSON (networks, containers, ports)")
    .option('--format <format>', 'svg, dot or json', 'svg')
    .action(async (o: { format: string }) => {
      if (!['svg', 'dot', 'json'].includes(o.format)) throw new Error(`invalid --format ${o.format}: svg, dot or json`);
      const topology = (await getClient().call('GET', '/berth/graph')).body as Topology;
      if (o.format === 'json') return void process.stdout.write(JSON.stringify(topology, null, 2) + '\n');
      if (o.format === 'dot') return void process.stdout.write(toDot(topology));
      process.stdout.write(await toSvg(topology));
    });
  program.command('explain')
    .description('Explain how a packet from SRC reaches DST (or what stops it), hop by hop: SRC and DST are container names, host, host:IP, lan:IP or internet:IP; DST may end in :PORT[/tcp|udp]')
    .argument('<src>')
    .argument('<dst>')
    .option('-6, --ipv6', "send to the destination container's IPv6 address (default: IPv4 where it has one)")
    .option('--json', 'print the explanation as JSON (verdict, reason, hops)')
    .action(async (src: string, dst: string, o: { json?: boolean; ipv6?: boolean }) => {
      const query = `src=${encodeURIComponent(src)}&dst=${encodeURIComponent(dst)}${o.ipv6 ? '&family=6' : ''}`;
      const e = (await getClient().call('GET', `/berth/explain?${query}`)).body as Explanation;
      process.stdout.write(o.json ? JSON.stringify(e, null, 2) + '\n' : explanationText(e));
    });
  system.command('info').alias('i').description('Display system-wide information').action(async () => {
    process.stdout.write(JSON.stringify((await getClient().call('GET', '/info')).body, null, 2) + '\n');
  });
  return program;
}

/** Runs `program` on argv (node's shape: [node, script, ...args]) to its exit code. */
export async function runBerth(program: Command, argv: string[]): Promise<void> {
  // Once nothing is left to do (the loop empty: every write and socket done), exit at once:
  // node's own teardown of the environment and the heap after that costs ~1 ms of a 25 ms
  // command and changes nothing it printed or its exit code (process.exitCode).
  process.once('beforeExit', () => process.exit());
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 125);
    const isRun = argv.slice(2).includes('run');
    const fromDaemon = err instanceof DaemonError && err.status > 0;
    process.stderr.write(`${fromDaemon ? 'Error response from daemon: ' : ''}${(err as Error).message}\n`);
    process.exit(isRun ? 125 : 1);
  }
}
