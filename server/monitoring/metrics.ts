import { installedPackage } from '../installed-package';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { libvipsReadings, loadSharp } from '../pipeline/sharp-tuning';
import type { ConsumerStatus, Rejection, StatusPart, StoreObserver } from '../store-events';
import type { ImageWorkerStatus } from '../workers/image-worker';
import type { ProcessingQueue } from '../memory/processing-queue';
import type { ImageStore, StoredImage } from '../storage/image-store';

/** Every metric name starts with this, so the daemon's series are easy to find in Prometheus. */
export const METRIC_PREFIX = 'image_receiver_';

/** Past this many distinct sources, further ones are counted under "other", bounding the series. */
export const MAX_SOURCE_LABELS = 50;

/**
 * The daemon's metrics in the Prometheus text format: prom-client's default process metrics, plus
 * images received, stored and rejected by reason and source, processing time, queue depth, libvips,
 * bytes stored, the durable consumers, the image worker, the build and whether MQTT is connected.
 * Each app gets its own registry, so that several in one process (tests) never share counters.
 * `parts` are the features' status parts: the one keyed `mqtt` tells the connection's state.
 */
export class Metrics implements StoreObserver {
  readonly name = 'metrics';
  readonly registry = new Registry();
  private readonly sources = new Set<string>();
  private detached = false;
  private readonly count: { committed: (image: StoredImage) => void; rejected: (event: Rejection) => void };

  constructor(
    queue: ProcessingQueue, store: ImageStore, consumers: () => Record<string, ConsumerStatus>,
    imageWorker?: () => ImageWorkerStatus, parts: readonly StatusPart[] = [],
  ) {
    // Event-loop lag is sampled once a second, not every 10 ms: an idle Pi should stay asleep.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
    // prom-client's three gauges named *_total fail `promtool check metrics` (only counters end in
    // _total), and each is the sum of its by-type gauge (nodejs_active_handles{type} ...): sum() of
    // that gives the same, so they go.
    for (const kind of ['handles', 'requests', 'resources']) this.registry.removeSingleMetric(`nodejs_active_${kind}_total`);
    const registers = [this.registry];
    const received = new Counter({ name: `${METRIC_PREFIX}images_received_total`, help: 'Images that reached an outcome (stored or refused), by source', labelNames: ['source'], registers });
    const stored = new Counter({ name: `${METRIC_PREFIX}images_stored_total`, help: 'Images processed and stored, by source', labelNames: ['source'], registers });
    const rejected = new Counter({ name: `${METRIC_PREFIX}images_rejected_total`, help: 'Uploads refused, by error code and source', labelNames: ['reason', 'source'], registers });
    const bytes = new Counter({ name: `${METRIC_PREFIX}stored_bytes_total`, help: 'PNG bytes written, by source', labelNames: ['source'], registers });
    const seconds = new Histogram({
      name: `${METRIC_PREFIX}processing_seconds`, help: 'Time to decode, orient, resize, encode and commit one image',
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers,
    });
    new Gauge({
      name: `${METRIC_PREFIX}queue_images`, help: 'Images being processed (in_flight) or waiting for a slot (waiting)', labelNames: ['state'], registers,
      collect() {
        this.set({ state: 'in_flight' }, queue.inFlight);
        this.set({ state: 'waiting' }, queue.queued);
      },
    });
    new Gauge({ name: `${METRIC_PREFIX}store_images`, help: 'Images in the store', registers, collect() { this.set(store.totals().count); } });
    new Gauge({ name: `${METRIC_PREFIX}store_bytes`, help: 'PNG bytes in the store', registers, collect() { this.set(store.totals().bytes); } });
    if (imageWorker) {
      new Gauge({
        name: `${METRIC_PREFIX}image_worker_private_bytes`, help: 'Private memory (RssAnon) of the image worker, which processes uploads; 0 while it is not running', registers,
        collect() { this.set(bytesOfMb(imageWorker().private_mb ?? 0)); },
      });
      countedFrom(`${METRIC_PREFIX}image_worker_starts_total`, 'Times the image worker was started since the daemon started', [], registers, () => [[{}, imageWorker().starts]]);
    }
    new Gauge({ name: `${METRIC_PREFIX}libvips_cache_bytes`, help: 'Memory held by the daemon\'s libvips operation cache (hashes, thumbnails, frames; uploads are processed in the image worker)', registers, collect() { this.set(bytesOfMb(libvipsReadings().cache.memory.current)); } });
    new Gauge({
      name: `${METRIC_PREFIX}libvips_tasks`, help: 'The daemon\'s libvips tasks waiting for a thread (queue) and running (process); the image worker\'s are not counted', labelNames: ['state'], registers,
      collect() {
        const { counters } = libvipsReadings();
        this.set({ state: 'queue' }, counters.queue);
        this.set({ state: 'process' }, counters.process);
      },
    });

    new Gauge({
      name: `${METRIC_PREFIX}consumer_pending_images`, help: 'Committed images a durable consumer has still to handle', labelNames: ['consumer'], registers,
      collect() {
        for (const [consumer, status] of Object.entries(consumers())) this.set({ consumer }, status.pending);
      },
    });
    const consumerTotal = (name: string, help: string, key: 'delivered' | 'skipped' | 'failures'): void => {
      countedFrom(`${METRIC_PREFIX}consumer_${name}_total`, help, ['consumer'], registers, () => Object.entries(consumers()).map(([consumer, status]) => [{ consumer }, status[key]]));
    };
    consumerTotal('delivered_images', 'Images a durable consumer handled (persisted across restarts)', 'delivered');
    consumerTotal('skipped_images', 'Images a durable consumer never handled: passed over for a newer one, or removed first', 'skipped');
    consumerTotal('failures', 'Failed attempts of a durable consumer, each retried', 'failures');
    new Gauge({
      name: `${METRIC_PREFIX}consumer_last_success_timestamp_seconds`, help: 'When a durable consumer last handled an image', labelNames: ['consumer'], registers,
      collect() {
        for (const [consumer, status] of Object.entries(consumers())) {
          if (status.last_success_at) this.set({ consumer }, Date.parse(status.last_success_at) / 1000);
        }
      },
    });

    // Read at the first scrape, which loads sharp for its versions: the daemon loads it when first used (sharp-tuning.ts).
    new Gauge({
      name: `${METRIC_PREFIX}build_info`, help: 'Always 1; the labels say which daemon, Node.js, sharp and libvips versions run', labelNames: ['version', 'node', 'sharp', 'libvips'], registers,
      collect() {
        const { versions } = loadSharp();
        this.set({ version: installedPackage().version, node: process.versions.node, sharp: versions.sharp ?? 'unknown', libvips: versions.vips }, 1);
      },
    });
    // MQTT's state comes through its status part, so that monitoring never imports the MQTT feature.
    const mqtt = parts.find((part) => part.key === 'mqtt');
    new Gauge({
      name: `${METRIC_PREFIX}mqtt_connected`, help: '1 while connected to the MQTT broker; 0 while not, or when MQTT is off', registers,
      collect() { this.set((mqtt?.status() as { state?: unknown } | undefined)?.state === 'connected' ? 1 : 0); },
    });

    // The S3 forwarder's readings, through its status part too; absent or off reads as zeros.
    const s3 = parts.find((part) => part.key === 's3');
    const s3Status = (): Record<string, number | null> => (s3?.status() ?? {}) as Record<string, number | null>;
    const s3Reading = (key: string): number => Number(s3Status()[key] ?? 0);
    countedFrom(`${METRIC_PREFIX}s3_uploaded_objects_total`, 'Objects put in the S3 bucket since the daemon started (PNGs and records)', [], registers, () => [[{}, s3Reading('uploaded_objects')]]);
    countedFrom(`${METRIC_PREFIX}s3_uploaded_bytes_total`, 'Bytes put in the S3 bucket since the daemon started', [], registers, () => [[{}, s3Reading('uploaded_bytes')]]);
    countedFrom(`${METRIC_PREFIX}s3_failures_total`, 'Failed attempts to forward an image to S3, each retried (persisted across restarts)', [], registers, () => [[{}, s3Reading('failures')]]);
    new Gauge({ name: `${METRIC_PREFIX}s3_pending_images`, help: 'Stored images not forwarded to S3 yet', registers, collect() { this.set(s3Reading('pending_images')); } });
    new Gauge({ name: `${METRIC_PREFIX}s3_oldest_pending_age_seconds`, help: 'How long the oldest image not forwarded to S3 has waited; 0 when none waits', registers, collect() { this.set(s3Reading('oldest_pending_age_seconds')); } });
    new Gauge({ name: `${METRIC_PREFIX}local_only_images`, help: 'Stored images on this disk only: all of them while no forwarder is on', registers, collect() { this.set(s3Reading('local_only_images')); } });

    this.count = {
      committed: (image) => {
        const source = this.sourceLabel(image.source);
        received.inc({ source });
        stored.inc({ source });
        bytes.inc({ source }, image.bytes);
        seconds.observe(image.processing_ms / 1000);
      },
      rejected: (event) => {
        const source = this.sourceLabel(event.source);
        received.inc({ source });
        rejected.inc({ reason: event.code, source });
      },
    };
  }

  committed(images: readonly StoredImage[]): void {
    if (!this.detached) for (const image of images) this.count.committed(image);
  }

  rejected(rejection: Rejection): void {
    if (!this.detached) this.count.rejected(rejection);
  }

  /** The exposition text, for GET /metrics. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops counting. */
  detach(): void {
    this.detached = true;
  }

  private sourceLabel(source: string): string {
    if (this.sources.has(source)) return source;
    if (this.sources.size >= MAX_SOURCE_LABELS) return 'other';
    this.sources.add(source);
    return source;
  }
}

/** Whole bytes from MiB, as Prometheus expects a byte count (the readings are fractional MiB). */
function bytesOfMb(mb: number): number {
  return Math.round(mb * 1024 * 1024);
}

/**
 * A counter whose values are read, at each scrape, from totals another module keeps (the
 * consumers' state, the image worker's starts). prom-client's Counter has no set(), so collect()
 * resets it and increments each series by its total: the series then show exactly those totals,
 * and a series whose owner is gone disappears.
 */
function countedFrom(
  name: string, help: string, labelNames: readonly string[], registers: Registry[],
  totals: () => Array<[Record<string, string>, number]>,
): void {
  new Counter({
    name, help, labelNames, registers,
    collect() {
      this.reset();
      for (const [labels, total] of totals()) this.inc(labels, total);
    },
  });
}

