import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors';
import type { Logger } from '../log';
import { sniffImageFormat, SNIFF_BYTES } from '../pipeline/sniff';
import { HEAD_BYTES } from '../pipeline/image-header';
import type { StoredImage } from '../storage/image-store';
import type { Ingest, UploadResult } from '../upload/upload-flow';
import { isUnderPrefix, sourceFromTopic } from './mqtt-topics';

/** The part of the upload flow that MQTT ingest goes through (see server/upload/upload-flow.ts). */
export interface ImageIntake {
  /** Takes one upload in, all or nothing. @throws AppError */
  ingest(way: Ingest): Promise<UploadResult>;
}

/** What MQTT ingest took and refused, by reason, for /memory_status. */
export interface MqttIngestStatus {
  received: number;
  stored: number;
  /** Refused or ignored messages by reason: not_image, payload_too_large, own_topic, or an error code. */
  ignored: Record<string, number>;
  last_stored_at: string | null;
}

export interface MqttIngestOptions {
  intake: ImageIntake;
  log: Logger;
  /** Our own prefix: messages under it are never taken in, so nothing we publish loops back. */
  topicPrefix: () => string;
  sourceTopicLevel: () => number;
  maxBytes: () => number;
  /** How long a busy daemon keeps a message waiting (unacknowledged) before dropping it. @default 60000 */
  busyWaitMs?: number;
}

/** Errors that pass: waiting (and holding the PUBACK back) lets the broker hold the next message. */
const TRANSIENT = new Set(['busy', 'insufficient_storage']);

/**
 * Takes images from subscribed topics through the same upload flow as HTTP. The handler resolves
 * only once the image is committed (or refused for good), and the PUBACK is sent after that, so
 * a crash before the commit means the broker redelivers. Refusals are counted and logged at
 * most once per topic and minute, so a chatty topic cannot flood the log.
 */
export class MqttIngest {
  private readonly counts: MqttIngestStatus = { received: 0, stored: 0, ignored: {}, last_stored_at: null };
  private readonly lastLogged = new Map<string, number>();
  private unacked = 0;

  constructor(private readonly options: MqttIngestOptions) {}

  /** A copy of the counters. */
  status(): MqttIngestStatus {
    return { ...this.counts, ignored: { ...this.counts.ignored } };
  }

  /**
   * Handles one message; never throws. QoS 1 and 2 messages come one at a time (MQTT.js waits
   * for the PUBACK); QoS 0 ones do not wait, so at most four are taken at once and the rest dropped.
   */
  async handle(topic: string, payload: Buffer, qos: number): Promise<void> {
    this.counts.received += 1;
    if (qos > 0) return this.take(topic, payload);
    if (this.unacked >= 4) return this.ignore(topic, 'busy', 'more QoS 0 messages than the daemon keeps up with');
    this.unacked += 1;
    try {
      await this.take(topic, payload);
    } finally {
      this.unacked -= 1;
    }
  }

  private async take(topic: string, payload: Buffer): Promise<void> {
    // Our own status, stats and images coming back through a wide filter: counted, never taken, not logged.
    if (isUnderPrefix(topic, this.options.topicPrefix())) return this.count('own_topic');
    if (payload.length > this.options.maxBytes()) {
      return this.ignore(topic, 'payload_too_large', `${payload.length} bytes, over max_upload_bytes`);
    }
    if (!sniffImageFormat(payload.subarray(0, SNIFF_BYTES))) {
      return this.ignore(topic, 'not_image', `${payload.length} bytes that are not a supported image`);
    }
    const source = sourceFromTopic(topic, this.options.sourceTopicLevel());
    try {
      const images = await this.receive(payload, source);
      this.counts.stored += images.length;
      this.counts.last_stored_at = new Date().toISOString();
    } catch (err) {
      const code = err instanceof AppError ? err.code : 'internal_error';
      this.ignore(topic, code, (err as Error).message);
    }
  }

  private async receive(payload: Buffer, source: string): Promise<StoredImage[]> {
    const { images } = await this.options.intake.ingest({
      names: () => ({ source }),
      admit: (check) => this.waitForRoom(check),
      receive: async (dir) => {
        // A small payload goes to the worker as it is, as a small HTTP body does (upload-body.ts).
        if (payload.length <= HEAD_BYTES) return { inputs: [{ bytes: payload }] };
        const file = join(dir, 'mqtt-payload');
        await writeFile(file, payload);
        // The payload is in memory already: its header is read from it, not from the file.
        return { inputs: [file], heads: new Map([[file, payload.subarray(0, HEAD_BYTES)]]) };
      },
    });
    return images;
  }

  /** Waits, with the PUBACK held back, while the daemon is busy or short of disk; bounded. */
  private async waitForRoom(check: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + (this.options.busyWaitMs ?? 60_000);
    for (let waitMs = 250; ; waitMs = Math.min(waitMs * 2, 5000)) {
      try {
        return await check();
      } catch (err) {
        if (!(err instanceof AppError && TRANSIENT.has(err.code)) || Date.now() + waitMs > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  private count(reason: string): void {
    this.counts.ignored[reason] = (this.counts.ignored[reason] ?? 0) + 1;
  }

  private ignore(topic: string, reason: string, detail: string): void {
    this.count(reason);
    const key = `${reason} ${topic}`;
    const now = Date.now();
    if (now - (this.lastLogged.get(key) ?? -Infinity) < 60_000) return;
    // Bounded: a broker with endless topic names cannot grow the map without limit.
    if (this.lastLogged.size >= 1000) this.lastLogged.clear();
    this.lastLogged.set(key, now);
    this.options.log.warn(`mqtt: ignored a message on ${JSON.stringify(topic)}: ${reason} (${detail}); logged once a minute per topic`);
  }
}
