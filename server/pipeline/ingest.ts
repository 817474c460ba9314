import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { AppError } from '../errors';
import type { Settings } from '../settings';
import { asDiskError } from '../storage/disk-errors';
import type { ImageStore, StoredImage } from '../storage/image-store';
import { processImage } from './process-image';
import type { ProcessingQueue } from './queue';
import { estimateWorkingSetMb, readImageHeader } from './working-set';

/** Who sent an image and when, as the client stated it. */
export interface UploadInfo {
  source: string;
  capturedAt: string | null;
  receivedAt: string;
}

export interface IngestEvents {
  /** An image was processed and committed. */
  stored: [StoredImage];
  /** An upload was refused; `code` is the error code sent to the client. */
  rejected: [{ code: string; source: string }];
}

/**
 * Takes uploaded files through the bounded queue, the pipeline and the store. It owns no HTTP:
 * the caller hands it files already on disk and gets records or AppErrors back.
 */
export class Ingest extends EventEmitter<IngestEvents> {
  constructor(
    private readonly settings: () => Settings,
    private readonly store: ImageStore,
    readonly queue: ProcessingQueue,
  ) {
    super();
  }

  /**
   * Processes one uploaded file into a stored image. Settings are read when processing starts,
   * so a change applies to the next image.
   * @throws AppError for input that cannot become an image, or when the queue is full.
   */
  async ingest(file: string, workDir: string, info: UploadInfo): Promise<StoredImage> {
    if (this.queue.isFull) throw this.queue.busyError();
    // The header is read before queueing, so that the queue can weigh the image against the
    // memory budget before admitting it; a file that is no image costs nothing, as the pipeline
    // refuses it before decoding a pixel.
    const header = await readImageHeader(file);
    const costMb = header ? estimateWorkingSetMb(header, this.settings()) : 0;
    return this.queue.run(async () => {
      const settings = this.settings();
      const started = performance.now();
      const output = join(workDir, `${Date.now()}-${Math.random().toString(36).slice(2)}.png`);
      const processed = await processImage(file, output, settings);
      const { exif, ...image } = processed;
      const record = await this.store.add(output, {
        source: info.source,
        ...image,
        format: 'png',
        received_at: info.receivedAt,
        captured_at: info.capturedAt,
        processing_ms: Math.round(performance.now() - started),
        ...(exif.make || exif.model || exif.takenAt
          ? { exif: { make: exif.make, model: exif.model, taken_at: exif.takenAt } }
          : {}),
      });
      this.emit('stored', record);
      return record;
    }, costMb);
  }

  /** Records a refusal, wherever in the request it happened, for the counters. */
  reportRejection(err: unknown, source: string): void {
    const error = err instanceof AppError ? err : asDiskError(err);
    this.emit('rejected', { code: error?.code ?? 'internal_error', source });
  }
}
