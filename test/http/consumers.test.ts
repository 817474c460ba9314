import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { solidPng } from '../helpers/fixtures';
import { postImage, startTestApp } from '../helpers/test-app';

interface ConsumerState { pending: number; delivered: number; skipped: number; failures: number; last_error: string | null; cursor: string | null }

/** Polls for at most 15 s. */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('durable consumers through the app', () => {
  it('never fail an upload, hold retention by count but not by storage, and show their state everywhere', async () => {
    // The log's folder does not exist yet: the consumer fails until it does.
    const app = await startTestApp();
    const folder = join(app.dataDir, 'audit');
    const file = join(folder, 'ids.log');
    await app.destroy();
    const daemon = await startTestApp({ dataDir: app.dataDir, settings: { id_log_file: file, max_stored_images: 1 } });
    const state = async (): Promise<ConsumerState> =>
      ((await (await daemon.fetch('/memory_status')).json()) as { consumers: Record<string, ConsumerState> }).consumers['id-log'];
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await postImage(daemon, await solidPng(8 + i, 8), '', 'image/png');
        assert.equal(res.status, 201, 'a failing consumer never fails an upload');
        ids.push(((await res.json()) as { images: Array<{ id: string }> }).images[0].id);
      }
      await until(async () => (await state()).failures > 0, 'a failure');
      const failing = await state();
      assert.match(failing.last_error ?? '', /ENOENT/);
      assert.equal(failing.pending, 3);
      // max_stored_images is 1, but nothing was handled yet, so all three stay.
      const listed = async () => ((await (await daemon.fetch('/images')).json()) as { images: Array<{ id: string }> }).images.map((image) => image.id).reverse();
      assert.deepEqual(await listed(), ids);
      const metrics = await (await daemon.fetch('/metrics')).text();
      assert.match(metrics, /image_receiver_consumer_pending_images\{consumer="id-log"\} 3/);
      assert.match(metrics, /image_receiver_consumer_failures_total\{consumer="id-log"\} [1-9]/);
      const page = await (await daemon.fetch('/memory_status', { headers: { Accept: 'text/html' } })).text();
      assert.match(page, /<tr data-consumer="id-log"><th scope="row" class="mono">id-log<\/th><td class="num">3<\/td>/);

      // The folder appears: the next upload wakes the consumer, which catches up in order.
      await mkdir(folder);
      const res = await postImage(daemon, await solidPng(20, 8), '', 'image/png');
      ids.push(((await res.json()) as { images: Array<{ id: string }> }).images[0].id);
      await until(async () => (await state()).pending === 0, 'the consumer to catch up');
      assert.deepEqual((await readFile(file, 'utf8')).split('\n').filter(Boolean), ids);
      // Now handled, the older ones go at the next upload's retention run.
      const last = await postImage(daemon, await solidPng(21, 8), '', 'image/png');
      const lastId = ((await last.json()) as { images: Array<{ id: string }> }).images[0].id;
      assert.deepEqual(await listed(), [lastId]);
      assert.equal((await state()).skipped, 0);
    } finally {
      await daemon.destroy();
    }
  });

  it('count an image removed before its turn as skipped', async () => {
    const app = await startTestApp();
    const file = join(app.dataDir, 'missing', 'ids.log');
    await app.close();
    const daemon = await startTestApp({ dataDir: app.dataDir, settings: { id_log_file: file } });
    try {
      const res = await postImage(daemon, await solidPng(8, 8), '', 'image/png');
      const id = ((await res.json()) as { images: Array<{ id: string }> }).images[0].id;
      assert.equal((await daemon.fetch(`/images/${id}`, { method: 'DELETE' })).status, 204);
      const status = (await (await daemon.fetch('/memory_status')).json()) as { consumers: Record<string, ConsumerState> };
      assert.equal(status.consumers['id-log'].skipped, 1);
      assert.equal(status.consumers['id-log'].pending, 0);
    } finally {
      await daemon.destroy();
    }
  });
});
