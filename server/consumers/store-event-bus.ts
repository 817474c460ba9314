import type { Logger } from '../log';
import type { StoredImage } from '../storage/image-store';
import type { DuplicateRecord, RemovalReason, Rejection, StoreObserver } from '../store-events';

/**
 * Tells every observer what happened to the store, in the order of the list it was built with
 * (server/store-parts.ts). One failing observer neither stops the others nor the caller.
 */
export class StoreEventBus {
  private observers: readonly StoreObserver[] = [];

  constructor(private readonly log: Logger) {}

  /** Sets the list, once its members exist (some of them are built over the flow that calls this). */
  observe(observers: readonly StoreObserver[]): void {
    this.observers = observers;
  }

  committed(images: readonly StoredImage[]): void {
    if (images.length > 0) this.each((observer) => observer.committed?.(images));
  }

  /** Tells every observer of a removal and waits for those that clean up files. */
  async removed(images: readonly StoredImage[], reason: RemovalReason): Promise<void> {
    if (images.length === 0) return;
    await Promise.all(this.observers.map(async (observer) => {
      try {
        await observer.removed?.(images, reason);
      } catch (err) {
        this.log.error(`observer ${observer.name} failed: ${(err as Error).message}`);
      }
    }));
  }

  duplicates(records: readonly DuplicateRecord[], source: string): void {
    if (records.length > 0) this.each((observer) => observer.duplicates?.(records, source));
  }

  rejected(rejection: Rejection): void {
    this.each((observer) => observer.rejected?.(rejection));
  }

  private each(call: (observer: StoreObserver) => void): void {
    for (const observer of this.observers) {
      try {
        call(observer);
      } catch (err) {
        this.log.error(`observer ${observer.name} failed: ${(err as Error).message}`);
      }
    }
  }
}
