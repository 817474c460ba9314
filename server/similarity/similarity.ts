import type { StoreObserver } from '../consumers/observer';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log';
import { METRIC_PREFIX } from '../monitoring/metrics';
import type { DuplicateCheck, DuplicateRecord } from '../upload/upload-flow';
import type { ImageStore, StoredImage } from '../storage/image-store';
import { SimilarityIndex, type IndexHit } from './index';
import { DuplicateCounts, findDuplicate } from './duplicates';
import { computeSignature, isSignature, similarityOf, type ImageSignature } from './signature';

/** One answer of a similarity query: a stored image and how far its hash is from the query's. */
export interface SimilarImage {
  image: StoredImage;
  /** Differing hash bits, 0..64. */
  distance: number;
  /** 1 - distance / 64. */
  similarity: number;
}

export interface SimilarQuery {
  limit: number;
  /** Only images this close or closer; 64 (everything) by default. */
  maxDistance?: number;
  /** Only images of this source. */
  source?: string;
  /** Leave this image out (the query image itself). */
  exclude?: string;
}

/** What the background re-hash of older images has done, for /memory_status. */
export interface BackfillStatus {
  pending: number;
  done: number;
  failed: number;
}

/** The similarity part of /memory_status. */
export interface SimilarityStatus {
  indexed_images: number;
  /** Bytes the index holds: hashes plus id references (see index.ts). */
  index_bytes: number;
  backfill: BackfillStatus;
  /** Uploads not stored as near-duplicates since start, by source. */
  duplicates: Record<string, number>;
  feature_worker: { running: boolean; starts: number };
}

export interface SimilarityOptions {
  store: ImageStore;
  log: Logger;
  /** True while uploads are being processed: the re-hash waits then, as it runs at low priority. */
  busy: () => boolean;
}

/**
 * Finds stored images by perceptual hash: keeps the in-memory index in step with the store and
 * hashes, in the background, the images stored before signatures existed.
 */
export class Similarity implements StoreObserver, DuplicateCheck {
  readonly name = 'similarity';
  readonly index = new SimilarityIndex();
  /** Uploads not stored as near-duplicates, by source, since start. */
  readonly duplicateCounts = new DuplicateCounts();
  readonly backfill: BackfillStatus = { pending: 0, done: 0, failed: 0 };
  private stopped = false;
  /** Settles when the background re-hash has finished (or stopped). */
  backfilled: Promise<void> = Promise.resolve();

  constructor(private readonly options: SimilarityOptions) {}

  /** Indexes every signed image and starts re-hashing the unsigned ones, one at a time. */
  start(): void {
    const { store } = this.options;
    const all = store.list({ limit: store.totals().count }).images;
    const unsigned: string[] = [];
    for (const image of all) {
      if (isSignature(image.signature)) this.index.add(image.id, image.signature.phash);
      else unsigned.push(image.id);
    }
    this.backfill.pending = unsigned.length;
    if (unsigned.length > 0) this.backfilled = this.rehash(unsigned);
  }

  /** Ends the background re-hash after the image in hand. */
  stop(): void {
    this.stopped = true;
  }

  /** Indexes newly committed images. */
  committed(images: readonly StoredImage[]): void {
    for (const image of images) if (isSignature(image.signature)) this.index.add(image.id, image.signature.phash);
  }

  /** Drops removed images from the index. */
  removed(images: readonly Pick<StoredImage, 'id'>[]): void {
    for (const image of images) this.index.remove(image.id);
  }

  /** The stored images nearest to a signature, nearest first. */
  search(signature: ImageSignature, query: SimilarQuery): SimilarImage[] {
    const { store } = this.options;
    const gone: string[] = [];
    const hits = this.index.search({
      phash: signature.phash,
      limit: query.limit,
      maxDistance: query.maxDistance,
      accept: (id) => {
        if (id === query.exclude) return false;
        const image = store.get(id);
        // Removed without the index being told (a removal path that has no observer yet).
        if (!image) gone.push(id);
        return image !== undefined && (query.source === undefined || image.source === query.source);
      },
    });
    for (const id of gone) this.index.remove(id);
    return hits.map((hit) => this.present(hit)).filter((found): found is SimilarImage => found !== undefined);
  }

  /** The newest image of `source`, when its hash lies within `maxDistance` of `signature`. */
  duplicateOf(signature: ImageSignature, source: string, maxDistance: number): DuplicateRecord | undefined {
    return findDuplicate(signature, this.options.store.latest(source), maxDistance);
  }

  /** Counts the duplicates of a request once it has been answered (an observer's call). */
  duplicates(records: readonly DuplicateRecord[], source: string): void {
    this.duplicateCounts.add(source, records.length);
  }

  /** Adds the duplicate counter and the index size to a Prometheus registry (the monitor's). */
  registerMetrics(registry: Registry): void {
    this.duplicateCounts.register(registry);
    const index = this.index;
    new Gauge({ name: `${METRIC_PREFIX}similarity_index_images`, help: 'Perceptual hashes in the similarity index', registers: [registry], collect() { this.set(index.size); } });
  }

  /** The state for /memory_status. */
  status(features: { workerRunning: boolean; starts: number }): SimilarityStatus {
    return {
      indexed_images: this.index.size,
      index_bytes: this.index.bytes,
      backfill: { ...this.backfill },
      duplicates: this.duplicateCounts.read(),
      feature_worker: { running: features.workerRunning, starts: features.starts },
    };
  }

  private present(hit: IndexHit): SimilarImage | undefined {
    const image = this.options.store.get(hit.id);
    return image && { image, distance: hit.distance, similarity: similarityOf(hit.distance) };
  }

  private async rehash(ids: string[]): Promise<void> {
    const { store, log } = this.options;
    for (const id of ids) {
      // Low priority: one image at a time, after pending I/O, and never beside an upload.
      await new Promise((resolve) => setImmediate(resolve));
      while (this.options.busy() && !this.stopped) await new Promise((resolve) => setTimeout(resolve, 200).unref());
      if (this.stopped) return;
      this.backfill.pending--;
      if (!store.get(id)) continue;
      try {
        const signature = await computeSignature(store.pngPath(id));
        const record = await store.update(id, { signature });
        if (record) this.index.add(id, signature.phash);
        this.backfill.done++;
      } catch (err) {
        this.backfill.failed++;
        if (store.get(id)) log.warn(`similarity: cannot hash image ${id}: ${(err as Error).message}`);
      }
    }
    if (ids.length > 0) log.info(`similarity: hashed ${this.backfill.done} older images, ${this.backfill.failed} failed`);
  }
}
