import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write';
import type { Logger } from '../log';
import type { ImageStore, StoredImage } from '../storage/image-store';
import type { ConsumerState, ConsumerStatus, DurableConsumer } from '../store-events';

/** Back-off after a failure: doubles from the first to the last. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;

/** Images looked at per step; `latest` delivery reads further to find the newest. */
const BATCH = 64;

/**
 * Drives one durable consumer: a single loop that hands it the settled images after its cursor,
 * in commit order, persisting the cursor atomically after each. It runs beside uploads and is
 * only ever woken by them, so a slow or failing consumer never holds an upload up.
 */
export class ConsumerRunner {
  private state: ConsumerState;
  private busy = false;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private persisting: Promise<void> = Promise.resolve();

  private constructor(
    readonly consumer: DurableConsumer,
    private readonly store: ImageStore,
    private readonly file: string,
    private readonly log: Logger,
    state: ConsumerState,
    private readonly delivered?: (consumer: DurableConsumer) => void,
  ) {
    this.state = state;
  }

  /**
   * Loads the consumer's persisted state; a consumer seen for the first time starts at the newest
   * image, and that start is persisted at once, so a crash cannot move it.
   */
  static async open(
    consumer: DurableConsumer, store: ImageStore, stateDir: string, log: Logger, delivered?: (consumer: DurableConsumer) => void,
  ): Promise<ConsumerRunner> {
    const file = join(stateDir, `${consumer.name}.json`);
    const state = await readState(file);
    const runner = new ConsumerRunner(consumer, store, file, log, state ?? freshState(store.newestId()), delivered);
    if (!state) await runner.persist();
    return runner;
  }

  get name(): string {
    return this.consumer.name;
  }

  /** Starts the loop; it sleeps until woken whenever nothing is pending. */
  start(): void {
    this.loop ??= this.run().catch((err) => this.log.error(`consumer ${this.name} stopped: ${(err as Error).message}`));
  }

  /** Something new may be pending: stop sleeping (also cuts a back-off short). */
  wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  /** Counts images removed before this consumer handled them. */
  removed(images: readonly StoredImage[]): void {
    const cursor = this.state.cursor;
    const missed = images.filter((image) => cursor === null || image.id > cursor).length;
    if (missed === 0) return;
    this.state.skipped += missed;
    void this.persist().catch(() => undefined);
  }

  /** True when this consumer has not handled `id` yet: retention keeps it unless forced. */
  isPending(id: string): boolean {
    return this.state.cursor === null || id > this.state.cursor;
  }

  status(): ConsumerStatus {
    return { ...this.state, delivery: this.consumer.delivery, pending: this.store.countAfter(this.state.cursor), busy: this.busy };
  }

  /**
   * Stops the loop, waiting up to `graceMs` for the image at work to finish, then aborts it; its
   * cursor stays before that image, so it is handled again after the restart.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.wake();
    if (!this.loop) return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); });
    await Promise.race([this.loop, expired]);
    clearTimeout(timer);
    this.abort.abort();
  }

  private async run(): Promise<void> {
    let retryMs = RETRY_FIRST_MS;
    while (!this.stopped) {
      const next = this.next();
      if (!next) {
        await this.sleep();
        continue;
      }
      this.busy = true;
      try {
        await this.consumer.handle(next.image, this.abort.signal);
        this.state.cursor = next.image.id;
        this.state.skipped += next.passedOver;
        this.state.delivered++;
        this.state.last_success_at = new Date().toISOString();
        retryMs = RETRY_FIRST_MS;
        await this.persist();
        this.delivered?.(this.consumer);
      } catch (err) {
        if (this.abort.signal.aborted) break;
        this.state.failures++;
        this.state.last_error = (err as Error).message ?? String(err);
        this.state.last_error_at = new Date().toISOString();
        // Between half and all of the back-off, so that a fleet of Pis that lost the same server
        // does not come back to it all at once.
        const delayMs = Math.round(retryMs * (0.5 + Math.random() / 2));
        this.log.warn(`consumer ${this.name} failed on ${next.image.id}: ${this.state.last_error}; retrying in ${(delayMs / 1000).toFixed(1)} s`);
        await this.persist().catch(() => undefined);
        await this.sleep(delayMs);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      } finally {
        this.busy = false;
      }
    }
  }

  /** The image to hand over next, and how many older ones `latest` delivery passes over for it. */
  private next(): { image: StoredImage; passedOver: number } | undefined {
    let waiting = this.store.after(this.state.cursor, BATCH);
    if (waiting.length === 0) return undefined;
    if (this.consumer.delivery === 'each') return { image: waiting[0], passedOver: 0 };
    let passedOver = 0;
    while (waiting.length === BATCH) {
      const more = this.store.after(waiting[BATCH - 1].id, BATCH);
      if (more.length === 0) break;
      passedOver += waiting.length;
      waiting = more;
    }
    return { image: waiting[waiting.length - 1], passedOver: passedOver + waiting.length - 1 };
  }

  private sleep(ms?: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      // A back-off never keeps the process alive on its own.
      const timer = ms === undefined ? undefined : setTimeout(() => this.wake(), ms).unref();
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Writes the state as it is when the write starts; writes run one after another, newest last. */
  private persist(): Promise<void> {
    const write = this.persisting.then(() => writeFileAtomic(this.file, `${JSON.stringify(this.state)}\n`));
    this.persisting = write.catch(() => undefined);
    return write;
  }
}

function freshState(cursor: string | null): ConsumerState {
  return { cursor, delivered: 0, skipped: 0, failures: 0, last_success_at: null, last_error: null, last_error_at: null };
}

async function readState(file: string): Promise<ConsumerState | undefined> {
  try {
    return { ...freshState(null), ...(JSON.parse(await readFile(file, 'utf8')) as Partial<ConsumerState>) };
  } catch {
    return undefined;
  }
}
