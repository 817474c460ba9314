import { mkdir, readdir, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSharp } from '../pipeline/sharp-tuning';
import { TEMP_PREFIX, writeFileAtomic } from '../atomic-write';
import type { StoreObserver } from '../store-events';
import { imageNotFound } from '../errors';
import type { ImageStore, StoredImage } from '../storage/image-store';
import { ProcessingQueue } from '../memory/processing-queue';

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
 * doubles the memory peak nor makes uploads wait. They are derived files: this class owns them,
 * and removes each one when its image is removed, as an observer of the store.
 */
export class Thumbnails implements StoreObserver {
  readonly name = 'thumbnails';
  private readonly making = new Map<string, Promise<Thumbnail>>();
  private readonly queue = new ProcessingQueue({ concurrency: () => 1, maxWaiting: () => 100 });

  private constructor(private readonly store: ImageStore, readonly dir: string) {}

  /**
   * Opens the thumbnails folder of a store, removing unfinished thumbnails and those whose image
   * is gone (a crash between the two removals).
   */
  static async open(store: ImageStore): Promise<Thumbnails> {
    const thumbnails = new Thumbnails(store, join(store.dataDir, 'thumbs'));
    await mkdir(thumbnails.dir, { recursive: true });
    for (const name of await readdir(thumbnails.dir)) {
      const id = name.slice(0, name.lastIndexOf('.'));
      if (name.startsWith(TEMP_PREFIX) || !store.get(id)) await rm(join(thumbnails.dir, name), { force: true });
    }
    return thumbnails;
  }

  /** Where the thumbnail of an image is kept once made. */
  path(id: string): string {
    return join(this.dir, `${id}.webp`);
  }

  /** Removes the thumbnails of removed images. */
  async removed(images: readonly StoredImage[]): Promise<void> {
    for (const image of images) await unlink(this.path(image.id)).catch(() => undefined);
  }

  /**
   * The thumbnail of a listed image, made now if it does not exist yet.
   * @throws AppError not_found when there is no such image (or it was deleted meanwhile), busy
   * when too many thumbnails wait to be made.
   */
  async get(id: string): Promise<Thumbnail> {
    if (!this.store.get(id)) throw imageNotFound(id);
    const path = this.path(id);
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
      data = await loadSharp()(this.store.pngPath(id))
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 75, effort: 2 })
        .toBuffer();
    } catch (err) {
      // The PNG went away under us: the image was deleted while waiting.
      if (!this.store.get(id)) throw imageNotFound(id);
      throw err;
    }
    await writeFileAtomic(path, data);
    if (!this.store.get(id)) {
      // Deleted while being made: the store's delete has run already, so remove the copy here.
      await rm(path, { force: true });
      throw imageNotFound(id);
    }
    return { path, bytes: data.length };
  }
}
