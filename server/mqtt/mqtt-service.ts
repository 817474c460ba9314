import type { RemovalReason, StatusPart, StoreObserver } from '../store-events';
import type { Logger } from '../log';
import type { DuplicateRecord } from '../store-events';
import type { ImageStore, StoredImage } from '../storage/image-store';
import { MqttConnection, type MqttConnectionStatus } from './mqtt-connection';
import { MqttIngest, type ImageIntake, type MqttIngestStatus } from './mqtt-ingest';
import { MqttPublisher } from './mqtt-publisher';
import { RetainedMessages } from './mqtt-retained';
import { needsReconnect, type MqttSettings } from './mqtt-settings';
import { mqttTopics } from './mqtt-topics';

/** The readings published on <prefix>/stats. */
export interface MqttStats {
  rss_mb: number;
  cpu_percent: number;
  images: number;
  /** Images waiting for processing. */
  queue_length: number;
  [key: string]: unknown;
}

/** The `mqtt` section of /memory_status. */
export type MqttStatus =
  | { enabled: false }
  | ({
    enabled: true;
    ingest: MqttIngestStatus;
    subscribe: readonly string[];
    /**
     * True once the broker has acknowledged this connection's subscriptions: a message published
     * between the connect and that acknowledgement reaches the daemon only in a session the broker
     * kept from before. False while not connected or with nothing to subscribe to.
     */
    subscribed: boolean;
    discovery: boolean;
  } & MqttConnectionStatus);

export interface MqttServiceOptions {
  settings: () => MqttSettings;
  store: ImageStore;
  intake: ImageIntake;
  log: Logger;
  /** The readings for <prefix>/stats. */
  stats: () => Promise<MqttStats>;
  /** Called after each successful connect (to wake the durable consumer from its back-off). */
  onConnected?: () => void;
  /** Time between stats messages. @default 60000 */
  statsIntervalMs?: number;
  /** Longest wait between connection attempts. @default 30000 */
  maxBackoffMs?: number;
}

/**
 * The daemon's MQTT side: one connection built from the settings in force (rebuilt when they
 * change), the publisher the durable consumer and the observers use, images in from subscribed
 * topics, Home Assistant discovery and the stats timer. Off, it holds no client and no timer.
 */
export class MqttService implements StoreObserver, StatusPart {
  readonly name = 'mqtt';
  /** Its part of /memory_status. */
  readonly key = 'mqtt';
  readonly publisher: MqttPublisher;
  private connection: MqttConnection | undefined;
  /** The connection whose subscriptions the broker acknowledged, if it is the current one. */
  private subscribedOn: MqttConnection | undefined;
  private ingest: MqttIngest | undefined;
  private settings: MqttSettings;
  private timer: NodeJS.Timeout | undefined;
  /** The latest JPEGs and discovery configs left retained on the broker. */
  private readonly retained: RetainedMessages;

  constructor(private readonly options: MqttServiceOptions) {
    this.settings = options.settings();
    this.retained = new RetainedMessages({ connection: () => this.connection, settings: () => this.settings, store: options.store });
    this.publisher = new MqttPublisher({
      connection: () => this.connection,
      settings: () => this.settings,
      latest: (image, signal) => this.retained.publishLatest(image, signal),
    });
  }

  /** Connects when mqtt_url is set; never throws and never waits for the broker. */
  async start(): Promise<void> {
    const settings = this.settings;
    if (!settings.url) return;
    const { log, intake } = this.options;
    this.ingest = new MqttIngest({
      intake, log,
      topicPrefix: () => this.settings.topicPrefix,
      sourceTopicLevel: () => this.settings.sourceTopicLevel,
      maxBytes: () => this.settings.maxPayloadBytes,
    });
    const ingest = this.ingest;
    const connection = new MqttConnection({
      settings, log, maxBackoffMs: this.options.maxBackoffMs,
      // Room for the topic and properties beside the largest accepted image.
      maxPacketBytes: settings.maxPayloadBytes + 65_536,
      onMessage: settings.subscribe.length > 0 ? (topic, payload, packet) => ingest.handle(topic, payload, packet.qos) : undefined,
    });
    this.connection = connection;
    connection.on('connected', () => {
      this.options.onConnected?.();
      void this.onConnected(connection);
    });
    await connection.start();
    this.timer = setInterval(() => void this.publishStats(), this.options.statsIntervalMs ?? 60_000);
    this.timer.unref();
  }

  /** Applies new settings: a new connection when the broker, credentials or topics changed. */
  async update(): Promise<void> {
    const next = this.options.settings();
    const reconnect = needsReconnect(this.settings, next);
    this.settings = next;
    if (!reconnect) return;
    await this.stop();
    await this.start();
  }

  /** The `mqtt` section of /memory_status: never the password. */
  status(): MqttStatus {
    if (!this.connection) return { enabled: false };
    const connection = this.connection.status();
    return {
      enabled: true,
      ...connection,
      subscribe: this.settings.subscribe,
      subscribed: connection.state === 'connected' && this.subscribedOn === this.connection,
      discovery: this.settings.discovery,
      ingest: this.ingest!.status(),
    };
  }

  /**
   * Publishes a removal event, and replaces or clears the retained latest JPEG (and image entity)
   * of each source whose shown image went; never waits for the broker, so a removal is never held
   * up. What cannot be sent now is reconciled at the next connect.
   */
  removed(images: readonly StoredImage[], reason: RemovalReason): void {
    const log = this.options.log;
    void this.publisher.removed(images, reason).catch((err) => log.debug(`mqtt: removed event not sent: ${(err as Error).message}`));
    void this.retained.removed(images).catch((err) => log.warn(`mqtt: retained images not yet cleared, at the next connect: ${(err as Error).message}`));
  }

  /** Publishes a duplicate event per refused repeat; never waits for the broker. */
  duplicates(records: readonly DuplicateRecord[], source: string): void {
    for (const record of records) {
      void this.publisher.duplicate({ source, ...record }).catch((err) => this.options.log.debug(`mqtt: duplicate event not sent: ${(err as Error).message}`));
    }
  }

  /** True while connected to the broker. */
  get connected(): boolean {
    return this.connection?.connected === true;
  }

  /** Says offline and disconnects; bounded. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const connection = this.connection;
    this.connection = undefined;
    this.ingest = undefined;
    await connection?.stop();
  }

  private async onConnected(connection: MqttConnection): Promise<void> {
    try {
      this.subscribedOn = undefined;
      if (await connection.subscribe(this.settings.subscribe)) this.subscribedOn = connection;
      await this.retained.reconcile();
      await this.publishStats();
    } catch (err) {
      this.options.log.warn(`mqtt: after connecting: ${(err as Error).message}`);
    }
  }

  private async publishStats(): Promise<void> {
    const connection = this.connection;
    if (!connection?.connected) return;
    try {
      const stats = await this.options.stats();
      await connection.publish(mqttTopics(this.settings.topicPrefix).stats, JSON.stringify({ ...stats, at: new Date().toISOString() }), { qos: 1 });
    } catch (err) {
      this.options.log.debug(`mqtt: stats not sent: ${(err as Error).message}`);
    }
  }
}
