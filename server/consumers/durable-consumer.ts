import type { Logger } from '../log';
import type { MqttPublisher } from '../mqtt/mqtt-publisher';
import type { Settings } from '../settings';
import type { ImageStore, StoredImage } from '../storage/image-store';

/** What a durable consumer may use. */
export interface ConsumerDeps {
  store: ImageStore;
  settings: () => Settings;
  log: Logger;
  dataDir: string;
  /** Publishes stored images to the MQTT broker, for the mqtt consumer. */
  mqtt?: MqttPublisher;
}

/**
 * Slow or remote work after commit (a display command, an MQTT publisher, a forwarder). It
 * follows the store in commit order from a persisted cursor, as a Kafka consumer follows its
 * partition: the store is the log, nothing is copied into a queue, and delivery is at least once.
 */
export interface DurableConsumer {
  /** Unique, kebab-case: names its cursor file, its metrics label and its status entry. */
  readonly name: string;
  /**
   * `each`: every committed image, in commit order. `latest`: only the newest waiting image; the
   * ones before it are counted as skipped (an e-paper refresh takes half a minute).
   */
  readonly delivery: 'each' | 'latest';
  /**
   * What it was built from (its settings); when a settings change rebuilds it with another value,
   * its runner is restarted, else the running one is kept.
   */
  readonly config?: unknown;
  /**
   * Does the work for one image. A throw records `last_error`, and the same image is tried again
   * after a back-off. `signal` aborts when the daemon stops.
   */
  handle(image: StoredImage, signal: AbortSignal): Promise<void>;
}

/**
 * One entry of the consumer list: the consumers the settings in force call for (none, one, or
 * one per display). Called at start and after every settings change; consumers are matched by
 * name, so one whose name is new starts at the newest image rather than replaying the store.
 */
export type ConsumerFactory = (deps: ConsumerDeps, settings: Settings) => DurableConsumer[];

/** A consumer's state, persisted after every change and shown on /memory_status. */
export interface ConsumerState {
  /** The id of the last image handled (or skipped); null before the first. */
  cursor: string | null;
  delivered: number;
  /** Images never handled: passed over by `latest` delivery, or removed before their turn. */
  skipped: number;
  failures: number;
  last_success_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
}

/** A consumer's state with what is live: what waits, and whether it is at work now. */
export interface ConsumerStatus extends ConsumerState {
  delivery: DurableConsumer['delivery'];
  pending: number;
  busy: boolean;
}
