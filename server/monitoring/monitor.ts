import { EventEmitter } from 'node:events';
import { libvipsReadings, type LibvipsReadings } from '../pipeline/sharp-tuning';
import type { ConsumerStatus, StatusPart, StoreObserver } from '../store-events';
import type { ImageWorkerStatus } from '../workers/image-worker';
import type { ProcessingQueue } from '../memory/processing-queue';
import { publicSettings, type Settings, type SettingsStore } from '../settings';
import type { ImageStore, StoredImage } from '../storage/image-store';
import type { Retention, RetentionStatus } from '../storage/retention';
import { History } from './history';
import { IngestStats, type ProcessingStats } from './ingest-stats';
import { Metrics } from './metrics';
import { readProcessStats, readSystemStats, releaseProcessStats, round, type ProcessStats, type SystemStats } from './process-stats';

/** Everything GET /memory_status answers and the live pages show, read at `sampled_at`. */
/**
 * What /memory_status shows: the daemon's own readings, and each feature's part under its key
 * (mqtt, similarity), which the composition root hands in (server/store-parts.ts types them).
 */
export interface MonitorStatus {
  /** The original receiver's flat keys, so that scripts written for it keep working. */
  memory_rss_mb: number;
  memory_vms_mb: number | null;
  cpu_percent: number;
  config: Settings;
  sampled_at: string;
  uptime_s: number;
  process: ProcessStats & { rss_mb: number; vms_mb: number | null };
  system: SystemStats;
  libvips: LibvipsReadings;
  processing: ProcessingStats;
  store: { images: number; bytes: number };
  /** What retention removed to keep the store within its limits, and the free disk. */
  retention: RetentionStatus;
  /** Each durable consumer's cursor, pending count, last success, last error and skipped count. */
  consumers: Record<string, ConsumerStatus>;
  /** The worker process that runs the pipeline. */
  image_worker?: ImageWorkerStatus;
  /** Each feature's part, by its key. */
  [part: string]: unknown;
}

/** The series kept for charts: time in Unix seconds, memory in MB, CPU in percent. */
export const HISTORY_SERIES = ['t', 'rss_mb', 'vms_mb', 'heap_used_mb', 'heap_total_mb', 'cpu_percent'] as const;
export type HistorySeries = (typeof HISTORY_SERIES)[number];
/** One sample of the chart series. */
export type HistoryPoint = Record<HistorySeries, number | null>;

/** One reading of the process and the system, and when it was taken (ms since the epoch). */
interface Readings {
  proc: ProcessStats;
  system: SystemStats;
  at: number;
}

export interface MonitorOptions {
  queue: ProcessingQueue;
  /** The durable consumers' states, read at every status. */
  consumers: () => Record<string, ConsumerStatus>;
  store: ImageStore;
  settings: SettingsStore;
  retention: Retention;
  /** The features' parts of the status, each read at every status. */
  parts?: readonly StatusPart[];
  /** The image worker's state, read at every status. */
  imageWorker?: () => ImageWorkerStatus;
  /** Time between samples; also the live pages' refresh. @default 1000 */
  intervalMs?: number;
  /** Samples kept for the charts. @default 300 (five minutes at one a second) */
  historyLength?: number;
}

/**
 * Samples the daemon's memory, CPU and counters on a timer, keeps a bounded history of them for
 * the charts, and emits each sample to whoever listens (the live pages). A sample reads two small
 * /proc files and pidusage's one, so the timer costs next to nothing when nobody watches. As an
 * observer of the store, it passes each committed image on to the live pages too.
 */
export class Monitor extends EventEmitter<{ sample: [MonitorStatus, HistoryPoint]; image: [StoredImage]; stop: [] }> implements StoreObserver {
  readonly name = 'live-stream';
  readonly ingestStats: IngestStats;
  readonly metrics: Metrics;
  readonly history: History<HistorySeries>;
  readonly intervalMs: number;
  private latest: Readings | undefined;
  private reading: Promise<Readings> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: MonitorOptions) {
    super();
    this.intervalMs = options.intervalMs ?? 1000;
    this.ingestStats = new IngestStats(options.queue);
    this.metrics = new Metrics(options.queue, options.store, options.consumers, options.imageWorker, options.parts);
    this.history = new History(HISTORY_SERIES, options.historyLength ?? 300);
  }

  /** Passes committed images on to the live pages. */
  committed(images: readonly StoredImage[]): void {
    if (!this.stopped) for (const image of images) this.emit('image', image);
  }

  /** Starts sampling; the timer does not keep the process alive. */
  start(): void {
    if (this.timer || this.stopped) return;
    void this.sample().catch(() => undefined);
    this.timer = setInterval(() => void this.sample().catch(() => undefined), this.intervalMs);
    this.timer.unref();
  }

  /** Stops sampling and tells listeners (the live streams) to finish. */
  stop(): void {
    if (this.stopped) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    this.ingestStats.detach();
    this.metrics.detach();
    releaseProcessStats();
    this.emit('stop');
  }

  /**
   * The status now: the counters, settings and libvips figures as they are, with the process and
   * system readings of the last sample, read again if they are older than `maxAgeMs`.
   */
  async status(maxAgeMs = this.intervalMs): Promise<MonitorStatus> {
    const last = this.latest;
    const readings = last && Date.now() - last.at <= maxAgeMs ? last : await this.read();
    // Retention's counters are always current, like the processing counters.
    return this.compose(readings, await this.options.retention.status());
  }

  /** Takes one sample now, adds it to the history and emits it. */
  async sample(): Promise<MonitorStatus> {
    const [readings, retention] = await Promise.all([this.read(), this.options.retention.status()]);
    const status = this.compose(readings, retention);
    // A sample that was under way when the monitor stopped is answered but not recorded.
    if (this.stopped) return status;
    const { proc, at } = readings;
    const point: HistoryPoint = {
      t: at / 1000,
      rss_mb: status.memory_rss_mb,
      vms_mb: status.memory_vms_mb,
      heap_used_mb: mb(proc.heap_used_bytes),
      heap_total_mb: mb(proc.heap_total_bytes),
      cpu_percent: proc.cpu_percent,
    };
    this.history.push(point);
    this.emit('sample', status, point);
    return status;
  }

  /** Reads the process and the system; concurrent calls share one reading. */
  private read(): Promise<Readings> {
    this.reading ??= readProcessStats()
      .then((proc) => {
        this.latest = { proc, system: readSystemStats(), at: Date.now() };
        return this.latest;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  private compose({ proc, system, at }: Readings, retention: RetentionStatus): MonitorStatus {
    return {
      memory_rss_mb: mb(proc.rss_bytes)!,
      memory_vms_mb: mb(proc.vms_bytes),
      cpu_percent: proc.cpu_percent,
      config: publicSettings(this.options.settings.get()),
      sampled_at: new Date(at).toISOString(),
      uptime_s: Math.round(process.uptime()),
      process: { ...proc, rss_mb: mb(proc.rss_bytes)!, vms_mb: mb(proc.vms_bytes) },
      system,
      libvips: libvipsReadings(),
      processing: this.ingestStats.read(),
      store: (({ count, bytes }) => ({ images: count, bytes }))(this.options.store.totals()),
      retention,
      consumers: this.options.consumers(),
      ...(this.options.imageWorker ? { image_worker: this.options.imageWorker() } : {}),
      ...Object.fromEntries((this.options.parts ?? []).map((part) => [part.key, part.status()])),
    };
  }
}

/** Bytes in MiB with one decimal, the unit of the original receiver's keys and of the charts. */
function mb(bytes: number | null): number | null {
  return bytes === null ? null : round(bytes / 1024 / 1024, 1);
}

