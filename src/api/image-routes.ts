import type { Controller } from '../engine/controller.js';
import { imageInspect, imageSummary } from '../images/shapes.js';
import { imageInUseError, type ImageRecord, type ImageStore } from '../images/store.js';
import { BerthError, InvalidParameterError } from '../util/errors.js';
import { imageOf } from './container-facts.js';
import { Filters } from './filters/filters.js';
import { filterImages } from './filters/images.js';
import { queryBool, type Router } from './router.js';
import { commonHeaders } from './server.js';

// /images: import from a tarball (docker import), list, inspect, tag, remove. berth has
// no registry client: a pull is answered with an error that says what to do instead.

/** Image names may contain '/': this segment pattern captures "a/b/c" as {name}. */
const NAME = '((?:[^/]+/)*{name})';

export const NO_PULL = 'berth does not pull images from registries; use docker import (or berth import) with a rootfs tarball';

export function imageRoutes(router: Router, ctl: Controller, images: ImageStore): void {
  const users = (img: ImageRecord) => [...ctl.state.containers.values()].filter((c) => imageOf(images, c)?.id === img.id);

  router.add('POST', '/images/create', async (req, { res }) => {
    if (req.query.get('fromImage')) throw new BerthError(NO_PULL, 501);
    const src = req.query.get('fromSrc');
    if (src !== '-') throw new InvalidParameterError(src ? `berth imports only from the request body (fromSrc=-), not from ${src}` : 'fromImage or fromSrc is required');
    const img = await images.importTar({
      body: req.raw,
      repo: req.query.get('repo') || undefined,
      tag: req.query.get('tag') || undefined,
      changes: req.query.getAll('changes'),
      message: req.query.get('message') || undefined,
    });
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: `sha256:${img.id}` }) + '\r\n');
  });

  router.add('GET', '/images/json', (req) => {
    const list = filterImages(images.list(), Filters.parse(req.query.get('filters')), (ref) => images.get(ref));
    return { status: 200, body: list.map((img) => imageSummary(img, users(img).length)) };
  });

  router.add('GET', `/images/${NAME}/json`, (req) => ({ status: 200, body: imageInspect(images.get(req.params.name)) }));

  router.add('POST', `/images/${NAME}/tag`, async (req) => {
    const repo = req.query.get('repo');
    if (!repo) throw new InvalidParameterError('repository name (repo) is required');
    await images.tag(req.params.name, repo, req.query.get('tag') || undefined);
    return { status: 201 };
  });

  router.add('DELETE', `/images/${NAME}`, async (req) => {
    const ref = req.params.name;
    const img = images.get(ref);
    const force = queryBool(req.query, 'force');
    const lastName = img.repoTags.length <= 1 || !img.repoTags.includes(ref.includes(':') ? ref : `${ref}:latest`);
    const using = users(img);
    if (lastName && using.length) {
      const running = using.find((c) => c.state.status === 'running');
      if (running || !force) throw imageInUseError(ref, (running ?? using[0]).id, img.id, !!running);
    }
    const r = await images.remove(ref);
    const body: Record<string, string>[] = r.untagged.map((t) => ({ Untagged: t }));
    if (r.deleted) body.push({ Deleted: `sha256:${r.deleted}` });
    return { status: 200, body };
  });
}
