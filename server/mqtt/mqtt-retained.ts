import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSharp } from '../pipeline/sharp-tuning';
import { writeFileAtomic } from '../atomic-write';
import type { ImageStore, StoredImage } from '../storage/image-store';
import type { MqttConnection } from './mqtt-connection';
import { discoveryMessages, imageDiscovery, imageDiscoveryTopic, type DiscoveryMessage } from './mqtt-discovery';
import type { MqttSettings } from './mqtt-settings';
import { mqttTopics } from './mqtt-topics';

/** What the daemon has left retained on the broker. */
interface RetainedRecord {
  /** Each retained `…/latest` topic, its source and the id of the image it shows ('' when unknown). */
  latest: Record<string, { source: string; id: string }>;
  /** Each retained discovery config topic. */
  discovery: string[];
}

/**
 * The record as persisted: the topics only. Ids change with every image and are kept in memory,
 * so the file is written when a topic comes or goes, not at every image (an SD card's fsyncs).
 */
interface RetainedFile {
  /** Each retained `…/latest` topic and its source. */
  latest: Record<string, string>;
  discovery: string[];
}

/** The file under the data dir that holds the {@link RetainedFile}. */
export const RETAINED_FILE = 'mqtt-retained.json';

export interface RetainedMessagesOptions {
  connection: () => MqttConnection | undefined;
  settings: () => MqttSettings;
  store: Pick<ImageStore, 'dataDir' | 'get' | 'latest' | 'pngPath' | 'sources'>;
}

/**
 * The retained messages the daemon owns on the broker: each source's latest JPEG and the Home
 * Assistant discovery configs. It records in the data dir every topic it leaves there, so that
 * what the store no longer holds is cleared with an empty retained message even when it was
 * removed while the broker was away or the daemon was down: at every connect it reconciles the
 * record with the store. The record is bounded by the store's sources: a topic is added only
 * while connected, for a source the store holds (its latest, its image entity; and four
 * sensors), and dropped once cleared. Its work runs one step at a time, so a JPEG being
 * published can never land after the removal that clears it.
 */
export class RetainedMessages {
  private readonly file: string;
  private readonly record: RetainedRecord;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: RetainedMessagesOptions) {
    this.file = join(options.store.dataDir, RETAINED_FILE);
    this.record = this.load();
  }

  /**
   * Publishes `image` as the retained latest JPEG of its source, if it still is its newest, and
   * announces the source's image entity when discovery is on.
   * @throws Error when not connected or the broker does not acknowledge.
   */
  publishLatest(image: StoredImage, signal?: AbortSignal): Promise<void> {
    return this.serial(async () => {
      if (this.options.store.latest(image.source)?.id !== image.id) return;
      await this.showLatest(this.requireConnection(), image, signal);
      const settings = this.options.settings();
      const entity = imageDiscovery(settings, image.source);
      if (settings.discovery && !this.record.discovery.includes(entity.topic)) await this.announce(this.requireConnection(), [entity]);
    });
  }

  /**
   * After images were removed: republishes the newest remaining image of each source whose
   * retained one is gone, or clears it (and its image entity) when none is left. Skipped while
   * not connected: the next connect's {@link reconcile} does it from the record.
   */
  removed(images: readonly StoredImage[]): Promise<void> {
    return this.serial(async () => {
      const connection = this.options.connection();
      if (!connection?.connected) return;
      const topics = mqttTopics(this.options.settings().topicPrefix);
      for (const source of new Set(images.map((image) => image.source))) {
        const shown = this.record.latest[topics.latest(source)];
        if (!this.options.store.latest(source) || (shown && !this.options.store.get(shown.id))) await this.syncSource(connection, source);
      }
    });
  }

  /**
   * Brings the broker in line with the store, at each connect: every recorded latest JPEG whose
   * image is gone (or whose prefix changed) is replaced or cleared, discovery configs are
   * published when discovery is on, and recorded ones no longer wanted are cleared.
   */
  reconcile(): Promise<void> {
    return this.serial(async () => {
      const connection = this.requireConnection();
      const settings = this.options.settings();
      const topics = mqttTopics(settings.topicPrefix);
      for (const [topic, { source, id }] of Object.entries(this.record.latest)) {
        if (topic !== topics.latest(source)) await this.clear(connection, topic);
        if (topic !== topics.latest(source) || !this.options.store.get(id)) await this.syncSource(connection, source);
      }
      const wanted = settings.discovery ? discoveryMessages(settings, this.options.store.sources()) : [];
      await this.announce(connection, wanted);
      const keep = new Set(wanted.map((message) => message.topic));
      for (const topic of this.record.discovery.filter((t) => !keep.has(t))) await this.clear(connection, topic);
    });
  }

  /** The newest image of `source` on its latest topic, or an empty retained message when none is left. */
  private async syncSource(connection: MqttConnection, source: string): Promise<void> {
    const image = this.options.store.latest(source);
    if (image) {
      try {
        return await this.showLatest(connection, image);
      } catch (err) {
        // Deleted while being encoded: its removal waits behind this step, so show the next one now.
        if (this.options.store.get(image.id)) throw err;
        return this.syncSource(connection, source);
      }
    }
    await this.clear(connection, mqttTopics(this.options.settings().topicPrefix).latest(source));
    const entity = imageDiscoveryTopic(this.options.settings(), source);
    if (this.record.discovery.includes(entity)) await this.clear(connection, entity);
  }

  private async showLatest(connection: MqttConnection, image: StoredImage, signal?: AbortSignal): Promise<void> {
    const settings = this.options.settings();
    const topic = mqttTopics(settings.topicPrefix).latest(image.source);
    const jpeg = await latestJpeg(this.options.store.pngPath(image.id), settings.latestMaxDimension);
    await connection.publish(topic, jpeg, { qos: 1, retain: true }, signal);
    const known = topic in this.record.latest;
    this.record.latest[topic] = { source: image.source, id: image.id };
    if (!known) await this.save();
  }

  /** Publishes `messages` retained and records the topics not yet recorded. */
  private async announce(connection: MqttConnection, messages: readonly DiscoveryMessage[]): Promise<void> {
    const fresh = messages.filter((message) => !this.record.discovery.includes(message.topic));
    for (const message of messages) await connection.publish(message.topic, message.payload, { qos: 1, retain: true });
    if (fresh.length === 0) return;
    this.record.discovery.push(...fresh.map((message) => message.topic));
    await this.save();
  }

  /** An empty retained message deletes the retained one on `topic`; then it is forgotten. */
  private async clear(connection: MqttConnection, topic: string): Promise<void> {
    await connection.publish(topic, '', { qos: 1, retain: true });
    delete this.record.latest[topic];
    this.record.discovery = this.record.discovery.filter((t) => t !== topic);
    await this.save();
  }

  /**
   * The record from the data dir, every image id unknown, so that the first connect republishes
   * each recorded source's newest image (one JPEG per source per start). Without a file (the first
   * start with MQTT, or a data dir from before it was kept), every source of the store may have a
   * retained JPEG, so each is recorded so.
   */
  private load(): RetainedRecord {
    let file: RetainedFile;
    try {
      file = JSON.parse(readFileSync(this.file, 'utf8')) as RetainedFile;
    } catch {
      const topics = mqttTopics(this.options.settings().topicPrefix);
      file = { latest: Object.fromEntries(this.options.store.sources().map((source) => [topics.latest(source), source])), discovery: [] };
    }
    const latest = Object.entries(file.latest ?? {}).map(([topic, source]) => [topic, { source, id: '' }]);
    return { latest: Object.fromEntries(latest), discovery: file.discovery ?? [] };
  }

  private save(): Promise<void> {
    const file: RetainedFile = {
      latest: Object.fromEntries(Object.entries(this.record.latest).map(([topic, { source }]) => [topic, source])),
      discovery: this.record.discovery,
    };
    return writeFileAtomic(this.file, `${JSON.stringify(file)}\n`);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private requireConnection(): MqttConnection {
    const connection = this.options.connection();
    if (!connection) throw new Error('MQTT is off');
    return connection;
  }
}

/** The stored PNG as a JPEG whose long side is at most `maxDimension`, for Home Assistant. */
export function latestJpeg(pngPath: string, maxDimension: number): Promise<Buffer> {
  return loadSharp()(pngPath)
    .resize(maxDimension, maxDimension, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 80, mozjpeg: false })
    .toBuffer();
}
