import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreEventBus } from '../../server/consumers/store-event-bus';
import type { ConsumerStatus } from '../../server/store-events';
import type { StoreObserver } from '../../server/store-events';
import { processImage } from '../../server/pipeline/process-image';
import { ProcessingQueue } from '../../server/memory/processing-queue';
import { SettingsStore } from '../../server/settings';
import { ImageStore, type StoredImage } from '../../server/storage/image-store';
import { Retention } from '../../server/storage/retention';
import { UploadFlow } from '../../server/upload/upload-flow';
import { silentLogger } from '../../server/log';
import { photoLike } from './fixtures';

/** A real upload flow over a temporary data dir, without HTTP, for the monitoring modules to watch. */
export interface TestPipeline {
  flow: UploadFlow;
  store: ImageStore;
  settings: SettingsStore;
  queue: ProcessingQueue;
  retention: Retention;
  /** No durable consumers here. */
  consumers: () => Record<string, ConsumerStatus>;
  /** Adds observers of the flow, as server/store-parts.ts lists them in the daemon. */
  watch(...observers: StoreObserver[]): void;
  /** Runs one generated JPEG through the flow; resolves once the observers have heard of it. */
  storeImage(source: string): Promise<StoredImage>;
  remove(): Promise<void>;
}

export async function openPipeline(): Promise<TestPipeline> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pir-monitoring-'));
  const settings = await SettingsStore.open({ base: [], runtimeFile: join(dataDir, 'settings.json') });
  const store = await ImageStore.open(dataDir);
  const queue = new ProcessingQueue({ concurrency: () => 1, maxWaiting: () => 4 });
  const retention = new Retention({ store, settings: () => settings.get(), log: silentLogger });
  const storeEvents = new StoreEventBus(silentLogger);
  const observers: StoreObserver[] = [];
  // In process: the monitoring modules watch the flow, not where its pipeline runs.
  const flow = new UploadFlow({ settings: () => settings.get(), pipeline: processImage, store, queue, retention, storeEvents });
  return {
    flow,
    retention,
    store,
    settings,
    queue,
    consumers: () => ({}),
    watch(...added) {
      observers.push(...added);
      storeEvents.observe(observers);
    },
    async storeImage(source) {
      const { images } = await flow.ingest({
        names: () => ({ source }),
        receive: async (dir) => {
          const file = join(dir, 'upload');
          await writeFile(file, await photoLike(64, 48));
          return { inputs: [file] };
        },
      });
      // Observers hear of a commit in the turn after its answer (upload-flow.ts).
      await new Promise((resolve) => setImmediate(resolve));
      return images[0];
    },
    remove: () => rm(dataDir, { recursive: true, force: true }),
  };
}
