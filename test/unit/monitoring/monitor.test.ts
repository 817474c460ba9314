import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Monitor, type HistoryPoint, type MonitorStatus } from '../../../server/monitoring/monitor';
import { openPipeline, type TestPipeline } from '../../helpers/test-pipeline';

/** Waits for `count` samples, giving up after 10 s so that a broken timer fails instead of hanging. */
async function samples(monitor: Monitor, count: number): Promise<Array<[MonitorStatus, HistoryPoint]>> {
  const seen: Array<[MonitorStatus, HistoryPoint]> = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.length} of ${count} samples in 10 s`)), 10_000);
    const onSample = (status: MonitorStatus, point: HistoryPoint): void => {
      seen.push([status, point]);
      if (seen.length < count) return;
      clearTimeout(timer);
      monitor.off('sample', onSample);
      resolve();
    };
    monitor.on('sample', onSample);
  });
  return seen;
}

describe('Monitor', () => {
  let pipeline: TestPipeline;
  before(async () => {
    pipeline = await openPipeline();
  });
  after(() => pipeline.remove());

  it('samples on its timer into a bounded history, each point matching its status', async () => {
    const monitor = new Monitor({ ...pipeline, intervalMs: 20, historyLength: 5 });
    monitor.start();
    try {
      const seen = await samples(monitor, 7);
      assert.equal(monitor.history.length, 5);
      const columns = monitor.history.toColumns();
      const last = seen.map(([, point]) => point).slice(-5);
      assert.deepEqual(columns.t, last.map((point) => point.t));
      assert.deepEqual(columns.rss_mb, last.map((point) => point.rss_mb));
      for (const [status, point] of seen) {
        assert.equal(point.rss_mb, status.memory_rss_mb);
        assert.equal(point.t, Date.parse(status.sampled_at) / 1000);
        assert.ok(status.process.rss_bytes > 0);
      }
      assert.ok(columns.t.every((t, i) => i === 0 || t! > columns.t[i - 1]!), 'time runs forward');
    } finally {
      monitor.stop();
    }
  });

  it('reports the settings, the store and the processing counters in each status', async () => {
    const monitor = new Monitor({ ...pipeline, intervalMs: 60_000 });
    pipeline.watch(monitor.ingestStats);
    try {
      const image = await pipeline.storeImage('cam-m');
      const status = await monitor.sample();
      assert.deepEqual(status.config, pipeline.settings.get());
      assert.equal(status.processing.stored, 1);
      assert.equal(status.processing.bytes_stored, image.bytes);
      assert.deepEqual(status.store, { images: pipeline.store.totals().count, bytes: pipeline.store.totals().bytes });
      assert.equal(typeof status.libvips.cache.memory.current, 'number');
      assert.equal(typeof status.libvips.counters.queue, 'number');
      // A fresh reading of the process is reused, but the counters are always current.
      await pipeline.storeImage('cam-m');
      const reused = await monitor.status(60_000);
      assert.equal(reused.sampled_at, status.sampled_at);
      assert.equal(reused.processing.stored, 2);
      // An old reading is taken again.
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.ok(Date.parse((await monitor.status(1)).sampled_at) > Date.parse(status.sampled_at));
      assert.equal(monitor.history.length, 1, 'status() does not add to the history');
    } finally {
      monitor.stop();
    }
  });

  it('stops sampling and tells its listeners when stopped', async () => {
    const monitor = new Monitor({ ...pipeline, intervalMs: 10 });
    monitor.start();
    await samples(monitor, 1);
    const stopped = once(monitor, 'stop');
    monitor.stop();
    await stopped;
    const length = monitor.history.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(monitor.history.length, length);
  });
});
