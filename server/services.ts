import type { AppDeps } from './app';
import { AfterStore } from './consumers/after-store';
import { Consumers } from './consumers/consumers';
import { CONSUMERS, storeObservers } from './consumers/index';
import type { Logger } from './log';
import { LogRing } from './logs/log-ring';
import { Displays } from './display/displays';
import { FrameStore } from './display/frame-store';
import { completeProfiles } from './display/profiles';
import { Monitor } from './monitoring/monitor';
import { ProcessingQueue } from './pipeline/queue';
import { processingConcurrency, tuneSharp } from './pipeline/sharp-tuning';
import { Thumbnails } from './pipeline/thumbnails';
import { SettingsStore, type SettingsInput } from './settings';
import { ImageStore } from './storage/image-store';
import { Retention } from './storage/retention';
import { ImageRemoval } from './upload/image-removal';
import { UploadFlow } from './upload/upload-flow';

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
}

/**
 * Opens the settings and the store and wires the upload flow, its observers and the durable
 * consumers to them: the daemon's parts, ready for createApp(). main.ts and the tests build the
 * daemon the same way through here.
 */
export async function openServices(options: ServiceOptions): Promise<AppDeps> {
  const { log, dataDir } = options;
  const settings = await SettingsStore.open({ base: options.settingsLayers, runtimeFile: options.runtimeConfigFile });
  const current = () => settings.get();
  const store = await ImageStore.open(dataDir);
  tuneSharp(settings.get());
  settings.on('change', tuneSharp);
  const queue = new ProcessingQueue({
    concurrency: () => processingConcurrency(settings.get()),
    maxWaiting: () => settings.get().max_queue_length,
  });
  const afterStore = new AfterStore(log);
  const frames = new FrameStore(store);
  const displays = new Displays({ store, frames, log, dataDir, profiles: () => completeProfiles(settings.get().displays) });
  const consumers = new Consumers(CONSUMERS, { store, settings: current, log, dataDir, displays });
  const retention = new Retention({
    store, settings: current, log,
    isPending: (id) => consumers.isPending(id),
    removed: (images) => afterStore.removed(images, 'retention'),
  });
  const flow = new UploadFlow({ settings: current, store, queue, retention, afterStore });
  const removal = new ImageRemoval(store, afterStore);
  const thumbnails = await Thumbnails.open(store);
  // The monitor samples from now on, so that the first page opened already has a chart.
  const monitor = new Monitor({ queue, store, settings, retention, consumers: () => consumers.status() });
  monitor.start();
  afterStore.observe(storeObservers({ monitor, thumbnails, consumers, log, frames }));
  await consumers.sync(settings.get());
  settings.on('change', (changed) => void consumers.sync(changed));
  return {
    settings, store, flow, removal, thumbnails, retention, monitor, consumers, log, apiToken: options.apiToken,
    logs: options.logs ?? new LogRing(), frames, displays,
  };
}
