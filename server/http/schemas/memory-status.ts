import { z } from 'zod';
import { SimilarityStatusSchema } from './similarity';
import { integer } from './images';

const number = z.number();
const dateTime = z.string().meta({ format: 'date-time' });
const currentMax = z.strictObject({ current: integer, max: integer });

/** A worker process started on demand and ended after `idleSetting` seconds without a job. */
function workerSchema(idleSetting: string) {
  return z.strictObject({
    running: z.boolean(), pid: integer.nullable(),
    private_mb: number.nullable().describe('Its private memory (RssAnon) while it runs'),
    starts: integer, idle_seconds: integer.describe(`${idleSetting}: it is ended after this long without a job`),
  });
}

/** What retention removed to keep the store within its limits, and the free disk. */
export const RetentionStatusSchema = z.strictObject({
  removed_images: integer,
  removed_bytes: integer,
  last_run_at: dateTime.nullable(),
  last_run_removed: integer,
  last_reason: z.enum(['max_stored_images', 'max_storage_mb', 'min_free_disk_mb', 'forwarded']).nullable()
    .describe('forwarded: local_retention until_forwarded removed images every forwarder has'),
  refused_uploads: integer.describe('Uploads refused with 507 because the disk stayed below min_free_disk_mb'),
  free_disk_bytes: integer.nullable().describe('Free bytes on the data dir\'s filesystem; null when it cannot be measured'),
  stored_images: integer,
  stored_bytes: integer,
  limits: z.strictObject({ max_stored_images: integer, max_storage_mb: integer, min_free_disk_mb: integer }),
});

/** One durable consumer's progress over the store: its persisted state and what is live. */
export const ConsumerStatusSchema = z.strictObject({
  delivery: z.enum(['each', 'latest']),
  cursor: z.string().nullable().describe('The id of the last image handled (or skipped); null before the first'),
  pending: integer.describe('Committed images after the cursor'),
  busy: z.boolean(),
  delivered: integer,
  skipped: integer.describe('Images never handled: passed over by latest delivery, or removed before their turn'),
  failures: integer,
  last_success_at: dateTime.nullable(),
  last_error: z.string().nullable(),
  last_error_at: dateTime.nullable(),
});

/** The MQTT link: off, or its connection and what came in from the broker. */
const MqttStatusSchema = z.union([
  z.strictObject({ enabled: z.literal(false) }),
  z.strictObject({
    enabled: z.literal(true),
    state: z.enum(['connecting', 'connected', 'disconnected', 'stopped']),
    url: z.string().describe('The broker, without credentials'),
    client_id: z.string(),
    topic_prefix: z.string(),
    connected_since: dateTime.nullable(),
    last_error: z.string().nullable(),
    last_error_at: dateTime.nullable(),
    attempts: integer.describe('Connection attempts since the last success'),
    retry_in_ms: integer,
    subscribe: z.array(z.string()),
    subscribed: z.boolean().describe('The broker has acknowledged this connection\'s subscriptions'),
    discovery: z.boolean(),
    ingest: z.strictObject({
      received: integer, stored: integer,
      ignored: z.record(z.string(), integer).describe('Refused or ignored messages by reason'),
      last_stored_at: dateTime.nullable(),
    }),
  }),
]);

const S3StatusSchema = z.union([
  z.strictObject({ enabled: z.literal(false), local_only_images: integer.describe('Every stored image, while nothing forwards them') }),
  z.strictObject({
    enabled: z.literal(true),
    target: z.string().describe('The endpoint and bucket, without credentials'),
    uploaded_objects: integer.describe('Objects put since the daemon started (PNGs and records)'),
    uploaded_bytes: integer,
    already_stored: integer.describe('Images found in the bucket with the same size and MD5, not sent again'),
    deleted_objects: integer.describe('Objects deleted with their image (s3_delete_with_local)'),
    last_upload_at: dateTime.nullable(),
    failures: integer.describe('Failed attempts, each retried with back-off'),
    last_error: z.string().nullable(),
    last_error_at: dateTime.nullable(),
    pending_images: integer.describe('Stored images not forwarded yet'),
    oldest_pending_age_seconds: integer.nullable().describe('How long the oldest of them has waited; null when none waits'),
    local_only_images: integer.describe('Images on this disk only'),
  }),
]);

/** What GET /memory_status answers; every size in bytes unless its key says MB. */
export function memoryStatusSchema(settings: z.ZodType) {
  return z.strictObject({
    memory_rss_mb: number.describe('The original receiver\'s key: RSS in MiB'),
    memory_vms_mb: number.nullable().describe('The original receiver\'s key: VMS in MiB'),
    cpu_percent: number.describe('The original receiver\'s key: CPU since the previous sample, percent of one core'),
    config: settings,
    sampled_at: dateTime,
    uptime_s: integer,
    process: z.strictObject({
      rss_bytes: integer, vms_bytes: integer.nullable(), rss_mb: number, vms_mb: number.nullable(),
      heap_used_bytes: integer, heap_total_bytes: integer, external_bytes: integer, array_buffers_bytes: integer, cpu_percent: number,
    }),
    system: z.strictObject({ total_memory_bytes: integer, available_memory_bytes: integer, load_average: z.tuple([number, number, number]) }),
    libvips: z.strictObject({
      cache: z.strictObject({ memory: z.strictObject({ current: number, high: number, max: number }), files: currentMax, items: currentMax })
        .describe('sharp.cache(): memory (MiB), files and items, each current/high/max'),
      counters: z.strictObject({ queue: integer, process: integer }),
    }).describe("The daemon's own libvips (hashes, thumbnails, frames); uploads are processed in the image worker"),
    processing: z.strictObject({
      received: integer, stored: integer, rejected: z.record(z.string(), integer).describe('By error code'),
      rejected_total: integer, in_flight: integer, queued: integer, bytes_stored: integer, last_ms: integer.nullable(), average_ms: integer.nullable(),
      memory_budget: z.strictObject({
        budget_mb: integer, origin: z.string().describe('memory_budget_mb, or where the automatic budget came from'),
        baseline_mb: number.nullable().describe('RSS with no image in flight, as last read; null before the first image'),
        in_flight_mb: number.describe('The working-set estimates of the images being processed'),
      }).nullable().describe('What images are admitted by when enable_memory_optimization is on; null when off'),
    }),
    store: z.strictObject({ images: integer, bytes: integer }),
    retention: RetentionStatusSchema,
    consumers: z.record(z.string(), ConsumerStatusSchema).describe('Each durable consumer by name: its cursor, what waits, and how it went'),
    mqtt: MqttStatusSchema,
    s3: S3StatusSchema.describe('The S3 forwarder: what it sent, what waits, what is on this disk only'),
    similarity: SimilarityStatusSchema.optional().describe('Perceptual-hash index, background re-hash, duplicates and the compare worker'),
    image_worker: workerSchema('image_worker_idle_seconds').optional().describe('The worker process that processes uploads, started by the first image and ended when idle'),
    labels: z.strictObject({
      enabled: z.boolean().describe('Whether images are labelled: the labels setting, and for auto the models and 1 GB of memory'),
      models_installed: z.boolean(),
      labelled: integer.describe('Images labelled since the daemon started'),
      last_ms: integer.nullable().describe('The last image\'s time in the labels worker, queue wait included'),
      embeddings: integer.describe('Images with a content embedding (search by content)'),
      clip: z.strictObject({
        enabled: z.boolean().describe('Whether images are embedded by CLIP: clip_model_dir set, labels on, the runtime installed'),
        embeddings: integer.describe('Images with a CLIP embedding (search by text)'),
        last_ms: integer.nullable().describe('The last image\'s CLIP embedding time in the labels worker, decode included'),
        last_text_ms: integer.nullable().describe('The last text query\'s time, queue wait and worker start included'),
        last_error: z.string().nullable().describe('Why the last image got no CLIP embedding (a broken export; its labels were kept), or null'),
      }),
      worker: workerSchema('labels_worker_idle_seconds'),
    }).optional().describe('Object labels and the labels worker (docs/labels.md)'),
  });
}
