import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ingest } from '../../server/pipeline/ingest';
import { ProcessingQueue } from '../../server/pipeline/queue';
import { SettingsStore } from '../../server/settings';
import { ImageStore, type StoredImage } from '../../server/storage/image-store';
import { Retention } from '../../server/storage/retention';
import { silentLogger } from '../../server/log';
import { photoLike } from './fixtures';

/** A real pipeline over a temporary data dir, without HTTP, for the monitoring modules to watch. */
export interface TestPipeline {
  ingest: Ingest;
  store: ImageStore;
  settings: SettingsStore;
  queue: ProcessingQueue;
  retention: Retention;
  /** Runs one generated JPEG through the pipeline. */
  storeImage(source: string): Promise<StoredImage>;
  remove(): Promise<void>;
}

export async function openPipeline(): Promise<TestPipeline> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pir-monitoring-'));
  const settings = await SettingsStore.open({ base: [], runtimeFile: join(dataDir, 'settings.json') });
  const store = await ImageStore.open(dataDir);
  const queue = new ProcessingQueue({ concurrency: () => 1, maxWaiting: () => 4 });
  const ingest = new Ingest(() => settings.get(), store, queue);
  const retention = new Retention({ store, settings: () => settings.get(), log: silentLogger });
  return {
    ingest,
    retention,
    store,
    settings,
    queue,
    async storeImage(source) {
      const dir = await store.createTempDir();
      const file = join(dir, 'upload');
      await writeFile(file, await photoLike(64, 48));
      try {
        return await ingest.ingest(file, dir, { source, capturedAt: null, receivedAt: new Date().toISOString() });
      } finally {
        await store.removeTempDir(dir);
      }
    },
    remove: () => rm(dataDir, { recursive: true, force: true }),
  };
}
