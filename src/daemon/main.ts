import type { Server } from 'node:http';
import { join } from 'node:path';
import { containerRoutes } from '../api/container-routes.js';
import { imageRoutes } from '../api/image-routes.js';
import { cniRoutes } from '../api/cni-routes.js';
import { isLoopback, startUi } from './ui-server.js';
import { networkRoutes } from '../api/network-routes.js';
import { Router } from '../api/router.js';
import { listen, type Endpoint } from '../api/server.js';
import { streamRoutes } from '../api/stream-routes.js';
import { swarmRoutes } from '../api/swarm-routes.js';
import { systemRoutes } from '../api/system-routes.js';
import { Controller } from '../engine/controller.js';
import { recordImageIds } from '../engine/record-upgrades.js';
import { ImageStore } from '../images/store.js';
import { parseDaemonFlags, type DaemonFlags } from './flags.js';
import { describeHost, type Host } from './hosts.js';
import { openDaemonLog, type DaemonLog } from './log.js';
import { checkListenPolicy, loadServerTls, type TlsServerOptions } from './tls.js';
import { systemdListenFd } from './socket-activation.js';
import { giveSocketToGroup } from './socket-group.js';

// berthd: the controller behind the Docker Engine API on its sockets (-H, several at
// once). Containers keep running when berthd stops; the next start adopts them and
// reconciles the kernel.

async function main(): Promise<void> {
  let flags;
  try {
    flags = parseDaemonFlags(process.argv.slice(2));
  } catch (err) {
    const e = err as { code?: string; message: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') process.exit(0);
    process.stderr.write(`berthd: ${e.message.replace(/^error: /, '')}\n`);
    process.exit(2);
  }
  // every refusal (a TCP host without mutual TLS, an unreadable key, no socket from
  // systemd) is one line and exit 2 here, before the controller touches the kernel
  let endpoints: Endpoint[];
  let warnings: string[];
  try {
    warnings = checkListenPolicy(flags.hosts, flags.tls);
    const tls = flags.tls.tls && flags.hosts.some((h) => h.kind === 'tcp') ? loadServerTls(flags.tls) : undefined;
    if (flags.validate) {
      process.stdout.write('configuration OK\n');
      process.exit(0);
    }
    endpoints = flags.hosts.map((h) => endpointOf(h, tls));
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    process.exit(2);
  }
  let log: DaemonLog;
  try {
    log = openDaemonLog({ ...flags.log, debug: flags.debug });
  } catch (err) {
    process.stderr.write(`berthd: cannot open --log-file ${flags.log.file}: ${(err as Error).message}\n`);
    process.exit(2);
  }
  try {
    await serve(flags, endpoints, warnings, log);
  } catch (err) {
    log.fatal(`failed to start: ${(err as Error).message}`);
    if (process.env.BERTH_DEBUG) log((err as Error).stack ?? '');
    process.exit(1);
  }
}

function endpointOf(h: Host, tls: TlsServerOptions | undefined): Endpoint {
  if (h.kind === 'fd') return { fd: systemdListenFd() };
  if (h.kind === 'unix') return { path: h.path };
  return { address: h.address, port: h.port, tls };
}

async function serve(flags: DaemonFlags, endpoints: Endpoint[], warnings: string[], log: DaemonLog): Promise<void> {
  const t0 = Date.now();
  const ctl = await Controller.open(flags.config, log);
  const router = new Router();
  const images = new ImageStore(join(flags.config.dataRoot, 'images'));
  recordImageIds(ctl.state, (name) => {
    try {
      return images.resolveImage(name)?.id;
    } catch {
      return undefined; // an ambiguous id prefix names no image
    }
  });
  systemRoutes(router, ctl, images);
  imageRoutes(router, ctl, images);
  networkRoutes(router, ctl);
  cniRoutes(router, ctl);
  containerRoutes(router, ctl, images);
  streamRoutes(router, ctl);
  swarmRoutes(router);
  const servers: Server[] = [];
  let stopping = false;
  // reads are served from here on; writes wait for the rest of the start-up (controller.ts)
  router.writesHeld = ctl.sweep;
  const swept = ctl.sweep.then(
    () => {
      router.writesHeld = undefined;
      return Date.now() - t0;
    },
    (err: Error) => {
      if (stopping) return;
      log.fatal(`failed to start: ${err.message}`);
      if (process.env.BERTH_DEBUG) log(err.stack ?? '');
      process.exit(1);
    },
  );
  for (const [i, on] of endpoints.entries()) {
    const where = describeHost(flags.hosts[i]);
    servers.push(await listen(router, on, log).catch((err: Error) => {
      throw new Error(`cannot listen on ${where}: ${err.message}`);
    }));
    if ('path' in on) giveSocketToGroup(on.path, flags.group, log);
    // the socket systemd made is hidden from containers too, as -H unix:// ones are
    const bound = servers[servers.length - 1].address();
    if ('fd' in on && typeof bound === 'string' && bound) flags.config.apiSockets.push(bound);
    log(`API listen on ${where}${'port' in on && on.tls ? (flags.tls.verify ? ' (mutual TLS)' : ' (TLS)') : ''}`);
  }
  if (flags.ui) {
    const { host, port } = flags.ui;
    servers.push(await startUi(ctl, flags.ui).catch((err: Error) => {
      throw new Error(`cannot serve the topology page on ${host}:${port}: ${err.message}`);
    }));
    log(`topology page on http://${host.includes(':') ? `[${host}]` : host}:${port}/`);
    if (!isLoopback(host)) warnings.push(`--ui ${host}:${port} is not a loopback address: whoever reaches it sees every container's addresses and ports`);
  }
  for (const w of warnings) log(`WARNING: ${w}`);
  log(`ready in ${Date.now() - t0} ms`);
  void swept.then((ms) => ms !== undefined && log(`start-up sweep done in ${ms} ms (writes waited for it)`));
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: shutting down (containers keep running)`);
    for (const server of servers) {
      server.close();
      server.closeAllConnections();
    }
    await ctl.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

void main();
