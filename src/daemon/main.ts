import type { Server } from 'node:http';
import { join } from 'node:path';
import { containerRoutes } from '../api/container-routes.js';
import { imageRoutes } from '../api/image-routes.js';
import { networkRoutes } from '../api/network-routes.js';
import { Router } from '../api/router.js';
import { listen } from '../api/server.js';
import { streamRoutes } from '../api/stream-routes.js';
import { swarmRoutes } from '../api/swarm-routes.js';
import { systemRoutes } from '../api/system-routes.js';
import { Controller } from '../engine/controller.js';
import { recordImageIds } from '../engine/record-upgrades.js';
import { ImageStore } from '../images/store.js';
import { FD_HOST, parseDaemonFlags } from './flags.js';
import { systemdListenFd } from './socket-activation.js';
import { giveSocketToGroup } from './socket-group.js';

// berthd: the controller behind the Docker Engine API on a unix socket. Containers keep
// running when berthd stops; the next start adopts them and reconciles the kernel.

function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString()} berthd: ${msg}\n`);
}

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
  if (flags.validate) {
    process.stdout.write('configuration OK\n');
    process.exit(0);
  }
  let listenFd: number | undefined;
  try {
    listenFd = flags.socket === FD_HOST ? systemdListenFd() : undefined;
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    process.exit(2);
  }
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
  containerRoutes(router, ctl, images);
  streamRoutes(router, ctl);
  swarmRoutes(router);
  let server: Server;
  if (listenFd !== undefined) {
    server = await listen(router, { fd: listenFd }, log);
  } else {
    server = await listen(router, { path: flags.socket }, log);
    giveSocketToGroup(flags.socket, flags.group, log);
  }
  log(`API listen on ${flags.socket} (ready in ${Date.now() - t0} ms)`);
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: shutting down (containers keep running)`);
    server.close();
    server.closeAllConnections();
    await ctl.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  log(`failed to start: ${(err as Error).message}`);
  if (process.env.BERTH_DEBUG) log((err as Error).stack ?? '');
  process.exit(1);
});
