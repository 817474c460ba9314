import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ProcessingQueue } from '../../../server/pipeline/queue';
import { estimateWorkingSetMb, readImageHeader } from '../../../server/pipeline/working-set';
import { photoLike } from '../../helpers/fixtures';
import { openPipeline, type TestPipeline } from '../../helpers/test-pipeline';

describe('the working-set estimate in the upload path', () => {
  let pipeline: TestPipeline;
  before(async () => { pipeline = await openPipeline(); });
  after(() => pipeline.remove());

  /** Writes `bytes` as an upload in a fresh temp dir of the store. */
  async function upload(bytes: Buffer): Promise<{ dir: string; file: string }> {
    const dir = await pipeline.store.createTempDir();
    const file = join(dir, 'upload');
    await writeFile(file, bytes);
    return { dir, file };
  }

  it('reads the format and dimensions from the header, and null for what is no image', async () => {
    assert.deepEqual(await readImageHeader((await upload(await photoLike(300, 200, 'png'))).file), { format: 'png', width: 300, height: 200 });
    assert.deepEqual(await readImageHeader((await upload(await photoLike(120, 90, 'webp'))).file), { format: 'webp', width: 120, height: 90 });
    assert.equal(await readImageHeader((await upload(Buffer.from('not an image at all'))).file), null);
    const jpeg = await photoLike(400, 300);
    assert.equal(await readImageHeader((await upload(jpeg.subarray(0, 40))).file), null);
  });

  it('hands the queue each upload\'s estimate before it is admitted', async () => {
    // The pipeline's own queue, watched: what each run() is asked to weigh.
    const costs: number[] = [];
    const run = ProcessingQueue.prototype.run;
    pipeline.queue.run = function <T>(this: ProcessingQueue, task: () => Promise<T>, costMb?: number): Promise<T> {
      costs.push(costMb ?? NaN);
      return run.call(this, task, costMb) as Promise<T>;
    };
    const { dir, file } = await upload(await photoLike(800, 600));
    const stored = await pipeline.ingest.ingest(file, dir, { source: 'test', capturedAt: null, receivedAt: new Date().toISOString() });
    assert.equal(stored.width, 800);
    const garbage = await upload(Buffer.from('GIF89a but nothing else'));
    await assert.rejects(pipeline.ingest.ingest(garbage.file, garbage.dir, { source: 'test', capturedAt: null, receivedAt: new Date().toISOString() }),
      { code: 'invalid_image' });
    const settings = pipeline.settings.get();
    assert.deepEqual(costs, [estimateWorkingSetMb({ format: 'jpeg', width: 800, height: 600 }, settings), 0]);
  });
});
