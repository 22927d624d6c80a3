import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { ConflictError, InvalidParameterError, NotFoundError } from '../util/errors.js';
import { applyChanges, type ImageConfig } from './changes.js';
import { idPrefixOf, normalizeTag, tagOf } from './reference.js';

// berth's image store: a root filesystem unpacked from a tarball plus a little config
// (`docker import`). One directory per image under <data-root>/images:
//   <id>/image.json   the record below
//   <id>/rootfs/      the unpacked tree containers are chrooted into
// A JSON file next to its rootfs keeps an image self-contained (removal is one rm -rf,
// a half-written import is a tmp/ directory swept at start) and stays out of the
// network store's schema. Images are few, so all records live in memory.

const execFileP = promisify(execFile);

export interface ImageRecord {
  /** 64 hex: sha256 over the tarball's digest and the config (same tar + same changes → same id) */
  id: string;
  /** familiar "name:tag" */
  repoTags: string[];
  created: string;
  /** bytes of the unpacked tree */
  size: number;
  /** "sha256:<hex>" of the tarball as received */
  layerDigest: string;
  comment: string;
  config: ImageConfig;
}

/** What the engine needs to run a container on an image. */
export interface ResolvedImage {
  id: string;
  rootfs: string;
  env: string[];
  cmd: string[];
  entrypoint: string[];
  workdir: string;
  labels: Record<string, string>;
  exposedPorts: string[];
}

export interface ImportRequest {
  body: Readable;
  repo?: string;
  tag?: string;
  changes: string[];
  message?: string;
}

export class ImageStore {
  private readonly images = new Map<string, ImageRecord>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    rmSync(join(root, 'tmp'), { recursive: true, force: true });
    for (const id of readdirSync(root)) {
      const file = join(root, id, 'image.json');
      if (/^[0-9a-f]{64}$/.test(id) && existsSync(file)) this.images.set(id, JSON.parse(readFileSync(file, 'utf8')) as ImageRecord);
    }
  }

  list(): ImageRecord[] {
    return [...this.images.values()].sort((a, b) => b.created.localeCompare(a.created));
  }

  rootfsOf(id: string): string {
    return join(this.root, id, 'rootfs');
  }

  /** By tag, by "sha256:<id>", or by a unique id prefix; undefined when nothing matches. */
  find(ref: string): ImageRecord | undefined {
    const tag = tagOf(ref);
    if (tag) for (const img of this.images.values()) if (img.repoTags.includes(tag)) return img;
    const hex = idPrefixOf(ref);
    if (!hex) return undefined;
    const hits = [...this.images.values()].filter((i) => i.id.startsWith(hex));
    if (hits.length > 1) throw new InvalidParameterError(`image id prefix ${ref} is ambiguous`);
    return hits[0];
  }

  get(ref: string): ImageRecord {
    const img = this.find(ref);
    if (!img) throw new NotFoundError(`No such image: ${tagOf(ref) ?? ref}`);
    return img;
  }

  /** The engine's view: rootfs and run defaults; undefined when there is no such image. */
  resolveImage(ref: string): ResolvedImage | undefined {
    const img = this.find(ref);
    if (!img) return undefined;
    const c = img.config;
    return {
      id: img.id, rootfs: this.rootfsOf(img.id), env: c.env, cmd: c.cmd ?? [], entrypoint: c.entrypoint ?? [], workdir: c.workdir,
      labels: c.labels ?? {}, exposedPorts: c.exposedPorts ?? [],
    };
  }

  importTar(req: ImportRequest): Promise<ImageRecord> {
    const tag = req.repo ? normalizeTag(req.repo, req.tag) : undefined;
    const config = applyChanges(req.changes);
    return this.serial(() => this.doImport(req.body, tag, config, req.message ?? ''));
  }

  tag(ref: string, repo: string, tag?: string): Promise<void> {
    const t = normalizeTag(repo, tag);
    return this.serial(async () => this.addTag(this.get(ref), t));
  }

  /** Untags `ref` when it is a tag of a multi-tag image; otherwise deletes the image. */
  remove(ref: string): Promise<{ untagged: string[]; deleted?: string }> {
    return this.serial(async () => {
      const img = this.get(ref);
      const tag = tagOf(ref);
      if (tag && img.repoTags.includes(tag) && img.repoTags.length > 1) {
        img.repoTags = img.repoTags.filter((t) => t !== tag);
        this.save(img);
        return { untagged: [tag] };
      }
      this.images.delete(img.id);
      await rm(join(this.root, img.id), { recursive: true, force: true });
      return { untagged: img.repoTags, deleted: img.id };
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async doImport(body: Readable, tag: string | undefined, config: ImageConfig, comment: string): Promise<ImageRecord> {
    const work = join(this.root, 'tmp', randomBytes(8).toString('hex'));
    mkdirSync(join(work, 'rootfs'), { recursive: true });
    try {
      const tarFile = join(work, 'layer.tar');
      const digest = await receive(body, tarFile);
      const id = createHash('sha256').update(`sha256:${digest}\n${JSON.stringify(config)}`).digest('hex');
      const existing = this.images.get(id);
      if (existing) {
        if (tag) this.addTag(existing, tag);
        return existing;
      }
      await unpack(tarFile, join(work, 'rootfs'));
      rmSync(tarFile);
      const img: ImageRecord = { id, repoTags: [], created: new Date().toISOString(), size: treeSize(join(work, 'rootfs')), layerDigest: `sha256:${digest}`, comment, config };
      renameSync(work, join(this.root, id));
      this.images.set(id, img);
      if (tag) this.addTag(img, tag);
      else this.save(img);
      return img;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** A tag names one image: moving it leaves the previous owner untagged (dangling). */
  private addTag(img: ImageRecord, tag: string): void {
    for (const other of this.images.values()) {
      if (other !== img && other.repoTags.includes(tag)) {
        other.repoTags = other.repoTags.filter((t) => t !== tag);
        this.save(other);
      }
    }
    if (!img.repoTags.includes(tag)) img.repoTags.push(tag);
    this.save(img);
  }

  private save(img: ImageRecord): void {
    const file = join(this.root, img.id, 'image.json');
    writeFileSync(`${file}.tmp`, JSON.stringify(img, null, 1));
    renameSync(`${file}.tmp`, file);
  }
}

/** Streams the request body to a file; returns its sha256 (hex). */
async function receive(body: Readable, file: string): Promise<string> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  await pipeline(body, tap, createWriteStream(file));
  if (bytes === 0) throw new InvalidParameterError('import: the request body is empty (expected a tar archive)');
  return hash.digest('hex');
}

/** GNU tar: detects compression, keeps owners and modes, refuses ../ members. */
async function unpack(tarFile: string, dir: string): Promise<void> {
  try {
    await execFileP('tar', ['-x', '-f', tarFile, '-C', dir, '--numeric-owner', '--same-permissions', '--no-overwrite-dir'], { maxBuffer: 1 << 20 });
  } catch (err) {
    const msg = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n')[0];
    throw new InvalidParameterError(`import: not a valid tar archive: ${msg}`);
  }
}

function treeSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true })) {
    const st = lstatSync(join(dir, String(entry)));
    if (st.isFile()) total += st.size;
  }
  return total;
}

export function imageInUseError(ref: string, containerId: string, imageId: string, running: boolean): ConflictError {
  return running
    ? new ConflictError(`conflict: unable to delete ${ref} (cannot be forced) - image is being used by running container ${containerId.slice(0, 12)}`)
    : new ConflictError(`conflict: unable to remove repository reference "${ref}" (must force) - container ${containerId.slice(0, 12)} is using its referenced image ${imageId.slice(0, 12)}`);
}
