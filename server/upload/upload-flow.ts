import { join } from 'node:path';
import { AppError } from '../errors';
import type { StoreEventBus } from '../consumers/store-event-bus';
import type { ProcessedImage } from '../pipeline/process-image';
import { isEncodedBytes, type ImageInput } from '../pipeline/image-input';
import type { ProcessingQueue } from '../memory/processing-queue';
import { weighInput } from '../memory/working-set';
import type { ImageHeader } from '../pipeline/image-header';
import type { Settings } from '../settings';
import { asDiskError } from '../storage/disk-errors';
import type { DuplicateRecord } from '../store-events';
import type { ImageSignature, ImageStore, StoredImage } from '../storage/image-store';
import type { Retention } from '../storage/retention';
import { UNTIMED, UploadCost, type UploadClock } from '../monitoring/upload-cost';

/** Per-request image options kept in each record, such as a display's rotation_mode. */
export type ImageOptions = Record<string, unknown>;

/** One upload request, its files already on disk: what every way in (HTTP, MQTT) hands the flow. */
export interface UploadRequest {
  /** The uploaded files, inside `workDir`: encoded images, or raw frames with their description; or small encoded images in memory. */
  files: readonly ImageInput[];
  /** The request's private temp folder, from {@link ImageStore.createTempDir}; the caller gives it back. */
  workDir: string;
  source: string;
  capturedAt: string | null;
  receivedAt: string;
  /** Kept in each record as `options` when not empty. */
  options?: ImageOptions;
  /** The start of files the way in kept while writing them (see {@link ReceivedFiles.heads}). */
  heads?: ReadonlyMap<string, Buffer>;
  /** Times the phases of the request (monitoring/upload-cost.ts). @default untimed */
  clock?: UploadClock;
}

/** The source of an image nobody names. */
export const DEFAULT_SOURCE = 'default';

/** What a request names outright, before its body is read: its values win over nothing but the upload's own. */
export interface RequestNames {
  /** The camera (?source=, a topic level); also what the request is admitted and refused as. */
  source?: string;
  capturedAt?: string | null;
  options?: ImageOptions;
}

/** What a way in wrote into the request's temp folder, and what the upload itself names. */
export interface ReceivedFiles {
  /** The files, inside the temp folder: encoded images, or raw frames with their description; or small encoded images in memory. */
  inputs: readonly ImageInput[];
  /**
   * The first HEAD_BYTES of input files, by path, as the way in had them while writing them (a raw
   * body as it streamed), so that their headers are not read back from disk (image-header.ts).
   */
  heads?: ReadonlyMap<string, Buffer>;
  /** A form's own source, capture time and options, which win over the request's. */
  source?: string;
  capturedAt?: string | null;
  options?: ImageOptions;
  /** What a message (protobuf) says of itself, used when nothing else names it. */
  message?: {
    /** Its frame_id as a source; called only when neither the request nor the form names one. */
    source?: () => string;
    capturedAt?: string | null;
  };
}

/**
 * One way in (an HTTP request, an MQTT message), as it fills the flow: the flow owns the rest
 * (see {@link UploadFlow.ingest}).
 */
export interface Ingest {
  /** Reads and checks what the request names, before anything else; a refusal here is counted too. */
  names(): RequestNames;
  /** Writes the upload into `workDir`, the request's private temp folder, which the flow empties afterwards. */
  receive(workDir: string): Promise<ReceivedFiles>;
  /** Makes the admission check; a way in that may wait for room (MQTT) retries it here. @default calls it once */
  admit?(check: () => Promise<void>): Promise<void>;
  /** Told the source as soon as it is known, and again if the upload names another (a request's log line). */
  named?(source: string): void;
  /** Times the phases of the upload, from reading the body to the store's commit. @default untimed */
  clock?: UploadClock;
}

/** The near-duplicate decision (server/similarity/similarity.ts). */
export interface DuplicateCheck {
  /** The perceptual signature of a processed PNG. */
  signatureOf(png: string): Promise<ImageSignature>;
  /** The stored image an upload repeats: the newest of its source, within `maxDistance` hash bits. */
  duplicateOf(signature: ImageSignature, source: string, maxDistance: number): DuplicateRecord | undefined;
}

/** What became of an upload request. */
export interface UploadResult {
  images: StoredImage[];
  duplicates: DuplicateRecord[];
}

/** Runs the pipeline: processImage() itself, or the same in the image worker (image-processor.ts). */
export type ImagePipeline = (input: ImageInput, output: string, settings: Settings, header?: ImageHeader) => Promise<ProcessedImage>;

export interface UploadFlowParts {
  settings: () => Settings;
  pipeline: ImagePipeline;
  store: ImageStore;
  queue: ProcessingQueue;
  retention: Retention;
  storeEvents: StoreEventBus;
  /** Drops near-duplicates when duplicate_max_distance is set; none checked when absent. */
  duplicates?: DuplicateCheck;
}

/**
 * The upload use case, apart from any protocol: capacity checks, processing, storing, retention,
 * the all-or-nothing rollback, and telling observers and consumers once a request has committed.
 * HTTP routes and the MQTT subscriber only parse their input and present the result.
 */
export class UploadFlow {
  /** Refusals already counted, so that a caller may report every error it sees without counting one twice. */
  private readonly counted = new WeakSet<object>();
  /** What each phase of the timed uploads cost the daemon; a way in starts a clock per upload. */
  readonly cost = new UploadCost();

  constructor(private readonly parts: UploadFlowParts) {}

  /** The bounded queue every image goes through; its depth is shown on /memory_status. */
  get queue(): ProcessingQueue {
    return this.parts.queue;
  }

  /**
   * Takes one upload in, whatever way it came: the receive time, the admission (before a byte of
   * the body is read), the private temp folder and its removal, which source, capture time and
   * options win (the form's, then the request's, then the message's own), processing and
   * storing, and counting a refusal against the source it was made for.
   * @throws AppError as {@link admit} and {@link receive}, or as the way in refuses its input.
   */
  async ingest(way: Ingest): Promise<UploadResult> {
    const receivedAt = new Date().toISOString();
    let source = DEFAULT_SOURCE;
    let workDir: string | undefined;
    let accepted = false;
    let leftEmpty = false;
    try {
      const names = way.names();
      source = names.source ?? DEFAULT_SOURCE;
      way.named?.(source);
      const check = (): Promise<void> => this.admit(source);
      await (way.admit ? way.admit(check) : check());
      workDir = await this.parts.store.createTempDir();
      const received = await way.receive(workDir);
      way.clock?.lap('body');
      source = received.source ?? names.source ?? received.message?.source?.() ?? DEFAULT_SOURCE;
      way.named?.(source);
      const result = await this.receive({
        files: received.inputs,
        workDir,
        source,
        capturedAt: received.capturedAt ?? names.capturedAt ?? received.message?.capturedAt ?? null,
        receivedAt,
        options: { ...names.options, ...received.options },
        heads: received.heads,
        clock: way.clock,
      });
      accepted = true;
      // An upload held in memory and stored whole left nothing in its folder: its PNGs were moved into the store.
      leftEmpty = received.inputs.every(isEncodedBytes) && result.duplicates.length === 0;
      return result;
    } catch (err) {
      this.reject(err, source);
      throw err;
    } finally {
      // A refused upload's files are gone before its answer, so that a refusal leaves nothing
      // behind; an accepted one's (its body) go while its answer is written, off its latency,
      // and its folder serves a later upload.
      if (workDir && accepted) void this.parts.store.releaseTempDir(workDir, leftEmpty);
      else if (workDir) await this.parts.store.removeTempDir(workDir);
    }
  }

  /**
   * The checks made before a byte of the body is read: a full queue, a full disk.
   * @throws AppError busy or insufficient_storage, counted as a refusal of `source`.
   */
  private async admit(source: string): Promise<void> {
    try {
      if (this.parts.queue.isFull) throw this.parts.queue.busyError();
      await this.parts.retention.ensureSpace();
    } catch (err) {
      this.reject(err, source);
      throw err;
    }
  }

  /**
   * Processes and stores every file of a request. All or nothing: when one image is refused, the
   * images of the same request already stored are removed again, unseen by any consumer.
   * @throws AppError for input that cannot become an image, or when the queue or disk is full.
   */
  async receive(request: UploadRequest): Promise<UploadResult> {
    const stored: StoredImage[] = [];
    const duplicates: DuplicateRecord[] = [];
    try {
      for (const file of request.files) {
        // Each file is decided on its own, against the newest image of its source at that moment.
        const outcome = await this.processOne(file, request);
        if ('duplicate_of' in outcome) duplicates.push(outcome);
        else stored.push(outcome);
      }
      const ids = stored.map((image) => image.id);
      await this.parts.retention.afterStore(ids);
      this.parts.store.settle(ids);
      request.clock?.lap('commit');
    } catch (err) {
      for (const image of stored) await this.parts.store.delete(image.id);
      this.reject(err, request.source);
      throw err;
    }
    // Observers (counters, the live stream, the log, consumers' wake-ups) hear of the commit once
    // its answer is on its way: a way in answers in this turn of the event loop, they run in the
    // next one, before any later request is read.
    setImmediate(() => {
      this.parts.storeEvents.committed(stored);
      this.parts.storeEvents.duplicates(duplicates, request.source);
    });
    return { images: stored, duplicates };
  }

  /**
   * Records a refusal, also one that happened before the flow got the request (a bad parameter, a
   * body too large), so that every refusal is counted in one place; an error is counted once.
   */
  reject(err: unknown, source: string): void {
    if (typeof err === 'object' && err !== null) {
      if (this.counted.has(err)) return;
      this.counted.add(err);
    }
    const error = err instanceof AppError ? err : asDiskError(err);
    this.parts.storeEvents.rejected({ code: error?.code ?? 'internal_error', source });
  }

  /**
   * Runs one file through the pipeline into `output`, in the bounded queue, weighed first (its
   * header, which the pipeline then need not read again, or a raw frame's description) so that the
   * queue admits it against the memory budget beside the images in flight. Uploads and queries
   * (search, compare) share it, so together they keep memory within the budget. `then` runs in
   * the same slot, with the settings read when processing started (a change applies to the next
   * image) and the processing time in ms.
   * @throws AppError as the pipeline refuses the file, or busy when the queue is full.
   */
  async process<T>(
    file: ImageInput, output: string, then: (processed: ProcessedImage, settings: Settings, ms: number) => Promise<T> | T,
    clock: UploadClock = UNTIMED, head?: Buffer,
  ): Promise<T> {
    const { costMb, header } = await weighInput(file, this.parts.settings(), head);
    clock.lap('header');
    return this.parts.queue.run(async () => {
      clock.lap('queue');
      const settings = this.parts.settings();
      const started = performance.now();
      const processed = await this.parts.pipeline(file, output, settings, header ?? undefined);
      const ms = performance.now() - started;
      clock.lap('worker');
      return then(processed, settings, ms);
    }, costMb);
  }

  /**
   * Processes one file and stores it. The near-duplicate decision runs in the processing slot (it
   * hashes the PNG with libvips, weighed with the image); the store's commit runs after the slot is
   * freed, since it holds no pixels and is mostly waiting for fsyncs: the next image is processed
   * meanwhile, and a core never waits on the disk.
   */
  private async processOne(file: ImageInput, request: UploadRequest): Promise<StoredImage | DuplicateRecord> {
    const output = join(request.workDir, `${Date.now()}-${Math.random().toString(36).slice(2)}.png`);
    type Processed = { duplicate: DuplicateRecord } | { image: ProcessedImage; ms: number; signature?: ImageSignature };
    const processed = await this.process(file, output, async (image, settings, ms): Promise<Processed> => {
      // Hashed here only when the decision needs it; otherwise after the upload is answered (similarity.ts).
      const check = settings.duplicate_max_distance > 0 ? this.parts.duplicates : undefined;
      const signature = check && await check.signatureOf(output);
      const duplicate = signature && check.duplicateOf(signature, request.source, settings.duplicate_max_distance);
      if (duplicate) return { duplicate };
      return { image, ms, signature: signature || undefined };
    }, request.clock, typeof file === 'string' ? request.heads?.get(file) : undefined);
    if ('duplicate' in processed) return processed.duplicate;
    const { image: { exif, ...image }, ms, signature } = processed;
    const options = request.options && Object.keys(request.options).length > 0 ? { options: request.options } : {};
    const stored = await this.parts.store.add(output, {
      source: request.source,
      ...image,
      format: 'png',
      received_at: request.receivedAt,
      captured_at: request.capturedAt,
      processing_ms: Math.round(ms),
      ...(signature ? { signature } : {}),
      ...(exif.make || exif.model || exif.takenAt
        ? { exif: { make: exif.make, model: exif.model, taken_at: exif.takenAt } }
        : {}),
      ...options,
    });
    request.clock?.lap('commit');
    return stored;
  }
}
