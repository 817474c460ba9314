import type { Logger } from './log';
import type { LogRing } from './log-ring';
import type { Displays } from './display/displays';
import type { FrameStore } from './display/frame-store';
import type { Monitor } from './monitoring/monitor';
import type { MqttService } from './mqtt/mqtt-service';
import type { Consumers } from './consumers/consumers';
import type { Thumbnails } from './thumbnails/thumbnails';
import type { SettingsStore } from './settings';
import type { ImageStore } from './storage/image-store';
import type { Retention } from './storage/retention';
import type { Similarity } from './similarity/similarity';
import type { FeatureMatcher } from './similarity/feature-matcher';
import type { ImageWorker } from './workers/image-worker';
import type { Labels } from './labels/labels';
import type { ImageRemoval } from './upload/image-removal';
import type { UploadFlow } from './upload/upload-flow';

/** What the HTTP layer is built over; tests hand in a store on a temporary folder. */
export interface AppDeps {
  settings: SettingsStore;
  store: ImageStore;
  /** The upload use case: every way in hands it files on disk. */
  flow: UploadFlow;
  /** Removes images so that observers and consumers hear of it. */
  removal: ImageRemoval;
  /** The dashboard's thumbnails, derived files of the store. */
  thumbnails: Thumbnails;
  /** The durable consumers and their states. */
  consumers: Consumers;
  /** The MQTT side: its status is on /memory_status; stop it when the daemon stops. */
  mqtt: MqttService;
  /** Live readings, counters and metrics; stop it when the daemon stops. */
  monitor: Monitor;
  /** Keeps the store within its limits; its status() is for /memory_status and the dashboard. */
  retention: Retention;
  /** Similar images, search and near-duplicates by perceptual hash ; stop() it with the daemon. */
  similarity: Similarity;
  /** Local-feature comparison in an OpenCV worker started on demand; close() it with the daemon. */
  features: FeatureMatcher;
  /** The image worker that runs the pipeline; ended at stop. */
  imageWorker: ImageWorker;
  log: Logger;
  /** The newest log lines, masked, for GET /logs. */
  logs: LogRing;
  /** Display frames and panels. */
  frames: FrameStore;
  displays: Displays;
  /** Object labels: the consumer's part, the labels worker; close() it with the daemon. */
  labels: Labels;
  /** The API token changes need (and reads, when require_token_for_reads); none when undefined. */
  apiToken?: string;
  /** True while the store is still loading, for GET /health/ready; absent once it is loaded. */
  loading?: () => boolean;
}
