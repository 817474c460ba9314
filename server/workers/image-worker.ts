import { join } from 'node:path';
import type { Settings } from '../settings';
import { WorkerProcess, type WorkerProcessStatus } from './worker-process';
import { WORKER_START_MB } from '../memory/memory-budget';
import type { ImageJob } from './image-worker-main';
import type { ProcessedImage } from '../pipeline/process-image';
import { isEncodedBytes, type ImageInput } from '../pipeline/image-input';
import type { ImageHeader } from '../pipeline/image-header';

/** The image worker as /memory_status shows it. */
export type ImageWorkerStatus = WorkerProcessStatus;

export interface ImageProcessorOptions {
  /** How long the worker may sit idle before it is ended, in milliseconds. */
  idleMs: () => number;
  /** The daemon's environment, which the worker's is made from. */
  env: NodeJS.ProcessEnv;
  /** The command that runs the worker in place of node (--worker-exec). */
  exec?: readonly string[];
}


/**
 * Runs the pipeline (process-image.ts) in a worker process, started by the first image and ended
 * after `idleMs` without one.
 *
 * Why a process: glibc malloc cannot both give an image's memory back and be quick. Mapping
 * libvips' row buffers on their own (the start wrapper's 64 kB threshold) gives memory back as
 * each image ends, but costs a page fault per page, 11-15% of a 12 MP image's time where faults
 * are dear; glibc's own threshold is quick but keeps 60-150 MB after a burst. The worker runs
 * glibc's own threshold, quick, and its exit gives everything back; the daemon keeps the wrapper's
 * settings for its own, small, allocations (docs/benchmarks.md, "Allocator settings").
 */
export class ImageWorker {
  private readonly worker: WorkerProcess<ImageJob>;

  constructor(options: ImageProcessorOptions) {
    this.worker = new WorkerProcess<ImageJob>({
      script: join(__dirname, 'image-worker-main.js'), name: 'image worker', idleMs: options.idleMs, env: imageWorkerEnv(options.env), exec: options.exec,
    });
  }

  /**
   * processImage() in the worker: the same result, and the same AppError when it refuses the image.
   * @throws Error when the worker dies under the image (a crash in a decoder): the daemon stays up.
   */
  process = (input: ImageInput, output: string, settings: Settings, header?: ImageHeader): Promise<ProcessedImage> =>
    // An image in memory goes as an attachment: its bytes as they are, beside the job.
    (isEncodedBytes(input) ? this.worker.run({ output, settings, header }, input.bytes) : this.worker.run({ input, output, settings, header })) as Promise<ProcessedImage>;

  /** True while the worker runs. */
  get running(): boolean {
    return this.worker.running;
  }

  /** The worker's process id while it runs. */
  get pid(): number | undefined {
    return this.worker.pid;
  }

  /** Times the worker was started. */
  get starts(): number {
    return this.worker.starts;
  }

  /**
   * The worker's private memory (RssAnon) in MiB, or {@link WORKER_START_MB} while none runs, as
   * the next image starts one. Its file pages (node, libvips) are the daemon's too: counted once.
   */
  privateMb(): number {
    return this.worker.privateMb() ?? WORKER_START_MB;
  }

  /** The worker as /memory_status shows it. */
  status(): ImageWorkerStatus {
    return this.worker.status();
  }

  /** Ends the worker now (daemon stop). */
  close(): Promise<void> {
    return this.worker.close();
  }
}

/**
 * The worker's environment: the daemon's, without a fixed mmap threshold, so that glibc raises
 * it as libvips' buffers come and go and reuses them instead of faulting in fresh pages. The arena
 * limit stays: it bounds what the worker holds while it lives.
 */
export function imageWorkerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const worker = { ...env };
  delete worker.MALLOC_MMAP_THRESHOLD_;
  return worker;
}
