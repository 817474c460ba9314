import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { THUMBNAIL_SIZE } from '../../server/thumbnails/thumbnails';
import { photoLike, solidPng } from '../helpers/fixtures';
import { postImage, startTestApp, statusOf, type TestApp } from '../helpers/test-app';

async function upload(app: TestApp, image: Buffer): Promise<string> {
  const res = await postImage(app, image);
  assert.equal(res.status, 201);
  return ((await res.json()) as { images: Array<{ id: string }> }).images[0].id;
}

describe('GET /images/:id/thumbnail', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.destroy());

  it('makes a WebP of at most 320 px once, keeps it on disk, and serves it again', async () => {
    const id = await upload(app, await photoLike(1000, 600));
    const file = join(app.dataDir, 'thumbs', `${id}.webp`);
    assert.equal(existsSync(file), false, 'no thumbnail before it is asked for');

    const res = await app.fetch(`/images/${id}/thumbnail`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/webp');
    const bytes = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', THUMBNAIL_SIZE, 192]);
    assert.deepEqual(await readFile(file), bytes);
    const png = (await app.fetch(`/images/${id}`)).headers.get('content-length');
    assert.ok(bytes.length < Number(png) / 4, `thumbnail ${bytes.length} B vs PNG ${png} B`);

    const again = await app.fetch(`/images/${id}/thumbnail`);
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), bytes);
    const etag = again.headers.get('etag')!;
    assert.equal(await statusOf(`${app.url}/images/${id}/thumbnail`, { 'If-None-Match': etag }), 304);
  });

  it('never enlarges a small image', async () => {
    const id = await upload(app, await solidPng(100, 40));
    const meta = await sharp(Buffer.from(await (await app.fetch(`/images/${id}/thumbnail`)).arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [100, 40]);
  });

  it('is removed with its image, one at a time or all at once', async () => {
    const one = await upload(app, await photoLike(400, 300));
    const two = await upload(app, await photoLike(400, 300, 'jpeg', 2));
    for (const id of [one, two]) assert.equal((await app.fetch(`/images/${id}/thumbnail`)).status, 200);
    assert.equal((await app.fetch(`/images/${one}`, { method: 'DELETE' })).status, 204);
    assert.equal(existsSync(join(app.dataDir, 'thumbs', `${one}.webp`)), false);
    assert.equal((await app.fetch(`/images/${one}/thumbnail`)).status, 404);
    assert.equal(existsSync(join(app.dataDir, 'thumbs', `${two}.webp`)), true);
    assert.equal((await app.fetch('/images?confirm=all', { method: 'DELETE' })).status, 200);
    assert.equal(existsSync(join(app.dataDir, 'thumbs', `${two}.webp`)), false);
  });

  it('answers 404 JSON for an unknown image', async () => {
    const res = await app.fetch('/images/20260101T000000000-0000-abcd/thumbnail');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
  });

  it('removes orphan and unfinished thumbnails at start, and keeps the others', async () => {
    const id = await upload(app, await photoLike(400, 300));
    assert.equal((await app.fetch(`/images/${id}/thumbnail`)).status, 200);
    const thumbs = join(app.dataDir, 'thumbs');
    await writeFile(join(thumbs, '20250101T000000000-0000-dead.webp'), 'orphan');
    await writeFile(join(thumbs, `.tmp-${id}.webp-123456`), 'unfinished');
    app = await app.restart();
    assert.equal(existsSync(join(thumbs, '20250101T000000000-0000-dead.webp')), false);
    assert.equal(existsSync(join(thumbs, `.tmp-${id}.webp-123456`)), false);
    assert.equal(existsSync(join(thumbs, `${id}.webp`)), true);
  });
});
