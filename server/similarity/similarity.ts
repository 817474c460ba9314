import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log';
import { METRIC_PREFIX } from '../monitoring/metrics';
import type { DuplicateCheck } from '../upload/upload-flow';
import type { DuplicateRecord, StatusPart, StoreObserver } from '../store-events';
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

/** Signatures of newly stored images, made after their upload was answered, for /memory_status. */
export interface HashingStatus {
  /** Stored images waiting for their signature (each takes about 50 ms at 2000 px). */
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
  hashing: HashingStatus;
  /** Uploads not stored as near-duplicates since start, by source. */
  duplicates: Record<string, number>;
  feature_worker: { running: boolean; starts: number };
}

export interface SimilarityOptions {
  store: ImageStore;
  log: Logger;
  /** True while uploads are being processed: the re-hash waits then, as it runs at low priority. */
  busy: () => boolean;
  /** Megapixels of new images that may wait for their hash while uploads are processed. @default FRESH_HASH_BACKLOG_MP */
  backlogMp?: number;
}

/**
 * How many megapixels of new images may wait for their hash while uploads are being processed:
 * sixteen 12 MP frames, or some 650 of 640x480. A burst up to this is processed at full speed and
 * hashed once it is over; past it, one image is hashed beside the uploads for each new one. A
 * hash's time follows the image's pixels (the PNG is decoded whole), so bounding the pixels, not
 * the images, bounds what a query may wait for: some 200 MP of decoding.
 */
export const FRESH_HASH_BACKLOG_MP = 200;

/**
 * How long uploads must have paused before the hashing starts. Not merely "none in flight": one
 * client posting image after image leaves the queue empty for the few milliseconds between an
 * answer and the next body, and a hash started then shares the cores with that next image; on
 * the 2-core test machine that made one client 6-7% slower (docs/benchmarks.md, "npm run bench").
 */
export const UPLOAD_PAUSE_MS = 1000;

/**
 * Finds stored images by perceptual hash: keeps the in-memory index in step with the store.
 * A new image is hashed after its upload is answered, from its PNG, once uploads have paused
 * ({@link UPLOAD_PAUSE_MS}), so that the hash (a second decode, 8% of a 12 MP upload's work) neither
 * delays an upload nor takes a core from a burst of them; sooner when a query is waiting for it or
 * {@link FRESH_HASH_BACKLOG_MP} megapixels are. An upload is hashed at once only when
 * duplicate_max_distance needs its hash to decide whether to store it. Queries wait for the hashes
 * still to be made, so they always see every stored image. Images stored before signatures existed
 * are re-hashed in the background, also once uploads have paused, after the new ones.
 */
export class Similarity implements StoreObserver, DuplicateCheck {
  readonly name = 'similarity';
  readonly index = new SimilarityIndex();
  /** Uploads not stored as near-duplicates, by source, since start. */
  readonly duplicateCounts = new DuplicateCounts();
  readonly backfill: BackfillStatus = { pending: 0, done: 0, failed: 0 };
  private readonly hashed = { done: 0, failed: 0 };
  /** Newly committed images without a signature, hashed first, one at a time; the first stays listed while it is hashed. */
  private readonly fresh: Array<{ id: string; mp: number }> = [];
  /** The megapixels of {@link fresh}. */
  private freshMp = 0;
  /** Older images without a signature, hashed when nothing else is to be done. */
  private readonly older: string[] = [];
  private draining: Promise<void> | undefined;
  private freshWaiters: Array<() => void> = [];
  /** Ends the hashing loop's wait for a moment without uploads, when it is waiting. */
  private wakeDrain: (() => void) | undefined;
  private stopped = false;
  /** When the last image was committed (performance.now()), for {@link UPLOAD_PAUSE_MS}. */
  private lastCommitAt = -Infinity;
  /** Settles when the background re-hash has finished (or stopped). */
  backfilled: Promise<void> = Promise.resolve();

  constructor(private readonly options: SimilarityOptions) {}

  /** Indexes every signed image and starts re-hashing the unsigned ones, one at a time. */
  start(): void {
    const { store } = this.options;
    const all = store.list({ limit: store.totals().count }).images;
    for (const image of all) {
      if (isSignature(image.signature)) this.index.add(image.id, image.signature.phash);
      else this.older.push(image.id);
    }
    this.backfill.pending = this.older.length;
    if (this.older.length > 0) {
      this.draining = this.drain();
      this.backfilled = this.draining.then(() => {
        this.options.log.info(`similarity: hashed ${this.backfill.done} older images, ${this.backfill.failed} failed`);
      });
    }
  }

  /** Ends the hashing after the image in hand; the unhashed ones are hashed after the next start. */
  stop(): void {
    this.stopped = true;
    this.releaseFreshWaiters();
    this.wakeDrain?.();
  }

  /** Indexes newly committed images, and hashes those that come without a signature. */
  committed(images: readonly StoredImage[]): void {
    this.lastCommitAt = performance.now();
    for (const image of images) {
      if (isSignature(image.signature)) this.index.add(image.id, image.signature.phash);
      else this.addFresh(image);
    }
    if (this.fresh.length > 0 && !this.stopped) this.draining ??= this.drain();
    if (this.overBacklog) this.wakeDrain?.();
  }

  /** The hashing of new images, for /memory_status. */
  get hashing(): HashingStatus {
    return { pending: this.fresh.length, ...this.hashed };
  }

  /** Resolves once every image committed so far has its signature (or failed to get one). */
  async settled(): Promise<void> {
    if (this.hashing.pending === 0 || this.stopped) return;
    const hashed = new Promise<void>((resolve) => this.freshWaiters.push(resolve));
    this.wakeDrain?.();
    await hashed;
  }

  /** The signature of a processed PNG (a stored image's, or a query's). */
  signatureOf(png: string): Promise<ImageSignature> {
    return computeSignature(png);
  }

  /** Drops removed images from the index. */
  removed(images: readonly Pick<StoredImage, 'id'>[]): void {
    for (const image of images) this.index.remove(image.id);
  }

  /** The stored images nearest to a signature, nearest first, once the hashes in progress are done. */
  async search(signature: ImageSignature, query: SimilarQuery): Promise<SimilarImage[]> {
    await this.settled();
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
      hashing: this.hashing,
      duplicates: this.duplicateCounts.read(),
      feature_worker: { running: features.workerRunning, starts: features.starts },
    };
  }

  private present(hit: IndexHit): SimilarImage | undefined {
    const image = this.options.store.get(hit.id);
    return image && { image, distance: hit.distance, similarity: similarityOf(hit.distance) };
  }

  /**
   * Hashes the unsigned images one at a time, new ones first, once uploads have paused
   * (new ones also when a query waits for them or too many wait). Ends when both lists are empty.
   */
  private async drain(): Promise<void> {
    try {
      while (!this.stopped) {
        // After pending I/O, so that an upload's response goes out first.
        await new Promise((resolve) => setImmediate(resolve));
        const busy = this.options.busy() || performance.now() - this.lastCommitAt < UPLOAD_PAUSE_MS;
        if (this.fresh.length > 0 && (!busy || this.freshWaiters.length > 0 || this.overBacklog)) {
          try {
            this.count(this.hashed, await this.hash(this.fresh[0].id));
          } finally {
            this.freshMp -= this.fresh.shift()!.mp;
            // Sums of fractions drift: none left is none.
            if (this.fresh.length === 0) this.freshMp = 0;
          }
          if (this.fresh.length === 0) this.releaseFreshWaiters();
          continue;
        }
        if (this.fresh.length === 0 && this.older.length === 0) return;
        if (busy) {
          await this.nap(200);
          continue;
        }
        this.backfill.pending--;
        this.count(this.backfill, await this.hash(this.older.shift()!));
      }
    } finally {
      this.draining = undefined;
      // Committed while the loop was ending.
      if (this.fresh.length > 0 && !this.stopped) this.draining = this.drain();
    }
  }

  private addFresh(image: StoredImage): void {
    const mp = (image.width * image.height) / 1e6;
    this.fresh.push({ id: image.id, mp });
    this.freshMp += mp;
  }

  /** True when more new images wait for their hash than a burst may leave: one is hashed beside each upload then. */
  private get overBacklog(): boolean {
    return this.freshMp > (this.options.backlogMp ?? FRESH_HASH_BACKLOG_MP);
  }

  /** Waits `ms` for the uploads to be over, or less when a query or the backlog wakes it. */
  private nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakeDrain = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.wakeDrain = wake;
    });
  }

  private count(counters: { done: number; failed: number }, outcome: 'done' | 'failed' | 'skipped'): void {
    if (outcome !== 'skipped') counters[outcome]++;
  }

  /**
   * Hashes one stored image's PNG and keeps the signature in its record and the index; skipped
   * when the image is gone or was hashed meanwhile.
   */
  private async hash(id: string): Promise<'done' | 'failed' | 'skipped'> {
    const { store, log } = this.options;
    const image = store.get(id);
    if (!image || isSignature(image.signature)) return 'skipped';
    try {
      const signature = await computeSignature(store.pngPath(id));
      const record = await store.update(id, { signature }, { relearnable: true });
      if (!record) return 'skipped';
      this.index.add(id, signature.phash);
      return 'done';
    } catch (err) {
      if (!store.get(id)) return 'skipped';
      log.warn(`similarity: cannot hash image ${id}: ${(err as Error).message}`);
      return 'failed';
    }
  }

  private releaseFreshWaiters(): void {
    const waiters = this.freshWaiters;
    this.freshWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Similarity's part of /memory_status: the index, the re-hash, duplicates and the compare worker. */
export function similarityStatusPart(similarity: Similarity, features: { workerRunning: boolean; starts: number }): StatusPart {
  return { key: 'similarity', status: () => similarity.status(features) };
}
