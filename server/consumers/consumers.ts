import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Settings } from '../settings';
import type { StoredImage } from '../storage/image-store';
import { ConsumerRunner } from './consumer-runner';
import type { Logger } from '../log';
import type { ImageStore } from '../storage/image-store';
import type { ConsumerFactory, ConsumerStatus, DurableConsumer } from '../store-events';
import type { StoreObserver } from '../store-events';

/** What the runners need: the store they follow, where their cursors live, the log. */
export interface ConsumersDeps {
  store: ImageStore;
  dataDir: string;
  log: Logger;
  /** Told after a consumer handled an image and persisted its cursor (retention follows forwarders). */
  delivered?: (consumer: DurableConsumer) => void;
}

/**
 * The durable consumers the settings call for, each driven by its own runner. It is itself an
 * observer: a commit wakes every runner, a removal is counted by those that had not got to it.
 */
export class Consumers implements StoreObserver {
  readonly name = 'consumers';
  private runners = new Map<string, ConsumerRunner>();
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly factories: readonly ConsumerFactory[],
    private readonly deps: ConsumersDeps,
  ) {}

  /** Where each consumer's state file lives. */
  get stateDir(): string {
    return join(this.deps.dataDir, 'consumers');
  }

  /**
   * Builds the consumers the settings call for: new names start, names no longer called for stop
   * (their state file stays, so that turning one back on resumes it). Runs one call at a time.
   */
  sync(settings: Settings): Promise<void> {
    const run = this.syncing.then(() => this.apply(settings));
    this.syncing = run.catch((err) => this.deps.log.error(`consumers: ${(err as Error).message}`));
    return run;
  }

  private async apply(settings: Settings): Promise<void> {
    if (this.stopped) return;
    await mkdir(this.stateDir, { recursive: true });
    const wanted = this.factories.flatMap((factory) => factory(settings));
    const next = new Map<string, ConsumerRunner>();
    for (const consumer of wanted) {
      const current = this.runners.get(consumer.name);
      // A consumer rebuilt with the same name keeps its runner unless what it was built from changed.
      if (current && JSON.stringify(current.consumer.config ?? null) === JSON.stringify(consumer.config ?? null)) {
        next.set(consumer.name, current);
        continue;
      }
      if (current) await current.stop(5000);
      const runner = await ConsumerRunner.open(consumer, this.deps.store, this.stateDir, this.deps.log, this.deps.delivered);
      next.set(consumer.name, runner);
      runner.start();
    }
    for (const [name, runner] of this.runners) if (!next.has(name)) await runner.stop(5000);
    this.runners = next;
  }

  committed(): void {
    for (const runner of this.runners.values()) runner.wake();
  }

  removed(images: readonly StoredImage[]): void {
    for (const runner of this.runners.values()) runner.removed(images);
  }

  /** True when some consumer has yet to handle `id`: retention keeps it unless a storage limit forces it. */
  isPending(id: string): boolean {
    for (const runner of this.runners.values()) if (runner.isPending(id)) return true;
    return false;
  }

  /**
   * True when `id` is in every forwarding consumer's hands (and there is at least one): with
   * local_retention until_forwarded, its local copy may go.
   */
  isForwarded(id: string): boolean {
    const forwarders = [...this.runners.values()].filter((runner) => runner.consumer.forwards);
    return forwarders.length > 0 && forwarders.every((runner) => !runner.isPending(id));
  }

  /** Every consumer's state, by name, for /memory_status, /metrics and the memory page. */
  status(): Record<string, ConsumerStatus> {
    return Object.fromEntries([...this.runners].map(([name, runner]) => [name, runner.status()]));
  }

  /** One consumer's runner, for routes that show or drive it (a display's state). */
  runner(name: string): ConsumerRunner | undefined {
    return this.runners.get(name);
  }

  /** Stops every runner, waiting up to `graceMs` in all for work under way. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    await this.syncing;
    await Promise.all([...this.runners.values()].map((runner) => runner.stop(graceMs)));
  }
}
