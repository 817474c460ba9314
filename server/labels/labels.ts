import { AppError, contentSearchOff, labelsOverMemoryBudget, noEmbedding, notEmbeddedYet } from '../errors';
import type { ImageLabel } from '../image-labels';
import type { Logger } from '../log';
import type { Settings } from '../settings';
import type { ImageStore, StoredImage } from '../storage/image-store';
import type { ConsumerFactory, StatusPart, StoreObserver } from '../store-events';
import { decodeDetections, keptLabels } from './detections';
import type { EmbeddingIndex } from './embedding-index';
import { LABELS_WORKER_MB, type LabelWorker, type LabelWorkerStatus } from './label-worker';
import { labelsEnabled, MODELS_DIR, modelsInstalled } from './models-dir';

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
    const { store, embeddings } = this.options;
    const started = performance.now();
    const { rows, embedding } = await this.analyse(store.pngPath(image.id), image.width * image.height, true);
    this.lastMs = Math.round(performance.now() - started);
    const settings = this.options.settings();
    const labels = keptLabels(decodeDetections(rows!, image.width, image.height, settings.label_min_score), settings.label_min_score, settings.label_keep);
    const updated = await store.update(image.id, { labels });
    if (!updated) return undefined;
    await embeddings.add(image.id, embedding!);
    // Removed while its embedding was written: the observer has already run, so remove it here.
    if (!store.get(image.id)) await embeddings.delete(image.id);
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

  /** Removes the embeddings of removed images; awaited before the removal is answered. */
  async removed(images: readonly StoredImage[]): Promise<void> {
    for (const image of images) await this.options.embeddings.delete(image.id);
  }

  private search(embedding: Float32Array, limit: number, accept?: (id: string) => boolean): ContentMatch[] {
    const store = this.options.store;
    return this.options.embeddings.search(embedding, limit, accept)
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
  private analyse(png: string, pixels: number, detect: boolean) {
    if (!modelsInstalled(this.modelsDir)) {
      throw new Error(`the label models are not installed in ${this.modelsDir}: run \`npm run models:install\` (docs/labels.md)`);
    }
    const worker = this.options.worker;
    const costMb = (pixels * 4) / (1024 * 1024) + ANALYSE_JOB_MB + (worker.running ? 0 : LABELS_WORKER_MB);
    return this.options.admit(() => worker.analyse(png, this.modelsDir, { detect, embed: true }), costMb).catch((err: unknown) => {
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
      labelled: this.labelled, last_ms: this.lastMs, embeddings: this.options.embeddings.size, worker: this.options.worker.status(),
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
    config: { min: settings.label_min_score, keep: settings.label_keep },
    handle: async (image) => {
      await labels.label(image);
    },
  }];
};
