import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Logger } from '../log';
import type { Settings } from '../settings';
import type { ImageStore, StoredImage } from '../storage/image-store';
import type { ConsumerFactory, ConsumerStatus, RemovalReason, StatusPart, StoreObserver } from '../store-events';
import type { S3Client } from './s3-client';
import { hashFileRange } from './hash-file';
import { describeTarget, objectKey, readSecret, s3SettingsFrom, type S3Settings } from './s3-settings';

/** The `s3` section of /memory_status. */
export type S3Status =
  | { enabled: false; local_only_images: number }
  | {
    enabled: true;
    /** Where objects go: scheme, host and bucket, never a key. */
    target: string;
    uploaded_objects: number;
    uploaded_bytes: number;
    /** Images found in the bucket already with the same size and MD5, so not sent again. */
    already_stored: number;
    failures: number;
    last_error: string | null;
    last_error_at: string | null;
    last_upload_at: string | null;
    /** Images not forwarded yet, and how long the oldest of them has waited. */
    pending_images: number;
    oldest_pending_age_seconds: number | null;
    /** Images only on this disk: every image not forwarded yet. */
    local_only_images: number;
    /** Objects deleted because their image was deleted over the API (s3_delete_with_local). */
    deleted_objects: number;
  };

export interface S3ForwarderDeps {
  store: ImageStore;
  settings: () => Settings;
  log: Logger;
  /** The s3 consumer's state, from its runner; undefined while forwarding is off. */
  consumer: () => ConsumerStatus | undefined;
}

/** Gives up deleting an object after this long: a delete over the API never waits for it. */
const DELETE_TIMEOUT_MS = 30_000;

/**
 * Forwards every stored image to an S3-compatible bucket as a durable consumer: in commit order,
 * at least once, an image already in the bucket with the same size and MD5 not sent again. Its
 * cursor is the store-and-forward: while the bucket is unreachable the cursor waits and retries,
 * and uploads go on. It is also the `s3` status part and an observer of API deletes.
 */
export class S3Forwarder implements StoreObserver, StatusPart {
  readonly name = 's3';
  readonly key = 's3';
  private totals = { uploaded_objects: 0, uploaded_bytes: 0, already_stored: 0, deleted_objects: 0, last_upload_at: null as string | null };
  private client: { config: string; client: S3Client } | undefined;

  constructor(private readonly deps: S3ForwarderDeps) {}

  /** The consumer list's entry: one consumer named `s3` while s3_bucket is set, else none. */
  readonly consumers: ConsumerFactory = (settings) => {
    const target = s3SettingsFrom(settings);
    if (!target) {
      this.closeClient();
      return [];
    }
    return [{
      name: 's3',
      delivery: 'each',
      forwards: true,
      // A new secret restarts the runner too, so its back-off starts afresh; only its hash is kept.
      config: { ...target, endpoint: target.endpoint.href, secretAccessKey: sha256(target.secretAccessKey) },
      handle: (image, signal) => this.forward(target, image, signal),
    }];
  };

  /** Puts one image (and its record, with s3_upload_records) unless the bucket has it already. */
  private async forward(target: S3Settings, image: StoredImage, signal: AbortSignal): Promise<void> {
    const client = this.clientFor(target);
    const settings = this.deps.settings();
    const file = this.deps.store.pngPath(image.id);
    const { size } = await stat(file);
    const md5 = await md5Of(file, size);
    const key = objectKey(target.prefix, image, 'png');
    const head = await client.head(key, signal);
    if (head && head.bytes === size && head.md5 === md5) {
      this.totals.already_stored++;
    } else {
      await client.put({
        key, file, bytes: size, contentType: 'image/png', storageClass: settings.s3_storage_class || undefined,
        metadata: {
          'image-id': image.id, source: image.source, 'received-at': image.received_at,
          ...(image.captured_at ? { 'captured-at': image.captured_at } : {}), md5,
        },
      }, signal);
      this.totals.uploaded_objects++;
      this.totals.uploaded_bytes += size;
    }
    if (settings.s3_upload_records) {
      const text = `${JSON.stringify(image)}\n`;
      await client.put({
        key: objectKey(target.prefix, image, 'json'), text, bytes: Buffer.byteLength(text), contentType: 'application/json',
        storageClass: settings.s3_storage_class || undefined, metadata: { 'image-id': image.id },
      }, signal);
      this.totals.uploaded_objects++;
      this.totals.uploaded_bytes += Buffer.byteLength(text);
    }
    this.totals.last_upload_at = new Date().toISOString();
  }

  /**
   * With s3_delete_with_local, an image deleted over the API loses its objects too; retention
   * never deletes objects, since the bucket is where images are kept. Never waits for the bucket.
   */
  removed(images: readonly StoredImage[], reason: RemovalReason): void {
    const settings = this.deps.settings();
    const target = s3SettingsFrom(settings);
    if (reason === 'retention' || !settings.s3_delete_with_local || !target) return;
    const cursor = this.deps.consumer()?.cursor ?? null;
    const forwarded = images.filter((image) => cursor !== null && image.id <= cursor);
    if (forwarded.length === 0) return;
    const extensions = settings.s3_upload_records ? (['png', 'json'] as const) : (['png'] as const);
    void (async () => {
      const client = this.clientFor(target);
      for (const image of forwarded) {
        for (const extension of extensions) {
          await client.delete(objectKey(target.prefix, image, extension), AbortSignal.timeout(DELETE_TIMEOUT_MS));
          this.totals.deleted_objects++;
        }
      }
    })().catch((err) => this.deps.log.warn(`s3: objects of deleted images not all deleted: ${(err as Error).message}`));
  }

  status(): S3Status {
    const consumer = this.deps.consumer();
    const target = s3SettingsFrom(this.deps.settings());
    if (!target || !consumer) return { enabled: false, local_only_images: this.deps.store.totals().count };
    const oldest = this.deps.store.after(consumer.cursor, 1)[0];
    const age = oldest ? Math.max(0, Math.round((Date.now() - Date.parse(oldest.received_at)) / 1000)) : null;
    return {
      enabled: true,
      target: describeTarget(target),
      ...this.totals,
      failures: consumer.failures,
      last_error: consumer.last_error,
      last_error_at: consumer.last_error_at,
      pending_images: consumer.pending,
      oldest_pending_age_seconds: age,
      local_only_images: consumer.pending,
    };
  }

  /** Closes the client's connections (at shutdown, or when forwarding is turned off). */
  closeClient(): void {
    this.client?.client.close();
    this.client = undefined;
  }

  /** The client for these settings, built (and the S3 code loaded) on first use. */
  private clientFor(target: S3Settings): S3Client {
    const config = JSON.stringify({ ...target, endpoint: target.endpoint.href, secretAccessKey: undefined });
    if (this.client?.config === config) return this.client.client;
    this.closeClient();
    // Loaded here, not at the top: a daemon without a bucket never loads the S3 code.
    const { S3Client: Client } = require('./s3-client') as typeof import('./s3-client');
    const ca = target.caFile ? readFileSync(target.caFile) : undefined;
    const client = new Client(target, () => readSecret(target), ca);
    this.client = { config, client };
    return client;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The file's MD5 in hex, recorded as the object's metadata and compared before a re-upload. */
async function md5Of(file: string, bytes: number): Promise<string> {
  const hash = createHash('md5');
  await hashFileRange(file, 0, bytes, [hash]);
  return hash.digest('hex');
}
