import { join } from 'node:path';
import sharp from 'sharp';
import { decodeOptions, pngOptions } from '../../server/pipeline/process-image';
import { processingConcurrency, tuneSharp } from '../../server/pipeline/sharp-tuning';
import { DEFAULT_SETTINGS, type Settings } from '../../server/settings';
import type { WorkloadImage } from './photo-jpeg';

/**
 * The work the daemon does around its HTTP layer, done by bare sharp: decode, resize to
 * max_image_dimension, orient from EXIF, encode the PNG, with the daemon's decode and PNG
 * options, from a file to a file.
 */
function bareSharp(image: WorkloadImage, settings: Settings): sharp.Sharp {
  const max = settings.max_image_dimension;
  return sharp(image.file, decodeOptions(settings))
    .resize(max, max, { fit: 'inside', withoutEnlargement: true })
    .autoOrient();
}

/**
 * Processes `jobs` with bare sharp in this process, `clients` at a time but never more than the
 * mode lets the daemon process at once, with the mode's libvips threads and cache: the ceiling
 * that the daemon, which does the same work behind HTTP, can approach.
 */
export async function runCeiling(jobs: readonly WorkloadImage[], clients: number, settings: Settings, dir: string): Promise<{ seconds: number; cpuSeconds: number }> {
  tuneSharp(settings);
  const atOnce = Math.min(clients, processingConcurrency(settings));
  const started = performance.now();
  const cpu = process.cpuUsage();
  let next = 0;
  const worker = async (slot: number): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++];
      await bareSharp(job, settings).png(pngOptions(settings)).toFile(join(dir, `ceiling-${slot}.png`));
    }
  };
  await Promise.all(Array.from({ length: atOnce }, (_, slot) => worker(slot)));
  const { user, system } = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (user + system) / 1e6 };
}

/** The size of `image` stored as the daemon stores it by default, with or without row filtering. */
export async function barePngBytes(image: WorkloadImage, adaptiveFiltering: boolean): Promise<number> {
  const png = await bareSharp(image, DEFAULT_SETTINGS)
    .png({ ...pngOptions(DEFAULT_SETTINGS), adaptiveFiltering })
    .toBuffer();
  return png.length;
}
