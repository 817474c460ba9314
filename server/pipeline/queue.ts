import { AppError } from '../errors';

export interface QueueLimits {
  /** How many tasks may run at once; read at every start, so a settings change applies at once. */
  concurrency: () => number;
  /** How many tasks may wait; one more is refused with 503 busy. */
  maxWaiting: () => number;
}

/**
 * A bounded FIFO of processing tasks. Waiting tasks hold only a file path, never pixels, so the
 * bound is about latency and disk, while `concurrency` bounds memory.
 */
export class ProcessingQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private recentMs = 1000;

  constructor(private readonly limits: QueueLimits) {}

  /** Tasks running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Tasks waiting for a free slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** True when one more task would be refused. */
  get isFull(): boolean {
    return this.running >= this.limits.concurrency() && this.waiting.length >= this.limits.maxWaiting();
  }

  /** An AppError busy with a Retry-After estimated from the recent task time and the backlog. */
  busyError(): AppError {
    const backlog = this.waiting.length + this.running;
    const seconds = Math.max(1, Math.ceil((backlog * this.recentMs) / 1000 / this.limits.concurrency()));
    return new AppError('busy', `The processing queue is full (${backlog} images); retry in ${seconds} s`, {
      headers: { 'Retry-After': String(seconds) },
    });
  }

  /**
   * Runs `task` when a slot is free.
   * @throws AppError busy when the queue is full, without running the task.
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.isFull) throw this.busyError();
    if (this.running >= this.limits.concurrency()) {
      // next() hands this task its slot (counted there) before resuming it.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    const started = performance.now();
    try {
      return await task();
    } finally {
      // A moving average is enough for a Retry-After hint.
      this.recentMs = 0.8 * this.recentMs + 0.2 * (performance.now() - started);
      this.running--;
      this.next();
    }
  }

  /** Resolves when nothing runs or waits. */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): void {
    while (this.waiting.length > 0 && this.running < this.limits.concurrency()) {
      // Count the slot as taken now, so that a task arriving before the waiter resumes queues behind it.
      this.running++;
      this.waiting.shift()!();
    }
    if (this.running === 0 && this.waiting.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
