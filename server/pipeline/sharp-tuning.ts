import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import type { Settings } from '../settings';

/** How images are processed in one mode: the whole meaning of enable_memory_optimization. */
export interface ProcessingProfile {
  /** Most images processed at once (the memory budget may allow fewer); the others wait in the queue as files on disk. */
  imagesAtOnce: number;
  /** libvips worker threads per image. */
  threads: number;
  /** libvips' operation cache, or false for none. */
  cache: false | { memory: number; files: number; items: number };
}

/**
 * The profile of each mode. On: one image per core at most, and as many as memory_budget_mb
 * allows (the queue admits them; a budget with room for one image processes one at a time), each
 * on one libvips thread with no cache, so that an image's pixels are freed as soon as it is
 * written. One thread each, because most of an image's time is the PNG's zlib compression, which
 * runs on one thread anyway: a second thread per image measured no faster, and with one image per
 * core the cores are used by the images themselves. Off: one image per core, every core for
 * libvips and its default cache, for throughput with no memory bound. (Every upload is a new
 * file, so the cache rarely hits; it is kept because it is libvips' default, and is bounded.)
 * Decoding is the same in both modes (see process-image.ts): it costs no throughput.
 */
export function processingProfile(settings: Settings): ProcessingProfile {
  const cores = availableParallelism();
  if (settings.enable_memory_optimization) return { imagesAtOnce: cores, threads: 1, cache: false };
  return { imagesAtOnce: cores, threads: cores, cache: { memory: 50, files: 20, items: 100 } };
}

/** Sets libvips' threads and operation cache from the settings; the one place they are set. */
export function tuneSharp(settings: Settings): void {
  const { threads, cache } = processingProfile(settings);
  sharp.cache(cache);
  // Explicitly, not 0: sharp.concurrency(0) keeps sharp's own default, which is 1 under glibc.
  sharp.concurrency(threads);
}

/** How many images may be processed at once, for the queue: one per core. */
export function processingConcurrency(settings: Settings): number {
  return processingProfile(settings).imagesAtOnce;
}
