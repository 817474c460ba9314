import assert from 'node:assert/strict';
import { rename, rm, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { silentLogger } from '../../server/log';
import { Retention } from '../../server/storage/retention';
import { photoLike } from '../helpers/fixtures';
import { postImage, startTestApp, statusOf, type TestApp } from '../helpers/test-app';

const MB = 1024 * 1024;

interface ReadyBody { status: string; reasons?: string[] }

async function ready(app: TestApp): Promise<{ status: number; body: ReadyBody }> {
  const res = await app.fetch('/health/ready');
  return { status: res.status, body: await res.json() as ReadyBody };
}

/** Hands the app a retention that sees a disk with `free` bytes free, as the full-disk tests do. */
function simulateFreeDisk(app: TestApp, free: number): void {
  const { store, settings } = app.deps;
  app.deps.retention = new Retention({ store, settings: () => settings.get(), log: silentLogger, freeBytes: async () => free });
}

describe('liveness and readiness', () => {
  it('answers /health/live 200 and /health/ready 200 on a working daemon, /health unchanged', async () => {
    const app = await startTestApp({ apiToken: 'health-token-0123456789', settings: { require_token_for_reads: true } });
    try {
      // A supervisor has no token: both probes are public, like /health.
      const live = await app.fetch('/health/live');
      assert.equal(live.status, 200);
      assert.deepEqual(await live.json(), { status: 'live' });
      assert.deepEqual(await ready(app), { status: 200, body: { status: 'ready' } });
      assert.deepEqual(await (await app.fetch('/health')).json(), { status: 'ok' });
    } finally {
      await app.destroy();
    }
  });

  it('answers 503 while the store is loading', async () => {
    const app = await startTestApp();
    try {
      app.deps.loading = () => true;
      const { status, body } = await ready(app);
      assert.equal(status, 503);
      assert.equal(body.status, 'not_ready');
      assert.deepEqual(body.reasons, ['The image store is still loading its index']);
      app.deps.loading = () => false;
      assert.equal((await ready(app)).status, 200);
    } finally {
      await app.destroy();
    }
  });

  it('answers 503 when the images folder cannot be written, and 200 again once it can', async () => {
    // Tests run as root, where chmod does not stop a write; a file where the folder should be does.
    const app = await startTestApp();
    const images = app.deps.store.imagesDir;
    try {
      await rename(images, `${images}.moved`);
      await writeFile(images, 'not a folder');
      const { status, body } = await ready(app);
      assert.equal(status, 503);
      assert.equal(body.status, 'not_ready');
      assert.equal(body.reasons?.length, 1);
      assert.match(body.reasons![0], /^Cannot write in the images folder: E(NOTDIR|ACCES)/);
      // The reason names the folder's role, not its path: the route is public.
      assert.ok(!body.reasons![0].includes(app.dataDir));
      await rm(images);
      await rename(`${images}.moved`, images);
      assert.deepEqual(await ready(app), { status: 200, body: { status: 'ready' } });
    } finally {
      await app.destroy();
    }
  });

  it('answers 503 when the disk is below min_free_disk_mb and removing every image would not free enough', async () => {
    const app = await startTestApp({ settings: { min_free_disk_mb: 100 } });
    try {
      simulateFreeDisk(app, 10 * MB);
      const empty = await ready(app);
      assert.equal(empty.status, 503);
      assert.match(empty.body.reasons?.[0] ?? '', /^Only 10 MB are free on the data disk, below min_free_disk_mb \(100\)/);

      // Short by 100 bytes, but a stored PNG is larger: retention would remove it, so ready.
      simulateFreeDisk(app, 100 * MB + 1);
      assert.equal((await postImage(app, await photoLike(40, 30))).status, 201);
      simulateFreeDisk(app, 100 * MB - 100);
      assert.deepEqual(await ready(app), { status: 200, body: { status: 'ready' } });
      assert.equal((await app.fetch('/images?confirm=all', { method: 'DELETE' })).status, 200);
      assert.equal((await ready(app)).status, 503);
    } finally {
      await app.destroy();
    }
  });
});

describe('GET /favicon.ico', () => {
  it('answers a cacheable 32 px icon (PNG in ICO), revalidated by its ETag', async () => {
    const app = await startTestApp({ apiToken: 'health-token-0123456789', settings: { require_token_for_reads: true } });
    try {
      const res = await app.fetch('/favicon.ico');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/x-icon');
      assert.match(res.headers.get('cache-control') ?? '', /^public, max-age=\d+$/);
      const ico = Buffer.from(await res.arrayBuffer());
      // ICONDIR: reserved 0, type 1 (icon), one image; then its entry points at the PNG.
      assert.deepEqual([ico.readUInt16LE(0), ico.readUInt16LE(2), ico.readUInt16LE(4)], [0, 1, 1]);
      const png = ico.subarray(ico.readUInt32LE(18), ico.readUInt32LE(18) + ico.readUInt32LE(14));
      const { width, height, format } = await sharp(png).metadata();
      assert.deepEqual([format, width, height], ['png', 32, 32]);
      assert.equal(await statusOf(`${app.url}/favicon.ico`, { 'If-None-Match': res.headers.get('etag')! }), 304);
    } finally {
      await app.destroy();
    }
  });
});
