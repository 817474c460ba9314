import type { AppDeps } from './app-deps';
import { StoreEventBus } from './consumers/store-event-bus';
import { Consumers } from './consumers/consumers';
import type { Logger } from './log';
import { LogRing } from './log-ring';
import { Displays } from './display/displays';
import { panelsOverBudget } from './display/frame-memory';
import { FrameStore } from './display/frame-store';
import { completeProfiles } from './display/profiles';
import { Monitor, type MonitorStatus } from './monitoring/monitor';
import { METRIC_PREFIX } from './monitoring/metrics';
import { MqttService, type MqttStats } from './mqtt/mqtt-service';
import { mqttSettingsFrom } from './mqtt/mqtt-settings';
import { automaticBudget, DAEMON_AT_REST_MB, memoryBudget, readSystemMemory } from './memory/memory-budget';
import { ImageWorker } from './workers/image-worker';
import { ProcessingQueue } from './memory/processing-queue';
import { processingConcurrency, tuneSharp } from './pipeline/sharp-tuning';
import { Thumbnails } from './thumbnails/thumbnails';
import { consumerFactories, statusParts, storeObservers } from './store-parts';
import { SettingsStore, type SettingsInput } from './settings';
import { ImageStore } from './storage/image-store';
import { Retention } from './storage/retention';
import type { ConsumerStatus } from './store-events';
import { S3Forwarder } from './s3/s3-forwarder';
import { ImageRemoval } from './upload/image-removal';
import { UploadFlow, type UploadResult } from './upload/upload-flow';
import { FeatureMatcher } from './similarity/feature-matcher';
import { Similarity } from './similarity/similarity';
import { Labels } from './labels/labels';
import { LabelWorker } from './labels/label-worker';
import { ownResidentBytes } from './proc-fields';
import { EmbeddingIndex } from './labels/embedding-index';

export interface ServiceOptions {
  dataDir: string;
  runtimeConfigFile: string;
  /** Settings layers below runtime updates, lowest first (operator file, environment, flags). */
  settingsLayers: SettingsInput[];
  log: Logger;
  /** The ring the logger feeds (see createLogger's tap); a new, empty one when not given. */
  logs?: LogRing;
  /** The API token, when access control is on. */
  apiToken?: string;
  /** The daemon's environment, which the image worker's is made from (image-processor.ts). */
  env: NodeJS.ProcessEnv;
  /** The command that runs the worker processes in place of node (--worker-exec). */
  workerExec?: string[];
  /** The label models' folder; models/ beside package.json when not given (labels/models-dir.ts). */
  modelsDir?: string;
}

/**
 * Opens the settings and the store and wires the upload flow, its observers and the durable
 * consumers to them: the daemon's parts, ready for createApp(). main.ts and the tests build the
 * daemon the same way through here.
 */
export async function openServices(options: ServiceOptions): Promise<AppDeps> {
  const { log, dataDir } = options;
  // Read once at start: the cgroup's limits, or the memory available then (memory-budget.ts).
  const automatic = automaticBudget(readSystemMemory());
  const settings = await SettingsStore.open({
    base: options.settingsLayers, runtimeFile: options.runtimeConfigFile,
    // Display frames are rendered in the daemon: a panel whose frame the budget cannot hold is refused.
    check: (candidate) => panelsOverBudget(completeProfiles(candidate.displays), memoryBudget(candidate, automatic)),
  });
  const current = () => settings.get();
  const store = await ImageStore.open(dataDir);
  tuneSharp(settings.get());
  settings.on('change', tuneSharp);
  const budget = memoryBudget(settings.get(), automatic);
  options.log.info(budget ? `memory budget ${budget.mb} MB (${budget.origin})` : 'memory budget: none (enable_memory_optimization off)');
  const images = new ImageWorker({ idleMs: () => settings.get().image_worker_idle_seconds * 1000, env: options.env, exec: options.workerExec });
  const labelWorker = new LabelWorker({ idleMs: () => settings.get().labels_worker_idle_seconds * 1000, exec: options.workerExec });
  const queue = new ProcessingQueue({
    concurrency: () => processingConcurrency(settings.get()),
    maxWaiting: () => settings.get().max_queue_length,
    memory: {
      budget: () => memoryBudget(settings.get(), automatic),
      // The daemon's RSS and the image worker's own memory, or what starting it will cost, and
      // the labels worker's while it runs (its start is weighed with the image that starts it).
      rssMb: () => ownResidentBytes() / (1024 * 1024) + images.privateMb() + labelWorker.privateMb(),
      restMb: DAEMON_AT_REST_MB,
    },
  });
  const storeEvents = new StoreEventBus(log);
  // Frames are weighed by the processing queue's memory admission, as uploads are.
  const frames = new FrameStore(store, queue);
  const displays = new Displays({ store, frames, log, dataDir, profiles: () => completeProfiles(settings.get().displays) });
  // MQTT is built first, since the consumer publishes through it; the parts it calls are built below.
  const mqtt: MqttService = new MqttService({
    settings: () => mqttSettingsFrom(settings.get()),
    store, log,
    intake: { ingest: (way): Promise<UploadResult> => flow.ingest(way) },
    stats: async (): Promise<MqttStats> => {
      const status: MonitorStatus = await monitor.status();
      const pending: number = consumers.status().mqtt?.pending ?? 0;
      return { rss_mb: status.memory_rss_mb, cpu_percent: status.cpu_percent, images: status.store.images, queue_length: queue.queued, mqtt_pending: pending };
    },
    onConnected: (): void => consumers.runner('mqtt')?.wake(),
  });
  const labels: Labels = new Labels({
    store, settings: current, worker: labelWorker, log, modelsDir: options.modelsDir,
    // Read from disk in the background: a search waits for it, a start does not.
    embeddings: EmbeddingIndex.open(dataDir),
    clipEmbeddings: EmbeddingIndex.openClip(dataDir),
    isPending: (id): boolean => consumers.runner('labels')?.isPending(id) ?? false,
    // Weighed by the processing queue's memory admission, as uploads are.
    admit: (task, costMb) => queue.run(task, costMb),
    publish: (image, found) => void mqtt.publisher.labelled(image, found, settings.get().label_sensor_seconds)
      .catch((err) => log.debug(`mqtt: labelled event not sent: ${(err as Error).message}`)),
  });
  const s3: S3Forwarder = new S3Forwarder({ store, settings: current, log, consumer: (): ConsumerStatus | undefined => consumers.runner('s3')?.status() });
  const consumers: Consumers = new Consumers(consumerFactories({ displays, mqtt, labels, log, s3 }), {
    store, log, dataDir,
    // local_retention until_forwarded: each forwarded image may free its local copy.
    delivered: (consumer) => { if (consumer.forwards && current().local_retention === 'until_forwarded') void retention.afterForwarded(); },
  });
  const retention = new Retention({
    store, settings: current, log,
    isPending: (id) => consumers.isPending(id),
    isForwarded: (id) => consumers.isForwarded(id),
    removed: (images) => storeEvents.removed(images, 'retention'),
  });
  const similarity = new Similarity({ store, log, busy: () => queue.inFlight > 0 });
  similarity.start();
  const features = new FeatureMatcher({ idleMs: () => settings.get().feature_worker_idle_seconds * 1000, maxWaiting: 4, exec: options.workerExec });
  const flow = new UploadFlow({ settings: current, pipeline: images.process, store, queue, retention, storeEvents, duplicates: similarity });
  const removal = new ImageRemoval(store, storeEvents);
  const thumbnails = await Thumbnails.open(store);
  // The monitor samples from now on, so that the first page opened already has a chart.
  const monitor = new Monitor({
    queue, store, settings, retention,
    consumers: () => consumers.status(),
    imageWorker: () => images.status(),
    parts: statusParts({ similarity, features, mqtt, labels, s3 }),
  });
  similarity.registerMetrics(monitor.metrics.registry);
  flow.cost.registerMetrics(monitor.metrics.registry, METRIC_PREFIX);
  monitor.start();
  storeEvents.observe(storeObservers({ monitor, thumbnails, consumers, similarity, features, mqtt, displays, log, frames, labels, s3 }));
  await consumers.sync(settings.get());
  settings.on('change', (changed) => void consumers.sync(changed));
  // Connects in the background: a broker that is down never holds up the start or an upload.
  await mqtt.start();
  settings.on('change', () => void mqtt.update());
  return {
    settings, store, flow, removal, thumbnails, retention, monitor, consumers, mqtt, similarity, features, imageWorker: images, log, apiToken: options.apiToken,
    logs: options.logs ?? new LogRing(), frames, displays, labels,
  };
}
