import type { AddRequest } from '../engine/attachments.js';
import { readPortMappings } from '../cni/port-mappings.js';
import { CniError } from '../engine/attachments.js';
import type { Controller } from '../engine/controller.js';
import { CNI_ERRORS } from '../cni/types.js';
import { statusOf } from '../util/errors.js';
import { bool, obj, str, strList, strMap, type Json } from './parse.js';
import type { Handler, Router } from './router.js';

// /berth/cni/*: what berth-cni (src/cni/) asks of berthd for a runtime's CNI call. Errors
// carry `cniCode` beside `message`, so the plugin prints the spec's error object with the
// right code: the engine's own where it has one, else 7 (invalid config) for a refusal and
// 102 for a failure of berthd's.

export function cniRoutes(router: Router, ctl: Controller): void {
  const cni = (method: string, path: string, handler: Handler) => router.add(method, path, async (req, ctx) => {
    try {
      return await handler(req, ctx);
    } catch (err) {
      const status = statusOf(err);
      const cniCode = err instanceof CniError ? err.cniCode : status === 409 ? CNI_ERRORS.conflict : status < 500 ? CNI_ERRORS.invalidConfig : CNI_ERRORS.daemon;
      return { status, body: { message: (err as Error).message, cniCode } };
    }
  });

  cni('POST', '/berth/cni/add', async (req) => {
    const b = obj(await req.body(), 'body');
    const add: AddRequest = {
      ...keyOf(b),
      netns: need(b, 'netns'),
      network: need(b, 'network'),
      names: strList(b, 'names').filter(Boolean),
      ips: strList(b, 'ips'),
      mac: str(b, 'mac'),
      portMappings: readPortMappings(b.portMappings, 'portMappings', (msg) => {
        throw new CniError(msg, 400, CNI_ERRORS.invalidConfig);
      }),
      bindPorts: bool(b, 'bindPorts'),
      labels: strMap(b, 'labels'),
    };
    return { status: 200, body: await ctl.attachments.add(add) };
  });

  cni('POST', '/berth/cni/del', async (req) => {
    await ctl.attachments.del(keyOf(obj(await req.body(), 'body')));
    return { status: 204 };
  });

  cni('POST', '/berth/cni/check', async (req) => {
    const b = obj(await req.body(), 'body');
    await ctl.attachments.check({ ...keyOf(b), netns: need(b, 'netns') });
    return { status: 204 };
  });

  cni('POST', '/berth/cni/gc', async (req) => {
    const b = obj(await req.body(), 'body');
    const valid = Array.isArray(b.valid) ? b.valid.map((v) => keyOf(obj(v, 'valid[]'))) : [];
    return { status: 200, body: { removed: await ctl.attachments.gc(need(b, 'network'), valid) } };
  });

  cni('GET', '/berth/cni/status', (req) => {
    ctl.attachments.status(req.query.get('network') ?? '');
    return { status: 204 };
  });
}

function keyOf(b: Json): { containerId: string; ifName: string } {
  return { containerId: need(b, 'containerId'), ifName: need(b, 'ifName') };
}

function need(b: Json, key: string): string {
  const v = str(b, key);
  if (!v) throw new CniError(`${key} is missing`, 400, CNI_ERRORS.invalidEnv);
  return v;
}
