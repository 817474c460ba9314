import { rm, stat } from 'node:fs/promises';
import sharp from 'sharp';
import { writeFileAtomic } from '../atomic-write';
import { AppError } from '../errors';
import type { ImageStore } from '../storage/image-store';
import { ProcessingQueue } from './queue';

/** Longest side of a dashboard thumbnail, in pixels. */
export const THUMBNAIL_SIZE = 320;

/** A thumbnail on disk, ready to send. */
export interface Thumbnail {
  path: string;
  bytes: number;
}

/**
 * Small WebP copies of the stored images for the dashboard, made on first request and kept beside
 * the store, so that a page never downloads full PNGs and each copy is made once. They are made
 * one at a time, apart from the upload queue, so that a page full of new thumbnails neither
 * doubles the memory peak nor makes uploads wait.
 */
export class Thumbnails {
  private readonly making = new Map<string, Promise<Thumbnail>>();
  private readonly queue = new ProcessingQueue({ concurrency: () => 1, maxWaiting: () => 100 });

  constructor(private readonly store: ImageStore) {}

  /**
   * The thumbnail of a listed image, made now if it does not exist yet.
   * @throws AppError not_found when there is no such image (or it was deleted meanwhile), busy
   * when too many thumbnails wait to be made.
   */
  async get(id: string): Promise<Thumbnail> {
    if (!this.store.get(id)) throw notFound(id);
    const path = this.store.thumbnailPath(id);
    const existing = await stat(path).catch(() => undefined);
    if (existing) return { path, bytes: existing.size };
    let pending = this.making.get(id);
    if (!pending) {
      pending = this.queue.run(() => this.make(id, path)).finally(() => this.making.delete(id));
      this.making.set(id, pending);
    }
    return pending;
  }

  private async make(id: string, path: string): Promise<Thumbnail> {
    let data: Buffer;
    try {
      data = await sharp(this.store.pngPath(id))
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 75, effort: 2 })
        .toBuffer();
    } catch (err) {
      // The PNG went away under us: the image was deleted while waiting.
      if (!this.store.get(id)) throw notFound(id);
      throw err;
    }
    await writeFileAtomic(path, data);
    if (!this.store.get(id)) {
      // Deleted while being made: the store's delete has run already, so remove the copy here.
      await rm(path, { force: true });
      throw notFound(id);
    }
    return { path, bytes: data.length };
  }
}

function notFound(id: string): AppError {
  return new AppError('not_found', `No image with id ${JSON.stringify(id.slice(0, 64))}`);
}
