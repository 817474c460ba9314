import type { StoreEventBus } from '../consumers/store-event-bus';
import type { ImageStore } from '../storage/image-store';

/**
 * Removing images on a client's request, so that every observer hears of it as it hears of
 * retention: thumbnails and frames go with their image, consumers count what they missed.
 */
export class ImageRemoval {
  constructor(private readonly store: ImageStore, private readonly storeEvents: StoreEventBus) {}

  /** Removes one image; false when there is no such image. */
  async remove(id: string): Promise<boolean> {
    const removed = await this.store.delete(id);
    if (removed) await this.storeEvents.removed([removed], 'deleted');
    return removed !== undefined;
  }

  /** Removes every image; returns how many. */
  async removeAll(): Promise<number> {
    const removed = await this.store.deleteAll();
    await this.storeEvents.removed(removed, 'deleted_all');
    return removed.length;
  }
}
