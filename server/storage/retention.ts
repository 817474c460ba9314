import { statfs } from 'node:fs/promises';
import { diskLow } from '../errors';
import type { Logger } from '../log';
import type { Settings } from '../settings';
import type { ImageStore, StoredImage } from './image-store';

const MB = 1024 * 1024;

/**
 * How long a reading of the free disk space is used again while the disk is far above the floor:
 * an upload checks it twice (admitted, then stored), 0.3 ms of a 640x480 upload's latency on the
 * build machine for two statfs calls that say the same. Within this time the daemon writes far
 * less than {@link FREE_MARGIN_BYTES}; nearer the floor every check measures.
 */
const FREE_READING_MS = 500;
const FREE_MARGIN_BYTES = 256 * MB;

/** The limit that made retention remove images. */
export type RetentionReason = 'max_stored_images' | 'max_storage_mb' | 'min_free_disk_mb' | 'forwarded';

/** One run of retention that removed images. */
export interface RetentionRemoval {
  ids: string[];
  bytes: number;
  reason: RetentionReason;
  at: string;
}

/** What retention did since the daemon started, and the disk as it is now. */
export interface RetentionStatus {
  /** Images and PNG bytes removed by retention. */
  removed_images: number;
  removed_bytes: number;
  /** The last run that removed images: when, how many, and which limit made it; null before any. */
  last_run_at: string | null;
  last_run_removed: number;
  last_reason: RetentionReason | null;
  /** Uploads refused with 507 because the disk stayed below min_free_disk_mb. */
  refused_uploads: number;
  /** Free bytes on the data dir's filesystem now; null when it cannot be measured. */
  free_disk_bytes: number | null;
  stored_images: number;
  stored_bytes: number;
  /** The limits in force; 0 is no limit. */
  limits: Pick<Settings, 'max_stored_images' | 'max_storage_mb' | 'min_free_disk_mb'>;
}

export interface RetentionOptions {
  store: ImageStore;
  settings: () => Settings;
  log: Logger;
  /** Free bytes on the filesystem holding `dir`; statfs unless a test simulates a disk. */
  freeBytes?: (dir: string) => Promise<number>;
  /**
   * True when a durable consumer has not handled the image yet: max_stored_images waits for it;
   * only the storage limits (max_storage_mb, min_free_disk_mb) remove it, and the consumer counts
   * it as skipped.
   */
  isPending?: (id: string) => boolean;
  /**
   * True when every forwarding consumer has the image: with local_retention until_forwarded it is
   * removed. Forwarding goes in commit order, so the oldest images are the forwarded ones, and the
   * storage limits, removing the oldest first, remove forwarded images before local-only ones.
   */
  isForwarded?: (id: string) => boolean;
  /** Told of every image retention removed (the store's observers). */
  removed?: (images: readonly StoredImage[]) => void | Promise<void>;
}

/**
 * Keeps the store within max_stored_images, max_storage_mb and min_free_disk_mb by removing the
 * oldest images through {@link ImageStore.delete}, never one whose upload is still being answered
 * (unsettled in the store). Runs one at a time, so concurrent uploads never remove more than needed.
 */
export class Retention {
  private running: Promise<unknown> = Promise.resolve();
  private readonly freeBytes: (dir: string) => Promise<number>;
  private totals = { removed_images: 0, removed_bytes: 0, refused_uploads: 0 };
  private last: RetentionRemoval | null = null;
  private lastFree: { bytes: number; at: number } | undefined;

  constructor(private readonly options: RetentionOptions) {
    this.freeBytes = options.freeBytes ?? diskFreeBytes;
  }

  /**
   * Called once an upload's images are stored: removes the oldest others until every limit
   * holds. A failure is logged, not thrown: the images are stored whatever happens here.
   */
  afterStore(ids: readonly string[]): Promise<void> {
    return this.serially(async () => {
      await this.enforce(new Set(ids)).catch((err) => this.options.log.error(`retention failed: ${(err as Error).message}`));
    });
  }

  /**
   * Checked before an upload is read: when the disk is below min_free_disk_mb, removes the oldest
   * images; when that is not enough, refuses.
   * @throws AppError insufficient_storage when nothing more can be removed.
   */
  ensureSpace(): Promise<void> {
    return this.serially(async () => {
      const floor = this.options.settings().min_free_disk_mb * MB;
      if (floor === 0) return;
      const free = await this.enforce(new Set());
      if (free !== null && free < floor) {
        this.totals.refused_uploads++;
        throw diskLow(Math.floor(free / MB), floor / MB);
      }
    });
  }

  /** What retention did and the disk now, for /memory_status and the dashboard. */
  async status(): Promise<RetentionStatus> {
    const { max_stored_images, max_storage_mb, min_free_disk_mb } = this.options.settings();
    const { count, bytes } = this.options.store.totals();
    return {
      ...this.totals,
      last_run_at: this.last?.at ?? null,
      last_run_removed: this.last?.ids.length ?? 0,
      last_reason: this.last?.reason ?? null,
      free_disk_bytes: await this.measureFree(),
      stored_images: count,
      stored_bytes: bytes,
      limits: { max_stored_images, max_storage_mb, min_free_disk_mb },
    };
  }

  /**
   * With local_retention until_forwarded, removes the images every forwarder has; called after a
   * forwarder handled an image. A failure is logged, not thrown.
   */
  afterForwarded(): Promise<void> {
    return this.afterStore([]);
  }

  /** Removes the oldest images not in `keep` (or unsettled) until within limits; returns the free bytes. */
  private async enforce(keep: Set<string>): Promise<number | null> {
    const { store } = this.options;
    const settings = this.options.settings();
    let { count, bytes } = store.totals();
    const floor = settings.min_free_disk_mb * MB;
    // Measured once, then counted down by what is removed: a PNG still open by a reader frees
    // nothing until it is closed, and a fresh measure would then remove more than needed.
    let free = floor > 0 ? await this.measureFree(floor) : null;
    const forwarded = (): boolean => {
      if (settings.local_retention !== 'until_forwarded' || !this.options.isForwarded) return false;
      const oldest = this.oldestRemovable(keep, true);
      return oldest !== undefined && this.options.isForwarded(oldest.id);
    };
    const over = (): RetentionReason | undefined => {
      if (forwarded()) return 'forwarded';
      if (settings.max_stored_images > 0 && count > settings.max_stored_images) return 'max_stored_images';
      if (settings.max_storage_mb > 0 && bytes > settings.max_storage_mb * MB) return 'max_storage_mb';
      if (free !== null && free < floor) return 'min_free_disk_mb';
      return undefined;
    };
    const removed: StoredImage[] = [];
    let removedBytes = 0;
    // The limit that started the run names it, though others may be passed too.
    const reason = over();
    let limit: RetentionReason | undefined;
    while ((limit = over()) !== undefined) {
      const victim = this.oldestRemovable(keep, limit === 'max_stored_images' || limit === 'forwarded');
      if (!victim) break;
      if (await store.delete(victim.id)) {
        removed.push(victim);
        removedBytes += victim.bytes;
        this.totals.removed_images++;
        this.totals.removed_bytes += victim.bytes;
      }
      count--;
      bytes -= victim.bytes;
      if (free !== null) free += victim.bytes;
    }
    if (reason !== undefined && removed.length > 0) {
      this.last = { ids: removed.map((image) => image.id), bytes: removedBytes, reason, at: new Date().toISOString() };
      this.options.log.info(`retention removed ${removed.length} images (${removedBytes} B) for ${reason}`);
      await this.options.removed?.(removed);
    }
    return free;
  }

  /**
   * The oldest image that may go: not one of `keep`, not unsettled, and, when `waitForConsumers`,
   * not one a durable consumer has still to handle (nor any newer one, so removal stays in order).
   */
  private oldestRemovable(keep: Set<string>, waitForConsumers: boolean): StoredImage | undefined {
    for (const image of this.options.store.oldestFirst()) {
      if (keep.has(image.id) || this.options.store.isUnsettled(image.id)) continue;
      if (waitForConsumers && this.options.isPending?.(image.id)) return undefined;
      return image;
    }
    return undefined;
  }

  /** The free bytes, read again unless a reading under {@link FREE_READING_MS} old is far above `floor`. */
  private async measureFree(floor = 0): Promise<number | null> {
    const last = this.lastFree;
    if (last && performance.now() - last.at < FREE_READING_MS && last.bytes - floor > FREE_MARGIN_BYTES) return last.bytes;
    try {
      const bytes = await this.freeBytes(this.options.store.dataDir);
      this.lastFree = { bytes, at: performance.now() };
      return bytes;
    } catch (err) {
      this.options.log.warn(`cannot measure free disk space: ${(err as Error).message}`);
      return null;
    }
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.running.then(task);
    this.running = result.catch(() => undefined);
    return result;
  }
}

/** Bytes available to this process on the filesystem holding `dir`. */
async function diskFreeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}
