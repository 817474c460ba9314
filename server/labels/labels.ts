import { AppError, contentSearchOff, labelsOverMemoryBudget, noEmbedding, notEmbeddedYet, textSearchOff } from '../errors';
import type { ImageLabel } from '../image-labels';
import type { Logger } from '../log';
import type { Settings } from '../settings';
import type { ImageStore, StoredImage } from '../storage/image-store';
import type { ConsumerFactory, StatusPart, StoreObserver } from '../store-events';
import { decodeDetections, keptLabels } from './detections';
import type { EmbeddingIndex } from './embedding-index';
import { LABELS_WORKER_MB, type LabelWorker, type LabelWorkerStatus } from './label-worker';
import { clipRuntimeInstalled, labelsEnabled, MODELS_DIR, modelsInstalled } from './models-dir';
import { clipWorkerMb } from './clip-memory';

/** What the models' inputs and outputs hold beside the decoded PNG, in MiB: the float tensors (3.6 MB) and slack. */
const ANALYSE_JOB_MB = 8;

/** One answer of a content search: a stored image and the cosine of its embedding with the query's. */
export interface ContentMatch {
  image: StoredImage;
  similarity: number;
}

export interface LabelsOptions {
  store: ImageStore;
  settings: () => Settings;
  worker: LabelWorker;
  /** The content embeddings, on disk and in memory. */
  embeddings: EmbeddingIndex;
  /** The CLIP embeddings, on disk and in memory, made where clip_model_dir is set. */
  clipEmbeddings: EmbeddingIndex;
  /** True while the labels consumer has yet to reach image `id`. */
  isPending: (id: string) => boolean;
  /**
   * Runs a job once the memory admission lets it, weighed at `costMb` beside uploads (the
   * processing queue's run()).
   * @throws AppError busy or too_many_pixels, as the queue refuses.
   */
  admit: <T>(task: () => Promise<T>, costMb: number) => Promise<T>;
  /** Tells MQTT what an image shows; never throws (best effort, sent while connected). */
  publish: (image: StoredImage, labels: readonly ImageLabel[]) => void;
  log: Logger;
  /** The models folder; models/ beside package.json when not given. */
  modelsDir?: string;
}

/** The `labels` part of /memory_status. */
export interface LabelsStatus {
  enabled: boolean;
  models_installed: boolean;
  /** Images labelled since the daemon started, and the last one's time in the worker, in ms. */
  labelled: number;
  last_ms: number | null;
  /** Images with a content embedding. */
  embeddings: number;
  /** Whether a CLIP export is set (clip_model_dir) and usable, and the images with a CLIP embedding. */
  clip: { enabled: boolean; embeddings: number; last_ms: number | null; last_text_ms: number | null; last_error: string | null };
  worker: LabelWorkerStatus;
}

/**
 * Object labels and content embeddings for every stored image: the durable consumer's work (the
 * models in their worker, weighed by the memory admission as an upload is). Labels are kept in
 * the image's record, so the listing filters on them and they go with the image; embeddings in
 * the content index (data/embeddings/), removed by this observer with their image.
 */
export class Labels implements StatusPart, StoreObserver {
  readonly key = 'labels';
  readonly name = 'labels';
  readonly modelsDir: string;
  private labelled = 0;
  private lastMs: number | null = null;
  private lastTextMs: number | null = null;
  private lastClipMs: number | null = null;
  private lastClipError: string | null = null;
  /** The worker start (its count) in which CLIP's models were last loaded. */
  private clipLoadedIn: number | undefined;

  constructor(private readonly options: LabelsOptions) {
    this.modelsDir = options.modelsDir ?? MODELS_DIR;
  }

  /** Whether `settings` call for labels here (models-dir.ts, labelsEnabled). */
  enabled(settings: Settings): boolean {
    return labelsEnabled(settings, this.modelsDir);
  }

  /**
   * Labels one stored image and embeds it: the detections at or above label_min_score that
   * label_keep keeps, best first, into its record; its embedding into the content index. An
   * image removed meanwhile is passed over.
   * @throws Error when the models are not installed or the worker fails; AppError busy when the
   * processing queue is full (the consumer tries again after a back-off).
   */
  async label(image: StoredImage): Promise<ImageLabel[] | undefined> {
    const { store, embeddings, clipEmbeddings } = this.options;
    const settings = this.options.settings();
    const clipDir = this.clipDir(settings);
    const started = performance.now();
    const { rows, embedding, clip, clipMs, clipError } = await this.analyse(store.pngPath(image.id), image.width * image.height, true, clipDir);
    this.lastMs = Math.round(performance.now() - started);
    this.lastClipMs = clipMs ?? this.lastClipMs;
    if (clip) this.clipLoadedIn = this.options.worker.status().starts;
    // Said once per new reason, not once per image; the labels go on without the CLIP embedding.
    if (clipError && clipError !== this.lastClipError) this.options.log.warn(`labels: no CLIP embedding from ${clipDir}: ${clipError}`);
    this.lastClipError = clipError ?? null;
    const labels = keptLabels(decodeDetections(rows!, image.width, image.height, settings.label_min_score), settings.label_min_score, settings.label_keep);
    // The embeddings before the labels: whoever sees the labels in the record can search by
    // content at once, rather than be told the image is not labelled yet.
    await embeddings.add(image.id, embedding!);
    if (clip) await clipEmbeddings.add(image.id, clip);
    const updated = await store.update(image.id, { labels });
    // Removed meanwhile: its observer may have run before the embeddings were written.
    if (!updated || !store.get(image.id)) {
      await this.removed([image]);
      return undefined;
    }
    this.labelled++;
    this.options.publish(updated, labels);
    return labels;
  }

  /**
   * The stored images whose content is nearest to stored image `id`'s, nearest first.
   * @throws AppError not_found when labels are off or the image has no embedding, busy when the
   * labels consumer has not reached it yet.
   */
  async similarTo(image: StoredImage, limit: number): Promise<ContentMatch[]> {
    this.assertContentSearch();
    await this.options.embeddings.loaded();
    const embedding = this.options.embeddings.get(image.id);
    if (!embedding) throw this.options.isPending(image.id) ? notEmbeddedYet() : noEmbedding(image.id);
    return this.search(embedding, limit, (id) => id !== image.id);
  }

  /**
   * The stored images whose content is nearest to a PNG's (a query, never stored), of one
   * source if given. The PNG is embedded in the labels worker, weighed as an image is.
   * @throws AppError not_found when labels are off; busy when the processing queue is full.
   */
  async searchByFile(png: string, pixels: number, limit: number, source?: string): Promise<ContentMatch[]> {
    this.assertContentSearch();
    const { embedding } = await this.analyse(png, pixels, false);
    await this.options.embeddings.loaded();
    const store = this.options.store;
    return this.search(embedding!, limit, source === undefined ? undefined : (id) => store.get(id)?.source === source);
  }

  /**
   * The stored images whose CLIP embedding is nearest to a text's, of one source if given. The
   * text is embedded in the labels worker, weighed as an image is when this starts it.
   * @throws AppError not_found when no CLIP export is set or labels are off; busy when the
   * processing queue is full.
   */
  async searchByText(text: string, limit: number, source?: string): Promise<ContentMatch[]> {
    const clipDir = this.assertTextSearch();
    const worker = this.options.worker;
    const started = performance.now();
    const { embedding } = await this.admitted(this.workerCostMb(clipDir), () => worker.embedText(text, this.modelsDir, clipDir));
    this.clipLoadedIn = worker.status().starts;
    this.lastTextMs = Math.round(performance.now() - started);
    await this.options.clipEmbeddings.loaded();
    const store = this.options.store;
    return this.search(embedding, limit, source === undefined ? undefined : (id) => store.get(id)?.source === source, this.options.clipEmbeddings);
  }

  /**
   * Refuses a text search while no CLIP export is set, or labels are off; else the export's folder.
   * @throws AppError not_found saying how to enable it.
   */
  assertTextSearch(): string {
    const clipDir = this.clipDir(this.options.settings());
    if (!clipDir || !modelsInstalled(this.modelsDir)) throw textSearchOff();
    return clipDir;
  }

  /** True when search by text is on: a CLIP export set, labels on, the runtime installed. */
  textSearchEnabled(): boolean {
    return this.clipDir(this.options.settings()) !== undefined;
  }

  /** The CLIP export's folder when clip_model_dir is set, labels are on and the runtime installed. */
  private clipDir(settings: Settings): string | undefined {
    return settings.clip_model_dir && this.enabled(settings) && clipRuntimeInstalled(this.modelsDir) ? settings.clip_model_dir : undefined;
  }

  /** Removes the embeddings of removed images; awaited before the removal is answered. */
  async removed(images: readonly StoredImage[]): Promise<void> {
    for (const image of images) {
      await this.options.embeddings.delete(image.id);
      await this.options.clipEmbeddings.delete(image.id);
    }
  }

  private search(embedding: Float32Array, limit: number, accept?: (id: string) => boolean, index = this.options.embeddings): ContentMatch[] {
    const store = this.options.store;
    return index.search(embedding, limit, accept)
      .map((hit) => ({ image: store.get(hit.id), similarity: Math.round(Math.max(0, Math.min(1, hit.similarity)) * 10_000) / 10_000 }))
      .filter((match): match is ContentMatch => match.image !== undefined);
  }

  /**
   * Refuses a content search while labels are off.
   * @throws AppError not_found saying how to turn them on.
   */
  assertContentSearch(): void {
    if (!this.enabled(this.options.settings()) || !modelsInstalled(this.modelsDir)) throw contentSearchOff();
  }

  /**
   * The models' work on one PNG of `pixels` pixels, once the memory admission lets it: the PNG
   * decoded in the worker, the models' tensors, and the worker's own memory when this starts it.
   */
  private analyse(png: string, pixels: number, detect: boolean, clipDir?: string) {
    if (!modelsInstalled(this.modelsDir)) {
      throw new Error(`the label models are not installed in ${this.modelsDir}: run \`npm run models:install\` (docs/labels.md)`);
    }
    const worker = this.options.worker;
    // CLIP decodes the PNG once more, as RGB bytes, beside libvips' copy.
    const costMb = (pixels * (clipDir ? 7 : 4)) / (1024 * 1024) + ANALYSE_JOB_MB + this.workerCostMb(clipDir);
    return this.admitted(costMb, () => worker.analyse(png, this.modelsDir, { detect, embed: true, clipDir }));
  }

  /**
   * What starting the worker costs, in MiB, when it is not running: its own memory; and the CLIP
   * export's runtime and models when `clipDir` is set and this worker has not loaded them yet
   * (clip-memory.ts). Once loaded, their memory is in the worker's, which the admission reads.
   */
  private workerCostMb(clipDir: string | undefined): number {
    const worker = this.options.worker;
    const start = worker.running ? 0 : LABELS_WORKER_MB;
    // A worker started for labels alone loads CLIP's models with this job: weighed here too.
    const clipLoaded = worker.running && this.clipLoadedIn === worker.status().starts;
    return start + (clipDir && !clipLoaded ? clipWorkerMb(clipDir) : 0);
  }

  /** Runs `task` once the memory admission lets it, weighed at `costMb`. */
  private admitted<T>(costMb: number, task: () => Promise<T>): Promise<T> {
    return this.options.admit(task, costMb).catch((err: unknown) => {
      // The budget of a 512 MB Pi's unit (256 MB) has no room for the models beside the daemon.
      if (err instanceof AppError && err.code === 'too_many_pixels') {
        throw labelsOverMemoryBudget(costMb);
      }
      throw err;
    });
  }

  /** The worker's private memory in MiB (0 while none runs), for the memory admission's baseline. */
  privateMb(): number {
    return this.options.worker.privateMb();
  }

  status(): LabelsStatus {
    return {
      enabled: this.enabled(this.options.settings()), models_installed: modelsInstalled(this.modelsDir),
      labelled: this.labelled, last_ms: this.lastMs, embeddings: this.options.embeddings.size,
      clip: { enabled: this.textSearchEnabled(), embeddings: this.options.clipEmbeddings.size, last_ms: this.lastClipMs, last_text_ms: this.lastTextMs, last_error: this.lastClipError },
      worker: this.options.worker.status(),
    };
  }

  /** Ends the worker now (daemon stop). */
  close(): Promise<void> {
    return this.options.worker.close();
  }
}

/**
 * The durable consumer that labels every stored image, in commit order, while labels are enabled;
 * a change of label_min_score or label_keep restarts it (images already labelled keep theirs).
 */
export const labelsConsumer = (labels: Labels): ConsumerFactory => (settings) => {
  if (!labels.enabled(settings)) return [];
  return [{
    name: 'labels',
    delivery: 'each',
    // A change of the CLIP export restarts it too; images already embedded keep their vectors.
    config: { min: settings.label_min_score, keep: settings.label_keep, clip: settings.clip_model_dir },
    handle: async (image) => {
      await labels.label(image);
    },
  }];
};
