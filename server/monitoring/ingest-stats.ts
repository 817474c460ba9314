import type { Rejection, StoreObserver } from '../store-events';
import type { ProcessingQueue, QueueMemory } from '../memory/processing-queue';
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
  /** The memory budget images are admitted by, and what is weighed against it; null when enable_memory_optimization is off. */
  memory_budget: { budget_mb: number; origin: string; baseline_mb: number | null; in_flight_mb: number } | null;
  /** PNG bytes written since start. */
  bytes_stored: number;
  /** Processing time of the last stored image, in ms; null before the first. */
  last_ms: number | null;
  /** Mean processing time of the stored images, in ms; null before the first. */
  average_ms: number | null;
}

const round1 = (mb: number): number => Math.round(mb * 10) / 10;

function budgetStatus(memory: QueueMemory | null): ProcessingStats['memory_budget'] {
  if (!memory) return null;
  const { budget, baselineMb, inFlightMb } = memory;
  return { budget_mb: budget.mb, origin: budget.origin, baseline_mb: baselineMb === null ? null : round1(baselineMb), in_flight_mb: round1(inFlightMb) };
}

/**
 * Counts the outcomes of the upload flow as an observer of it, so that neither the pipeline nor
 * the HTTP layer has to know that anyone is counting.
 */
export class IngestStats implements StoreObserver {
  readonly name = 'ingest-stats';
  private detached = false;
  private stored = 0;
  private rejectedByCode: Record<string, number> = {};
  private rejectedTotal = 0;
  private bytesStored = 0;
  private lastMs: number | null = null;
  private totalMs = 0;

  constructor(private readonly queue: ProcessingQueue) {}

  committed(images: readonly StoredImage[]): void {
    if (this.detached) return;
    for (const image of images) {
      this.stored++;
      this.bytesStored += image.bytes;
      this.lastMs = image.processing_ms;
      this.totalMs += image.processing_ms;
    }
  }

  rejected({ code }: Rejection): void {
    if (this.detached) return;
    this.rejectedTotal++;
    this.rejectedByCode[code] = (this.rejectedByCode[code] ?? 0) + 1;
  }

  /** The counters now, with the queue's current depth. */
  read(): ProcessingStats {
    return {
      received: this.stored + this.rejectedTotal,
      stored: this.stored,
      rejected: { ...this.rejectedByCode },
      rejected_total: this.rejectedTotal,
      in_flight: this.queue.inFlight,
      queued: this.queue.queued,
      memory_budget: budgetStatus(this.queue.memory),
      bytes_stored: this.bytesStored,
      last_ms: this.lastMs,
      average_ms: this.stored === 0 ? null : Math.round(this.totalMs / this.stored),
    };
  }

  /** Stops counting. */
  detach(): void {
    this.detached = true;
  }
}
