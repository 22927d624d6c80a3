import type { Controller } from '../engine/controller.js';
import type { ImageRecord, ImageStore } from '../images/store.js';
import type { ContainerRecord } from '../store/records.js';
import type { ContainerFacts } from './filters/containers.js';

// What list filters (and image removal) ask about containers beyond their records: the
// networks they are on and the image they run.

export function containerFacts(ctl: Controller, images: ImageStore): ContainerFacts {
  return {
    networksOf: (c) => ctl.state.endpointsOf({ containerId: c.id }).flatMap((e) => ctl.state.networks.get(e.networkId) ?? []),
    imageIdOf: (c) => imageOf(images, c)?.id,
    findImageId: (ref) => safeFind(images, ref)?.id,
  };
}

/**
 * The image a container runs: the one recorded at create, the one whose rootfs it was
 * given, or (records of an older berth) the one its Image names now.
 */
export function imageOf(images: ImageStore, c: ContainerRecord): ImageRecord | undefined {
  if (c.config.imageId) return safeFind(images, c.config.imageId.replace(/^sha256:/, ''));
  if (c.hostConfig.rootfs) return images.list().find((img) => images.rootfsOf(img.id) === c.hostConfig.rootfs);
  return c.config.image ? safeFind(images, c.config.image) : undefined;
}

function safeFind(images: ImageStore, ref: string): ImageRecord | undefined {
  try {
    return images.find(ref);
  } catch {
    return undefined; // an ambiguous id prefix names no image here
  }
}
