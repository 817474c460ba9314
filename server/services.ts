import type { AppDeps } from './app';
import type { Logger } from './log';
import { LogRing } from './logs/log-ring';
import { Displays } from './display/displays';
import { FrameStore } from './display/frame-store';
import type { DisplayProfile } from './display/profiles';
import { Monitor } from './monitoring/monitor';
import { Ingest } from './pipeline/ingest';
import { ProcessingQueue } from './pipeline/queue';
import { processingConcurrency, tuneSharp } from './pipeline/sharp-tuning';
import { SettingsStore, type SettingsInput } from './settings';
import { ImageStore } from './storage/image-store';
import { Retention } from './storage/retention';

export interface ServiceOptions {
  dataDir: string;
  runtimeConfigFile: string;
  /** Settings layers below runtime updates, lowest first (operator file, environment). */
  settingsLayers: SettingsInput[];
  log: Logger;
  /** The ring the logger feeds (see createLogger's tap); a new, empty one when not given. */
  logs?: LogRing;
  /** The API token, when access control is on. */
  apiToken?: string;
}

/**
 * Opens the settings and the store and wires the queue and ingest to them: the daemon's parts,
 * ready for createApp(). main.ts and the tests build the daemon the same way through here.
 */
export async function openServices(options: ServiceOptions): Promise<AppDeps> {
  const settings = await SettingsStore.open({ base: options.settingsLayers, runtimeFile: options.runtimeConfigFile });
  const store = await ImageStore.open(options.dataDir);
  tuneSharp(settings.get());
  settings.on('change', tuneSharp);
  const queue = new ProcessingQueue({
    concurrency: () => processingConcurrency(settings.get()),
    maxWaiting: () => settings.get().max_queue_length,
  });
  const ingest = new Ingest(() => settings.get(), store, queue);
  const retention = new Retention({ store, settings: () => settings.get(), log: options.log });
  // Held from the moment it is committed, so that no other upload's retention run removes it
  // before its own upload is answered.
  ingest.on('stored', (image) => retention.hold(image.id));
  // The monitor samples from now on, so that the first page opened already has a chart.
  const monitor = new Monitor({ ingest, store, settings, retention });
  monitor.start();
  const frames = new FrameStore(store);
  const displays = new Displays({
    store, frames, log: options.log, dataDir: options.dataDir,
    profiles: () => (settings.get() as { displays?: readonly DisplayProfile[] }).displays ?? [],
  });
  return { settings, store, ingest, retention, monitor, log: options.log, logs: options.logs ?? new LogRing(), frames, displays, apiToken: options.apiToken };
}
