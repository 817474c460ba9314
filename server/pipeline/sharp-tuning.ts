import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import type { Settings } from '../settings';

/**
 * Sets libvips' threads and operation cache from the settings; the one place they are set.
 * Low-memory mode: one thread and no cache, so a decoded image is freed as soon as it is written.
 * Otherwise libvips uses every core and its default cache, for throughput.
 */
export function tuneSharp(settings: Settings): void {
  if (settings.enable_memory_optimization) {
    sharp.cache(false);
    sharp.concurrency(1);
  } else {
    sharp.cache({ memory: 50, files: 20, items: 100 });
    sharp.concurrency(0);
  }
}

/** How many images are processed at once: one in low-memory mode, else one per core. */
export function processingConcurrency(settings: Settings): number {
  return settings.enable_memory_optimization ? 1 : availableParallelism();
}
