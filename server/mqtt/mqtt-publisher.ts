import type { ImageLabel } from '../image-labels';
import type { StoredImage } from '../storage/image-store';
import { labelSensorDiscovery } from './mqtt-discovery';
import type { MqttConnection } from './mqtt-connection';
import type { MqttSettings } from './mqtt-settings';
import { mqttTopics } from './mqtt-topics';

/** A stored image as events carry it: the API's record, with an absolute url when public_url is set. */
export type MqttImageEvent = StoredImage & { url: string };

/** The record of `image` with its URL, absolute under `publicUrl` when that is set. */
export function imageEvent(image: StoredImage, publicUrl: string): MqttImageEvent {
  const path = `/images/${image.id}`;
  const url = publicUrl ? new URL(path.slice(1), publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`).toString() : path;
  const { id, source, ...rest } = image;
  return { id, source, url, ...rest };
}

export interface MqttPublisherOptions {
  connection: () => MqttConnection | undefined;
  settings: () => MqttSettings;
  /** Publishes an image as its source's retained latest JPEG, if it still is the newest. */
  latest: (image: StoredImage, signal?: AbortSignal) => Promise<void>;
}

/**
 * Publishes what happens to images. `stored` is the durable consumer's work: it throws while the
 * broker is away, so the consumer's cursor stays and the event goes out when it is back.
 * `removed` and `duplicate` come from in-process observers and are sent only while connected.
 */
export class MqttPublisher {
  /** The label sensors announced on the current connection (discovery topic and off delay). */
  private announced = new Set<string>();
  private announcedOn: MqttConnection | undefined;

  constructor(private readonly options: MqttPublisherOptions) {}

  /**
   * The JSON event on <prefix>/images/<source> and <prefix>/events, then (for the newest image of
   * its source only, so a backlog is not re-encoded image by image) the retained JPEG on
   * <prefix>/images/<source>/latest. Resolves after the broker's PUBACKs.
   * @throws Error when not connected or the broker does not acknowledge.
   */
  async stored(image: StoredImage, signal?: AbortSignal): Promise<void> {
    const connection = this.requireConnection();
    const settings = this.options.settings();
    const topics = mqttTopics(settings.topicPrefix);
    const event = imageEvent(image, settings.publicUrl);
    await connection.publish(topics.image(image.source), JSON.stringify(event), { qos: 1 }, signal);
    await connection.publish(topics.events, JSON.stringify({ type: 'stored', image: event }), { qos: 1 }, signal);
    await this.options.latest(image, signal);
  }

  /** `{"type":"removed","reason",...}` per removed image; dropped when not connected. */
  async removed(images: readonly StoredImage[], reason: string): Promise<void> {
    for (const image of images) await this.event({ type: 'removed', reason, id: image.id, source: image.source });
  }

  /**
   * What an image shows, once the labels consumer has looked: `{"type":"labelled","image":...}`
   * (the record with its labels) on <prefix>/events, and `ON` on <prefix>/labels/<source>/<label>
   * for each label found, the state topic of a Home Assistant binary sensor that turns itself off
   * `sensorSeconds` later (its `off_delay`), announced first when discovery is on. Dropped when
   * not connected: labels stay in the record, and the stored event already went out.
   */
  async labelled(image: StoredImage, labels: readonly ImageLabel[], sensorSeconds: number): Promise<void> {
    const connection = this.options.connection();
    if (!connection?.connected) return;
    const settings = this.options.settings();
    const topics = mqttTopics(settings.topicPrefix);
    await connection.publish(topics.events, JSON.stringify({ type: 'labelled', image: imageEvent(image, settings.publicUrl) }), { qos: 1 });
    if (this.announcedOn !== connection) {
      this.announced = new Set();
      this.announcedOn = connection;
    }
    for (const name of new Set(labels.map((label) => label.name))) {
      if (settings.discovery) {
        const discovery = labelSensorDiscovery(settings, image.source, name, sensorSeconds);
        const key = `${discovery.topic} ${sensorSeconds}`;
        if (!this.announced.has(key)) {
          await connection.publish(discovery.topic, discovery.payload, { qos: 1, retain: true });
          this.announced.add(key);
        }
      }
      await connection.publish(topics.label(image.source, name), 'ON', { qos: 1 });
    }
  }

  /** `{"type":"duplicate",...}` for an upload refused as a duplicate; dropped when not connected. */
  async duplicate(details: Record<string, unknown>): Promise<void> {
    await this.event({ type: 'duplicate', ...details });
  }

  private async event(body: Record<string, unknown>): Promise<void> {
    const connection = this.options.connection();
    if (!connection?.connected) return;
    await connection.publish(mqttTopics(this.options.settings().topicPrefix).events, JSON.stringify(body), { qos: 1 });
  }

  private requireConnection(): MqttConnection {
    const connection = this.options.connection();
    if (!connection) throw new Error('MQTT is off');
    return connection;
  }
}
