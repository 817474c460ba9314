import { idLogConsumer } from './consumers/id-log';
import { storeLog } from './consumers/store-log';
import type { Consumers } from './consumers/consumers';
import { displayConsumers } from './display/display-consumers';
import type { Displays } from './display/displays';
import type { FrameStore } from './display/frame-store';
import type { Logger } from './log';
import type { Monitor, MonitorStatus } from './monitoring/monitor';
import { mqttConsumer } from './mqtt/mqtt-consumer';
import type { S3Forwarder, S3Status } from './s3/s3-forwarder';
import type { MqttService, MqttStatus } from './mqtt/mqtt-service';
import type { Thumbnails } from './thumbnails/thumbnails';
import type { FeatureMatcher } from './similarity/feature-matcher';
import { similarityStatusPart, type Similarity, type SimilarityStatus } from './similarity/similarity';
import type { ConsumerFactory, StatusPart, StoreObserver } from './store-events';
import { labelsConsumer, type Labels, type LabelsStatus } from './labels/labels';

/**
 * What happens after an image is stored, as visible lists, as the pipeline's STEPS are: the
 * durable consumers, the in-process observers, and the features' parts of /memory_status. This
 * is the one place that names the features; adding a consumer is one file in its feature's
 * folder and one line here (docs/architecture.md).
 */

/** The parts the lists are made of, built in server/services.ts. */
export interface StoreParts {
  monitor: Monitor;
  thumbnails: Thumbnails;
  consumers: Consumers;
  similarity: Similarity;
  features: FeatureMatcher;
  mqtt: MqttService;
  displays: Displays;
  frames: FrameStore;
  log: Logger;
  labels: Labels;
  s3: S3Forwarder;
}

/** The durable consumers: slow or remote work, each following its own persisted cursor. */
export function consumerFactories(parts: Pick<StoreParts, 'displays' | 'mqtt' | 'log' | 'labels' | 's3'>): ConsumerFactory[] {
  return [
    idLogConsumer, // the id of every committed image, appended to id_log_file
    displayConsumers(parts.displays, parts.log), // renders frames and runs each display's command
    mqttConsumer(parts.mqtt.publisher), // every stored image's events on MQTT, store-and-forward
    labelsConsumer(parts.labels), // what each image shows, into its record, in the labels worker
    parts.s3.consumers, // every stored image put in an S3 bucket, store-and-forward
  ];
}

/** The in-process observers, told in this order once a request commits and on every removal. */
export function storeObservers(parts: StoreParts): StoreObserver[] {
  return [
    parts.monitor.ingestStats, // counters on /memory_status
    parts.monitor.metrics, // Prometheus /metrics
    parts.monitor, // the dashboard's live stream
    storeLog(parts.log), // a log line per stored or removed image
    parts.thumbnails, // removes a removed image's thumbnail
    parts.similarity, // keeps the perceptual-hash index in step; counts duplicates
    parts.frames, // removes a removed image's display frames
    parts.consumers, // wakes the durable consumers; counts what they missed
    parts.mqtt, // removed and duplicate events on MQTT, while connected
    parts.labels, // removes a removed image's content embedding
    parts.s3, // with s3_delete_with_local, an image deleted over the API loses its objects
  ];
}

/** The features' parts of /memory_status, each under its key. */
export function statusParts(parts: Pick<StoreParts, 'similarity' | 'features' | 'mqtt' | 'labels' | 's3'>): StatusPart[] {
  return [
    similarityStatusPart(parts.similarity, parts.features), // the index, re-hash, duplicates, compare worker
    parts.mqtt, // the connection, its last error, the ingest counters
    parts.labels, // whether labels are on, the models, the labels worker
    parts.s3, // objects and bytes forwarded, failures, what waits, what is local only
  ];
}

/** /memory_status as the parts above make it. */
export type MemoryStatus = MonitorStatus & {
  /** The perceptual-hash index, the background re-hash, duplicates by source and the compare worker. */
  similarity: SimilarityStatus;
  /** The MQTT connection's state, last error and ingest counters; {enabled: false} when off. */
  mqtt: MqttStatus;
  /** Whether labels are on, whether the models are installed, and the labels worker. */
  labels: LabelsStatus;
  /** What the S3 forwarder sent and what waits; {enabled: false, local_only_images} when off. */
  s3: S3Status;
};
