import type { ImageLabel } from '../image-labels';
import type { Logger } from '../log';
import type { Settings } from '../settings';
import type { ImageStore, StoredImage } from '../storage/image-store';
import type { ConsumerFactory, StatusPart } from '../store-events';
import { decodeDetections, keptLabels } from './detections';
import { LABELS_WORKER_MB, type LabelWorker, type LabelWorkerStatus } from './label-worker';
import { labelsEnabled, MODELS_DIR, modelsInstalled } from './models-dir';

/** What the detector's input and output hold beside the decoded PNG, in MiB: the float tensor (3 MB) and slack. */
const DETECT_JOB_MB = 8;


export interface LabelsOptions {
  store: ImageStore;
  settings: () => Settings;
  worker: LabelWorker;
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
  worker: LabelWorkerStatus;
}

/**
 * Object labels for every stored image: the durable consumer's work (the detector in its worker,
 * weighed by the memory admission as an upload is), kept in the image's record so that the
 * listing filters on them and they go with the image.
 */
export class Labels implements StatusPart {
  readonly key = 'labels';
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
   * Labels one stored image and writes them into its record: the detections at or above
   * label_min_score that label_keep keeps, best first. An image removed meanwhile is passed over.
   * @throws Error when the models are not installed or the worker fails; AppError busy when the
   * processing queue is full (the consumer tries again after a back-off).
   */
  async label(image: StoredImage): Promise<ImageLabel[] | undefined> {
    if (!modelsInstalled(this.modelsDir)) {
      throw new Error(`the label models are not installed in ${this.modelsDir}: run \`npm run models:install\` (docs/labels.md)`);
    }
    const { worker, store } = this.options;
    // The PNG decoded in the worker, its input tensor, and the worker's own memory when this image starts it.
    const costMb = (image.width * image.height * 4) / (1024 * 1024) + DETECT_JOB_MB + (worker.running ? 0 : LABELS_WORKER_MB);
    const started = performance.now();
    const rows = await this.options.admit(() => worker.detect(store.pngPath(image.id), this.modelsDir), costMb);
    this.lastMs = Math.round(performance.now() - started);
    const settings = this.options.settings();
    const labels = keptLabels(decodeDetections(rows, image.width, image.height, settings.label_min_score), settings.label_min_score, settings.label_keep);
    const updated = await store.update(image.id, { labels });
    if (!updated) return undefined;
    this.labelled++;
    this.options.publish(updated, labels);
    return labels;
  }

  /** The worker's private memory in MiB (0 while none runs), for the memory admission's baseline. */
  privateMb(): number {
    return this.options.worker.privateMb();
  }

  status(): LabelsStatus {
    return {
      enabled: this.enabled(this.options.settings()), models_installed: modelsInstalled(this.modelsDir),
      labelled: this.labelled, last_ms: this.lastMs, worker: this.options.worker.status(),
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
