import { availableParallelism } from 'node:os';
import type Sharp from 'sharp';
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

let usableCores: number | undefined;

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
  // Read once: the queue asks before every image, and the affinity a service starts with stays.
  const cores = usableCores ??= availableParallelism();
  if (settings.enable_memory_optimization) return { imagesAtOnce: cores, threads: 1, cache: false };
  return { imagesAtOnce: cores, threads: cores, cache: { memory: 50, files: 20, items: 100 } };
}

/** The sharp module's type: what {@link loadSharp} returns. */
export type SharpModule = typeof Sharp;

/** Where sharp is, resolved without loading it, to tell whether it is loaded. */
const SHARP_PATH = require.resolve('sharp');
/** The settings libvips is to be tuned for, and those it was last tuned for. */
let wanted: Settings | undefined;
let applied: Settings | undefined;

/**
 * sharp, loaded on first use and tuned then: the daemon's own libvips work (a JPEG or PNG header
 * it cannot read itself, hashes, thumbnails, display frames) comes after start or never, since the
 * image worker processes uploads, and libvips and its glib map some 10 MiB the idle daemon need
 * not hold (docs/benchmarks.md, "Idle memory").
 */
export function loadSharp(): SharpModule {
  const sharp = require('sharp') as SharpModule;
  if (wanted !== undefined && applied !== wanted) {
    const { threads, cache } = processingProfile(wanted);
    sharp.cache(cache);
    // Explicitly, not 0: sharp.concurrency(0) keeps sharp's own default, which is 1 under glibc.
    sharp.concurrency(threads);
    applied = wanted;
  }
  return sharp;
}

/** sharp when this process has loaded it (tuned), else undefined: for readings that must not load it. */
export function loadedSharp(): SharpModule | undefined {
  return require.cache[SHARP_PATH] ? loadSharp() : undefined;
}

/**
 * Sets libvips' threads and operation cache from the settings; the one place they are set. Applied
 * at once when sharp is loaded, else when {@link loadSharp} first loads it.
 */
export function tuneSharp(settings: Settings): void {
  wanted = settings;
  applied = undefined;
  loadedSharp();
}

/** The daemon's libvips cache and tasks, as sharp reports them. */
export interface LibvipsReadings {
  cache: ReturnType<SharpModule['cache']>;
  counters: ReturnType<SharpModule['counters']>;
}

/** The libvips cache and tasks of this process: all zero while it has not loaded sharp, which reading them does not do. */
export function libvipsReadings(): LibvipsReadings {
  const sharp = loadedSharp();
  if (sharp) return { cache: sharp.cache(), counters: sharp.counters() };
  return { cache: { memory: { current: 0, high: 0, max: 0 }, files: { current: 0, max: 0 }, items: { current: 0, max: 0 } }, counters: { queue: 0, process: 0 } };
}

/** How many images may be processed at once, for the queue: one per core. */
export function processingConcurrency(settings: Settings): number {
  return processingProfile(settings).imagesAtOnce;
}
