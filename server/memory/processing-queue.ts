import { overMemoryBudget, queueFull, type AppError } from '../errors';
import { admits, type MemoryAdmission } from './memory-admission';
import type { MemoryBudget } from './memory-budget';

export interface QueueLimits {
  /** How many tasks may run at once; read at every start, so a settings change applies at once. */
  concurrency: () => number;
  /** How many tasks may wait; one more is refused with 503 busy. */
  maxWaiting: () => number;
  /** When set, a task is admitted only while the estimates of the tasks in flight fit its budget. */
  memory?: MemoryAdmission;
}

/** The memory admission as it stands, for /memory_status. */
export interface QueueMemory {
  budget: MemoryBudget;
  /** The RSS last read with nothing in flight, in MiB; null before the first admission. */
  baselineMb: number | null;
  /** The sum of the running tasks' estimates, in MiB. */
  inFlightMb: number;
}

interface Waiter {
  costMb: number;
  start: () => void;
}

/**
 * A bounded FIFO of processing tasks. Waiting tasks hold a file path or a small encoded image (at
 * most HEAD_BYTES, pipeline/image-header.ts), never pixels, so the bound is about latency and
 * disk, while `concurrency` and the memory admission bound memory.
 */
export class ProcessingQueue {
  private running = 0;
  private runningMb = 0;
  private baselineMb: number | undefined;
  private readonly waiting: Waiter[] = [];
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

  /** The sum of the running tasks' memory estimates, in MiB. */
  get inFlightMb(): number {
    return this.runningMb;
  }

  /** The budget, the baseline and the estimates in flight; null without a budget. */
  get memory(): QueueMemory | null {
    const budget = this.limits.memory?.budget() ?? null;
    return budget && { budget, baselineMb: this.baselineMb ?? null, inFlightMb: this.runningMb };
  }

  /** True when one more task would be refused. */
  get isFull(): boolean {
    // A task arriving while others wait queues behind them, whatever slot or memory is free.
    return this.waiting.length >= this.limits.maxWaiting() && (this.waiting.length > 0 || this.running >= this.limits.concurrency());
  }

  /** An AppError busy with a Retry-After estimated from the recent task time and the backlog. */
  busyError(): AppError {
    const backlog = this.waiting.length + this.running;
    const seconds = Math.max(1, Math.ceil((backlog * this.recentMs) / 1000 / Math.max(1, this.running)));
    return queueFull(backlog, seconds);
  }

  /**
   * Runs `task` when a slot is free and, under a memory budget, when its estimated working set
   * `costMb` fits beside the tasks in flight; tasks start in arrival order.
   * @throws AppError busy when the queue is full, too_many_pixels when `costMb` could never fit
   * in the budget, without running the task.
   */
  async run<T>(task: () => Promise<T>, costMb = 0): Promise<T> {
    if (this.isFull) throw this.busyError();
    const budget = this.limits.memory?.budget();
    const restMb = this.limits.memory?.restMb ?? 0;
    if (budget && restMb + costMb > budget.mb) throw overMemoryBudget(costMb, budget, restMb);
    if (this.waiting.length > 0 || !this.admits(costMb)) {
      // next() hands this task its slot (counted there) before resuming it.
      await new Promise<void>((resolve) => this.waiting.push({ costMb, start: resolve }));
    } else {
      this.take(costMb);
    }
    const started = performance.now();
    try {
      return await task();
    } finally {
      // A moving average is enough for a Retry-After hint.
      this.recentMs = 0.8 * this.recentMs + 0.2 * (performance.now() - started);
      this.running--;
      this.runningMb -= costMb;
      this.next();
    }
  }

  /** Resolves when nothing runs or waits. */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private admits(costMb: number): boolean {
    const memory = this.limits.memory;
    const budgetMb = memory?.budget()?.mb ?? null;
    // The baseline is the RSS with nothing in flight: read whenever the queue is empty of work.
    if (memory && budgetMb !== null && (this.running === 0 || this.baselineMb === undefined)) this.baselineMb = memory.rssMb();
    return admits({
      running: this.running,
      concurrency: this.limits.concurrency(),
      budget: budgetMb === null ? null : { budgetMb, baselineMb: this.baselineMb!, inFlightMb: this.runningMb },
      costMb,
    });
  }

  private take(costMb: number): void {
    this.running++;
    this.runningMb += costMb;
  }

  private next(): void {
    while (this.waiting.length > 0 && this.admits(this.waiting[0].costMb)) {
      // Count the slot as taken now, so that a task arriving before the waiter resumes queues behind it.
      const waiter = this.waiting.shift()!;
      this.take(waiter.costMb);
      waiter.start();
    }
    if (this.running === 0 && this.waiting.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
