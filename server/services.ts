import type { AppDeps } from './app';
import type { Logger } from './log';
import { Monitor } from './monitoring/monitor';
import { Ingest } from './pipeline/ingest';
import { automaticBudget, memoryBudget, readSystemMemory } from './pipeline/memory-budget';
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
  // Read once at start: the cgroup's limits, or the memory available then (memory-budget.ts).
  const automatic = automaticBudget(readSystemMemory());
  const budget = memoryBudget(settings.get(), automatic);
  options.log.info(budget ? `memory budget ${budget.mb} MB (${budget.origin})` : 'memory budget: none (enable_memory_optimization off)');
  const queue = new ProcessingQueue({
    concurrency: () => processingConcurrency(settings.get()),
    maxWaiting: () => settings.get().max_queue_length,
    memory: {
      budgetMb: () => memoryBudget(settings.get(), automatic)?.mb ?? null,
      rssMb: () => process.memoryUsage.rss() / (1024 * 1024),
    },
  });
  const ingest = new Ingest(() => settings.get(), store, queue);
  const retention = new Retention({ store, settings: () => settings.get(), log: options.log });
  // Held from the moment it is committed, so that no other upload's retention run removes it
  // before its own upload is answered.
  ingest.on('stored', (image) => retention.hold(image.id));
  // The monitor samples from now on, so that the first page opened already has a chart.
  const monitor = new Monitor({ ingest, store, settings, retention });
  monitor.start();
  return { settings, store, ingest, retention, monitor, log: options.log, apiToken: options.apiToken };
}
