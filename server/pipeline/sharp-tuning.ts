import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import type { Settings } from '../settings';

/** How images are processed in one mode: the whole meaning of enable_memory_optimization. */
export interface ProcessingProfile {
  /** Images processed at once; the others wait in the queue as files on disk. */
  imagesAtOnce: number;
  /** libvips worker threads per image. */
  threads: number;
  /** libvips' operation cache, or false for none. */
  cache: false | { memory: number; files: number; items: number };
}

/**
 * The profile of each mode. On: one image at a time on one libvips thread with no cache, so that
 * only one image's pixels are ever in memory and they are freed as soon as it is written. Off: one
 * image per core, every core for libvips and its default cache, for throughput. (Every upload is a
 * new file, so the cache rarely hits; it is kept because it is libvips' default, and is bounded.)
 * Decoding is the same in both modes (see process-image.ts): it costs no throughput.
 */
export function processingProfile(settings: Settings): ProcessingProfile {
  if (settings.enable_memory_optimization) return { imagesAtOnce: 1, threads: 1, cache: false };
  const cores = availableParallelism();
  return { imagesAtOnce: cores, threads: cores, cache: { memory: 50, files: 20, items: 100 } };
}

/** Sets libvips' threads and operation cache from the settings; the one place they are set. */
export function tuneSharp(settings: Settings): void {
  const { threads, cache } = processingProfile(settings);
  sharp.cache(cache);
  // Explicitly, not 0: sharp.concurrency(0) keeps sharp's own default, which is 1 under glibc.
  sharp.concurrency(threads);
}

/** How many images are processed at once, for the queue. */
export function processingConcurrency(settings: Settings): number {
  return processingProfile(settings).imagesAtOnce;
}
