import type { Ingest } from '../pipeline/ingest';
import type { StoredImage } from '../storage/image-store';

/** What the pipeline has done since start, as /memory_status shows it. */
export interface ProcessingStats {
  /** Images that reached an outcome: stored ones plus refused uploads. */
  received: number;
  stored: number;
  /** Refused uploads by error code (payload_too_large, invalid_image, busy, ...). */
  rejected: Record<string, number>;
  rejected_total: number;
  /** Images being processed now. */
  in_flight: number;
  /** Images waiting for a processing slot. */
  queued: number;
  /** PNG bytes written since start. */
  bytes_stored: number;
  /** Processing time of the last stored image, in ms; null before the first. */
  last_ms: number | null;
  /** Mean processing time of the stored images, in ms; null before the first. */
  average_ms: number | null;
}

/**
 * Counts the outcomes of the pipeline from the `Ingest` events, so that neither the pipeline nor
 * the HTTP layer has to know that anyone is counting.
 */
export class IngestStats {
  private stored = 0;
  private rejected: Record<string, number> = {};
  private rejectedTotal = 0;
  private bytesStored = 0;
  private lastMs: number | null = null;
  private totalMs = 0;
  private readonly onStored = (image: StoredImage): void => {
    this.stored++;
    this.bytesStored += image.bytes;
    this.lastMs = image.processing_ms;
    this.totalMs += image.processing_ms;
  };
  private readonly onRejected = ({ code }: { code: string }): void => {
    this.rejectedTotal++;
    this.rejected[code] = (this.rejected[code] ?? 0) + 1;
  };

  constructor(private readonly ingest: Ingest) {
    ingest.on('stored', this.onStored);
    ingest.on('rejected', this.onRejected);
  }

  /** The counters now, with the queue's current depth. */
  read(): ProcessingStats {
    return {
      received: this.stored + this.rejectedTotal,
      stored: this.stored,
      rejected: { ...this.rejected },
      rejected_total: this.rejectedTotal,
      in_flight: this.ingest.queue.inFlight,
      queued: this.ingest.queue.queued,
      bytes_stored: this.bytesStored,
      last_ms: this.lastMs,
      average_ms: this.stored === 0 ? null : Math.round(this.totalMs / this.stored),
    };
  }

  /** Stops counting. */
  detach(): void {
    this.ingest.off('stored', this.onStored);
    this.ingest.off('rejected', this.onRejected);
  }
}
