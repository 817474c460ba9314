import type { Settings } from './settings';
import type { StoredImage } from './storage/image-store';

/**
 * The contracts of the work that follows the store: what an in-process observer hears, and what
 * a durable consumer does. A leaf: features (display, MQTT, similarity, monitoring) implement
 * these, and only the composition root (server/store-parts.ts) lists them.
 */

/** Why committed images were removed. */
export type RemovalReason = 'deleted' | 'deleted_all' | 'retention';

/** An upload that was refused, with the error code the client got. */
export interface Rejection {
  code: string;
  source: string;
}

/** An upload that was not stored because it repeats an image already stored. */
export interface DuplicateRecord {
  duplicate_of: string;
  distance: number;
}

/**
 * Cheap in-process work after the store changes: counters, the live stream, the log, derived
 * files. Called synchronously; a throw is logged and never reaches the upload.
 */
export interface StoreObserver {
  /** Names it in the log when it fails. */
  readonly name: string;
  /**
   * Once a whole request has committed: its images, in commit order. Called in the event loop's
   * turn after the request is answered, before any later request is read (upload-flow.ts).
   */
  committed?(images: readonly StoredImage[]): void;
  /**
   * After committed images were removed (API delete, delete-all, retention). A returned promise
   * is awaited before the removal is answered, so derived files are gone by then.
   */
  removed?(images: readonly StoredImage[], reason: RemovalReason): void | Promise<void>;
  /** An upload was refused. */
  rejected?(rejection: Rejection): void;
  /** Uploads of `source` not stored because they repeat a stored image. */
  duplicates?(records: readonly DuplicateRecord[], source: string): void;
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
   * True when it copies each image elsewhere (an object store): with local_retention
   * until_forwarded, a local image goes once every such consumer has handled it.
   */
  readonly forwards?: boolean;
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
 * one per display), built over whatever its feature needs. Called at start and after every
 * settings change; consumers are matched by name, so one whose name is new starts at the newest
 * image rather than replaying the store.
 */
export type ConsumerFactory = (settings: Settings) => DurableConsumer[];

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

/** A feature's part of /memory_status: its key there, and a reading taken at every status. */
export interface StatusPart {
  readonly key: string;
  status(): unknown;
}
