import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openPipeline } from '../../helpers/test-pipeline';
import { until } from '../../helpers/display-script';

describe('UploadFlow', () => {
  it('frees the processing slot before the store commits, so the next image is processed while one waits on the disk', async () => {
    // One image at a time: the slot is the only one.
    const pipeline = await openPipeline();
    try {
      const { store, queue } = pipeline;
      let release!: () => void;
      const disk = new Promise<void>((resolve) => { release = resolve; });
      const commits: string[] = [];
      // The commit that comes first stalls, as on a slow card; the other image's goes through.
      store.beforeWrite = async (step) => {
        if (step !== 'png') return;
        commits.push(`commit ${commits.length + 1}`);
        if (commits.length === 1) await disk;
      };
      const first = pipeline.storeImage('first');
      const second = pipeline.storeImage('second');
      await until(() => commits.length === 2, 'the second image processed and committing while the first waits on the disk');
      assert.equal(queue.inFlight, 0, 'no image holds a slot while only the disk is working');
      release();
      const [a, b] = await Promise.all([first, second]);
      assert.deepEqual([a.source, b.source], ['first', 'second']);
      assert.deepEqual(store.list({ limit: 10 }).images.map((image) => image.id).sort(), [a.id, b.id].sort());
    } finally {
      await pipeline.remove();
    }
  });
});
