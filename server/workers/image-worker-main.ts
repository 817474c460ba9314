import type { Settings } from '../settings';
import { serveJobs } from './worker-process';
import { processImage } from '../pipeline/process-image';
import type { ImageInput } from '../pipeline/image-input';
import { tuneSharp } from '../pipeline/sharp-tuning';
import type { ImageHeader } from '../pipeline/image-header';

/**
 * The worker process that runs the pipeline (image-processor.ts starts and ends it): each job is
 * one processImage() call, with the settings the daemon read when the image's turn came.
 */
export interface ImageJob {
  /** The image's file; absent for an image in memory, whose bytes are the job's attachment. */
  input?: ImageInput;
  output: string;
  settings: Settings;
  header?: ImageHeader;
}

let tunedFor: Settings | undefined;

serveJobs<ImageJob>(({ input, output, settings, header }, attachment) => {
  // libvips' threads and cache follow the settings, as in the daemon (sharp-tuning.ts).
  if (tunedFor?.enable_memory_optimization !== settings.enable_memory_optimization) tuneSharp(settings);
  tunedFor = settings;
  return processImage(input ?? { bytes: attachment ?? Buffer.alloc(0) }, output, settings, header);
});
