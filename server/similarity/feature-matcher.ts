import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import sharp from 'sharp';
import { matcherBusy } from '../errors';
import { FEATURE_IMAGE_SIZE, scoreMatch, type Comparison, type Features, type GreyImage, type MatchCounts } from './features';
import type { WorkerRequest, WorkerResponse } from './feature-worker';

export interface FeatureMatcherOptions {
  /** How long the worker may sit idle before it is ended, in milliseconds; read after every job. */
  idleMs: () => number;
  /** Jobs that may wait while one runs; one more is refused with 503 busy. */
  maxWaiting: number;
}

/** A request without its id, kept apart per operation. */
type Waiter = { resolve: (value: unknown) => void; reject: (err: Error) => void };

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
  private worker?: ChildProcess;
  private idleTimer?: NodeJS.Timeout;
  private running = false;
  private readonly waiting: Array<() => void> = [];
  private nextId = 1;
  /** The answers the current worker owes; each worker has its own, so a dying one fails only its jobs. */
  private pending = new Map<number, Waiter>();
  /** Times the worker was started, for /memory_status and tests. */
  starts = 0;

  constructor(private readonly options: FeatureMatcherOptions) {}

  /** True while the worker process (and OpenCV) is alive. */
  get workerRunning(): boolean {
    return this.worker !== undefined;
  }

  /** The worker's process id while it runs, for tests and the log. */
  get workerPid(): number | undefined {
    return this.worker?.pid;
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
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    if (!worker || worker.exitCode !== null || worker.signalCode !== null) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    await exited;
  }

  private async run(job: Job): Promise<unknown> {
    if (this.running) {
      if (this.waiting.length >= this.options.maxWaiting) {
        throw matcherBusy();
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running = true;
    clearTimeout(this.idleTimer);
    try {
      return await this.send(job);
    } finally {
      this.running = false;
      const next = this.waiting.shift();
      if (next) next();
      else this.armIdleTimer();
    }
  }

  private send(job: Job): Promise<unknown> {
    const worker = this.worker ?? this.startWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.send({ ...job, id });
    });
  }

  private startWorker(): ChildProcess {
    // Advanced serialization passes the pixel and descriptor arrays as they are, not as JSON.
    const worker = fork(join(__dirname, 'feature-worker.js'), [], {
      serialization: 'advanced', execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const pending = new Map<number, Waiter>();
    this.pending = pending;
    this.starts++;
    worker.on('message', (response: WorkerResponse) => {
      const waiter = pending.get(response.id);
      pending.delete(response.id);
      if (response.error !== undefined) waiter?.reject(new Error(`feature worker: ${response.error}`));
      else waiter?.resolve(response.result);
    });
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of pending.values()) waiter.reject(err);
      pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code, signal) => fail(new Error(`feature worker exited with ${signal ?? `code ${code}`}`)));
    this.worker = worker;
    return worker;
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    if (!this.worker) return;
    this.idleTimer = setTimeout(() => void this.close(), this.options.idleMs());
    // An idle worker's timer never keeps the process alive.
    this.idleTimer.unref();
  }
}

/** An image file as grey pixels, its longest side at most 1024, for ORB. */
async function greyImage(file: string): Promise<GreyImage> {
  const { data, info } = await sharp(file, { sequentialRead: true })
    .resize(FEATURE_IMAGE_SIZE, FEATURE_IMAGE_SIZE, { fit: 'inside', withoutEnlargement: true })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
