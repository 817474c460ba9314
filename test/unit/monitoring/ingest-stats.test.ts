import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../../server/errors';
import { IngestStats } from '../../../server/monitoring/ingest-stats';
import { openPipeline, type TestPipeline } from '../../helpers/test-pipeline';

describe('IngestStats', () => {
  let pipeline: TestPipeline;
  before(async () => {
    pipeline = await openPipeline();
  });
  after(() => pipeline.remove());

  it('starts at zero, with no processing time yet', () => {
    const stats = new IngestStats(pipeline.queue);
    pipeline.watch(stats);
    assert.deepEqual(stats.read(), {
      received: 0, stored: 0, rejected: {}, rejected_total: 0, in_flight: 0, queued: 0, memory_budget: null,
      bytes_stored: 0, last_ms: null, average_ms: null,
    });
    stats.detach();
  });

  it('counts stored images, their bytes and processing times, and refusals by reason', async () => {
    const stats = new IngestStats(pipeline.queue);
    pipeline.watch(stats);
    const first = await pipeline.storeImage('cam-a');
    const second = await pipeline.storeImage('cam-b');
    pipeline.flow.reject(new AppError('invalid_image', 'corrupt'), 'cam-a');
    pipeline.flow.reject(new AppError('invalid_image', 'corrupt'), 'cam-b');
    pipeline.flow.reject(new Error('disk on fire'), 'cam-a');
    const read = stats.read();
    assert.equal(read.stored, 2);
    assert.equal(read.received, 5);
    assert.deepEqual(read.rejected, { invalid_image: 2, internal_error: 1 });
    assert.equal(read.rejected_total, 3);
    assert.equal(read.bytes_stored, first.bytes + second.bytes);
    assert.equal(read.last_ms, second.processing_ms);
    assert.equal(read.average_ms, Math.round((first.processing_ms + second.processing_ms) / 2));
    stats.detach();
  });

  it('reads the queue depth at the moment it is asked', async () => {
    const stats = new IngestStats(pipeline.queue);
    pipeline.watch(stats);
    let release!: () => void;
    const blocker = pipeline.queue.run(() => new Promise<void>((resolve) => { release = resolve; }));
    const waiting = pipeline.queue.run(async () => undefined);
    assert.equal(stats.read().in_flight, 1);
    assert.equal(stats.read().queued, 1);
    release();
    await Promise.all([blocker, waiting]);
    assert.deepEqual([stats.read().in_flight, stats.read().queued], [0, 0]);
    stats.detach();
  });

  it('stops counting once detached', async () => {
    const stats = new IngestStats(pipeline.queue);
    pipeline.watch(stats);
    stats.detach();
    await pipeline.storeImage('cam-a');
    assert.equal(stats.read().stored, 0);
  });
});
