import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../../server/log';
import { Similarity, UPLOAD_PAUSE_MS } from '../../../server/similarity/similarity';

/** Images of the test pipeline (64 x 48) that may wait for their hash: the backlog is given in megapixels, half an image over. */
const BACKLOG = 16;
const BACKLOG_MP = ((BACKLOG + 0.5) * 64 * 48) / 1e6;
import { isSignature } from '../../../server/similarity/signature';
import { openPipeline, type TestPipeline } from '../../helpers/test-pipeline';

let pipeline: TestPipeline;
before(async () => { pipeline = await openPipeline(); });
after(() => pipeline.remove());

/** Lets the hashing loop run: several turns of the event loop and a few ms of timers. */
async function letItRun(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Waits until `check` holds, for at most 10 s (it holds in well under a second). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 20) {
    if (waited > 10_000) assert.fail(`still not ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('new images wait for their hash while uploads are processed, unless a query or the backlog needs it', async () => {
  let busy = true;
  const similarity = new Similarity({ store: pipeline.store, log: silentLogger, busy: () => busy, backlogMp: BACKLOG_MP });
  similarity.start();
  pipeline.watch(similarity);
  try {
    // Uploads in flight: the two new images are not hashed, however long the loop runs.
    const first = [await pipeline.storeImage('cam'), await pipeline.storeImage('cam')];
    await letItRun();
    assert.deepEqual(similarity.hashing, { pending: 2, done: 0, failed: 0 });
    assert.equal(pipeline.store.get(first[0].id)!.signature, undefined);

    // A query waiting for them has them hashed at once, uploads or not.
    await similarity.settled();
    assert.deepEqual(similarity.hashing, { pending: 0, done: 2, failed: 0 });
    for (const image of first) assert.ok(isSignature(pipeline.store.get(image.id)!.signature));
    assert.equal(similarity.index.size, 2);

    // Past the backlog, each new image has one hashed beside the uploads.
    for (let i = 0; i < BACKLOG + 3; i++) await pipeline.storeImage('cam');
    await until(() => similarity.hashing.pending === BACKLOG, `down to the backlog (${JSON.stringify(similarity.hashing)})`);
    await letItRun();
    assert.deepEqual(similarity.hashing, { pending: BACKLOG, done: 5, failed: 0 });

    // Once no upload is processed, the rest is hashed without anyone asking.
    busy = false;
    await until(() => similarity.hashing.pending === 0, 'all hashed');
    assert.deepEqual(similarity.hashing, { pending: 0, done: BACKLOG + 5, failed: 0 });
    assert.equal(similarity.index.size, BACKLOG + 5);

    // Right after an upload, with none in flight, the hash still waits for the uploads to pause:
    // one client's next image may be on its way.
    await pipeline.storeImage('cam');
    await letItRun();
    assert.deepEqual(similarity.hashing, { pending: 1, done: BACKLOG + 5, failed: 0 });
    await until(() => similarity.hashing.pending === 0, `hashed after a pause of ${UPLOAD_PAUSE_MS} ms`);
  } finally {
    similarity.stop();
  }
});
