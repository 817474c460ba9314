import { join } from 'node:path';
import { loadSharp } from '../pipeline/sharp-tuning';
import { matcherBusy } from '../errors';
import { FEATURE_IMAGE_SIZE, scoreMatch, type Comparison, type Features, type GreyImage, type MatchCounts } from './features';
import type { WorkerRequest } from './feature-worker';
import { WorkerProcess } from '../workers/worker-process';

export interface FeatureMatcherOptions {
  /** How long the worker may sit idle before it is ended, in milliseconds; read after every job. */
  idleMs: () => number;
  /** Jobs that may wait while one runs; one more is refused with 503 busy. */
  maxWaiting: number;
  /** The command that runs the worker in place of node (--worker-exec). */
  exec?: readonly string[];
}

/** A request without its id, kept apart per operation. */
type Job = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

/**
 * Local-feature work (ORB, matching, RANSAC) in a worker that holds OpenCV. The worker is started
 * by the first job and ended after `idleMs` without one, so OpenCV's memory is only held while
 * comparing. One job runs at a time; a few wait; more are refused as busy.
 *
 * The worker is a child process, not a worker_thread: a worker thread's memory goes back to the
 * daemon's malloc when it ends, not to the system, and the daemon's idle RSS stayed about 40 MB
 * higher after one comparison (measured with glibc, also with MALLOC_ARENA_MAX=2); a process
 * gives every page back when it exits (docs/similarity.md).
 */
export class FeatureMatcher {
  private readonly worker: WorkerProcess<Job>;
  private running = false;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly options: FeatureMatcherOptions) {
    this.worker = new WorkerProcess<Job>({ script: join(__dirname, 'feature-worker.js'), name: 'feature worker', idleMs: options.idleMs, exec: options.exec });
  }

  /** True while the worker process (and OpenCV) is alive. */
  get workerRunning(): boolean {
    return this.worker.running;
  }

  /** The worker's process id while it runs, for tests and the log. */
  get workerPid(): number | undefined {
    return this.worker.pid;
  }

  /** Times the worker was started, for /memory_status and tests. */
  get starts(): number {
    return this.worker.starts;
  }

  /** ORB features of an image file, reduced to at most 1024 px first. @throws AppError busy when the wait queue is full. */
  async extract(file: string): Promise<Features> {
    const image = await greyImage(file);
    return (await this.run({ op: 'extract', image })) as Features;
  }

  /** Matches two feature sets. @throws AppError busy. */
  async match(a: Features, b: Features): Promise<Comparison> {
    return scoreMatch((await this.run({ op: 'match', a, b })) as MatchCounts);
  }

  /** Compares two image files, trying the second mirrored too. @throws AppError busy. */
  async compare(fileA: string, fileB: string): Promise<Comparison> {
    const [a, b] = [await greyImage(fileA), await greyImage(fileB)];
    return scoreMatch((await this.run({ op: 'compare', a, b })) as MatchCounts);
  }

  /** Ends the worker now (daemon stop). */
  close(): Promise<void> {
    return this.worker.close();
  }

  /** One job at a time: OpenCV's work is single-threaded and holds much memory per job. */
  private async run(job: Job): Promise<unknown> {
    if (this.running) {
      if (this.waiting.length >= this.options.maxWaiting) {
        throw matcherBusy();
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running = true;
    try {
      return await this.worker.run(job);
    } finally {
      this.running = false;
      this.waiting.shift()?.();
    }
  }
}

/** An image file as grey pixels, its longest side at most 1024, for ORB. */
async function greyImage(file: string): Promise<GreyImage> {
  const { data, info } = await loadSharp()(file, { sequentialRead: true })
    .resize(FEATURE_IMAGE_SIZE, FEATURE_IMAGE_SIZE, { fit: 'inside', withoutEnlargement: true })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
