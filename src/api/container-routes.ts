import type { Controller } from '../engine/controller.js';
import type { EndpointRequest } from '../engine/containers.js';
import type { ContainerRecord } from '../store/records.js';
import { withImageDefaults, type RunRequest, type RunSpec } from '../images/defaults.js';
import { tagOf } from '../images/reference.js';
import type { ImageStore } from '../images/store.js';
import { InvalidParameterError, NotFoundError } from '../util/errors.js';
import { asGiven, bool, obj, portBindings, str, strList, strMap, type Json } from './parse.js';
import { containerFacts } from './container-facts.js';
import { filterContainers } from './filters/containers.js';
import { Filters } from './filters/filters.js';
import { pruneFilter } from './filters/prune.js';
import { queryBool, type Router } from './router.js';
import { commonHeaders } from './server.js';
import { containerInspect, containerSummary } from './shapes.js';

// /containers: enough of Docker's container API for networking work.

export function containerRoutes(router: Router, ctl: Controller, images: ImageStore): void {
  const { state } = ctl;

  router.add('POST', '/containers/create', async (req) => {
    const body = obj(await req.body(), 'body');
    const hc = obj(body.HostConfig, 'HostConfig');
    const nc = obj(obj(body.NetworkingConfig, 'NetworkingConfig').EndpointsConfig, 'EndpointsConfig');
    const run = runSpec(body, hc, images);
    const { container: c, warnings } = ctl.containers.create({
      name: req.query.get('name') ?? undefined,
      config: {
        image: str(body, 'Image') ?? '',
        imageId: run.imageId,
        cmd: run.argv,
        env: run.env,
        hostname: str(body, 'Hostname') ?? '',
        domainname: str(body, 'Domainname') ?? '',
        workdir: run.workdir,
        tty: bool(body, 'Tty'),
        openStdin: bool(body, 'OpenStdin'),
        exposedPorts: run.exposedPorts,
        labels: run.labels,
        entrypointLength: run.entrypointLength || undefined,
        macAddress: str(body, 'MacAddress'),
        attach: { stdin: bool(body, 'AttachStdin'), stdout: bool(body, 'AttachStdout'), stderr: bool(body, 'AttachStderr') },
      },
      hostConfig: {
        // dockerd's name for "no mode given" (SetDefaultNetModeIfBlank), kept as such in inspect
        networkMode: str(hc, 'NetworkMode') || 'default',
        autoRemove: bool(hc, 'AutoRemove'),
        rootfs: run.rootfs,
        dns: asGiven(hc, 'Dns', strList),
        dnsSearch: asGiven(hc, 'DnsSearch', strList),
        dnsOptions: asGiven(hc, 'DnsOptions', strList),
        extraHosts: strList(hc, 'ExtraHosts'),
        links: strList(hc, 'Links'),
        portBindings: portBindings(hc),
        publishAllPorts: bool(hc, 'PublishAllPorts'),
        pidMode: str(hc, 'PidMode'),
        capAdd: asGiven(hc, 'CapAdd', strList),
        capDrop: asGiven(hc, 'CapDrop', strList),
        securityOpt: asGiven(hc, 'SecurityOpt', strList),
        privileged: bool(hc, 'Privileged'),
      },
      endpoints: Object.fromEntries(Object.entries(nc).map(([k, v]) => [k, endpointRequest(obj(v, 'EndpointSettings'))])),
      mac: str(body, 'MacAddress'),
    });
    return { status: 201, body: { Id: c.id, Warnings: warnings } };
  });

  router.add('GET', '/containers/json', (req) => {
    const limit = Number(req.query.get('limit') ?? 0);
    if (!Number.isInteger(limit)) throw new InvalidParameterError(`invalid limit: ${req.query.get('limit')}`);
    const filters = Filters.parse(req.query.get('filters'));
    // sandboxes of other runtimes (CNI attachments) are theirs to list: network inspect shows them
    const list = filterContainers([...state.containers.values()].filter((c) => !c.attachment), filters, containerFacts(ctl, images), { all: queryBool(req.query, 'all'), limit });
    return { status: 200, body: list.map((c) => containerSummary(c, state, req.version)) };
  });

  router.add('GET', '/containers/{id}/json', (req) => {
    const c = state.findContainer(req.params.id);
    return { status: 200, body: containerInspect(c, state, req.version, ctl.containers.etcDirOf(c)) };
  });

  router.add('POST', '/containers/{id}/start', async (req) => {
    const c = state.findContainer(req.params.id);
    if (c.state.status === 'running') return { status: 304 };
    const setupMs = await ctl.containers.start(c.id);
    // the daemon's own timing of the network set-up (netns, endpoints), for bench/setup.ts
    return { status: 204, headers: { 'X-Berth-Setup-Ms': setupMs.toFixed(3) } };
  });

  router.add('POST', '/containers/{id}/stop', async (req) => {
    const c = state.findContainer(req.params.id);
    if (c.state.status !== 'running') return { status: 304 };
    await ctl.containers.stop(c.id, Number(req.query.get('t') ?? 10));
    return { status: 204 };
  });

  router.add('POST', '/containers/{id}/restart', async (req) => {
    const c = state.findContainer(req.params.id);
    await ctl.containers.stop(c.id, Number(req.query.get('t') ?? 10));
    await ctl.containers.start(c.id);
    return { status: 204 };
  });

  router.add('POST', '/containers/{id}/kill', async (req) => {
    await ctl.containers.kill(req.params.id, signalName(req.query.get('signal')));
    return { status: 204 };
  });

  router.add('GET', '/containers/{id}/top', async (req) => ({ status: 200, body: await ctl.containers.top(req.params.id, req.query.get('ps_args') ?? undefined) }));

  router.add('POST', '/containers/{id}/wait', async (req, { res }) => {
    const condition = req.query.get('condition') || 'not-running';
    if (condition !== 'not-running' && condition !== 'next-exit' && condition !== 'removed') {
      throw new InvalidParameterError(`invalid condition: "${condition}"`);
    }
    const c = state.findContainer(req.params.id);
    // Docker sends the headers at once: the Go client's ContainerWait returns only once
    // they arrive, and `docker run` waits for that before it starts the container.
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json' });
    res.flushHeaders();
    // "removed" (docker run --rm) is asked before the start: it must see the coming exit
    const next = condition === 'next-exit' || (condition === 'removed' && (c.state.status === 'created' || c.state.status === 'running'));
    const code = await ctl.containers.wait(c.id, next ? 'next-exit' : 'not-running');
    res.end(JSON.stringify({ StatusCode: code, Error: null }) + '\n');
  });

  // what SDK clean-ups call (containers.prune(filters={'label': …}))
  router.add('POST', '/containers/prune', async (req) => {
    const keep = pruneFilter(Filters.parse(req.query.get('filters')));
    const deleted = await ctl.containers.prune((c) => keep({ created: c.created, labels: c.config.labels }));
    return { status: 200, body: { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: 0 } };
  });

  router.add('DELETE', '/containers/{id}', async (req) => {
    if (queryBool(req.query, 'link')) await ctl.containers.links.remove(req.params.id);
    else await ctl.containers.remove(req.params.id, { force: queryBool(req.query, 'force') });
    return { status: 204 };
  });

  // a legacy link's name is PARENT/ALIAS (`docker rm --link`)
  router.add('DELETE', '/containers/{parent}/{alias}', async (req) => {
    const name = `${req.params.parent}/${req.params.alias}`;
    if (!queryBool(req.query, 'link')) throw new NotFoundError(`No such container: ${name}`);
    await ctl.containers.links.remove(name);
    return { status: 204 };
  });
}

/**
 * What the process runs and where: an image's rootfs and defaults (Config.Image), or the
 * host's filesystem (Image "") or a directory (HostConfig.BerthRootfs, berth run --rootfs).
 */
function runSpec(body: Json, hc: Json, images: ImageStore): RunSpec {
  const request: RunRequest = {
    entrypoint: strList(body, 'Entrypoint'),
    cmd: strList(body, 'Cmd'),
    env: strList(body, 'Env'),
    workdir: str(body, 'WorkingDir') ?? '',
    labels: Object.fromEntries(Object.entries(obj(body.Labels, 'Labels')).map(([k, v]) => [k, String(v)])),
    exposedPorts: Object.keys(obj(body.ExposedPorts, 'ExposedPorts')),
  };
  const image = str(body, 'Image');
  const rootfs = str(hc, 'BerthRootfs');
  if (!image || rootfs) {
    const { entrypoint, cmd, ...rest } = request;
    return { ...rest, argv: [...entrypoint, ...cmd], entrypointLength: entrypoint.length, rootfs };
  }
  const img = images.resolveImage(image);
  if (!img) throw new NotFoundError(`No such image: ${tagOf(image) ?? image}`);
  return { ...withImageDefaults(img, request), imageId: `sha256:${img.id}` };
}

export function endpointRequest(ec: Json): EndpointRequest {
  const ipam = obj(ec.IPAMConfig, 'IPAMConfig');
  return {
    ipv4: str(ipam, 'IPv4Address'),
    ipv6: str(ipam, 'IPv6Address'),
    mac: str(ec, 'MacAddress'),
    linkLocalIps: strList(ipam, 'LinkLocalIPs'),
    driverOpts: strMap(ec, 'DriverOpts'),
    aliases: strList(ec, 'Aliases'),
    links: strList(ec, 'Links'),
  };
}

/** "9", "KILL", "SIGKILL" → "SIGKILL" */
export function signalName(raw: string | null): string {
  if (!raw) return 'SIGKILL';
  const names: Record<string, string> = { '1': 'SIGHUP', '2': 'SIGINT', '3': 'SIGQUIT', '9': 'SIGKILL', '10': 'SIGUSR1', '12': 'SIGUSR2', '15': 'SIGTERM' };
  if (/^\d+$/.test(raw)) {
    if (!names[raw]) throw new InvalidParameterError(`invalid signal: ${raw}`);
    return names[raw];
  }
  const up = raw.toUpperCase();
  const sig = up.startsWith('SIG') ? up : `SIG${up}`;
  if (!/^SIG[A-Z0-9]+$/.test(sig)) throw new InvalidParameterError(`invalid signal: ${raw}`);
  return sig;
}
