import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { filesIn, form, postImage, startTestApp, type TestApp } from '../helpers/test-app';
import { scene, variantOf } from '../helpers/scenes';
import { computeSignature } from '../../server/similarity/signature';

let app: TestApp;
const ids: Record<string, string> = {};

before(async () => {
  app = await startTestApp();
  for (const [name, seed] of [['a', 301], ['b', 302], ['c', 303]] as const) {
    const res = await postImage(app, await scene(seed, 320, 240), `?source=cam-${name}`, 'image/png');
    assert.equal(res.status, 201);
    ids[name] = ((await res.json()) as { images: Array<{ id: string }> }).images[0].id;
  }
});
after(() => app.destroy());

interface Answer { query: string | null; results: Array<{ image: { id: string; signature: { phash: string } }; distance: number; similarity: number }> }

test('every stored image carries its signature once hashed, the one its stored PNG gives', async () => {
  await app.deps.similarity.settled();
  const meta = (await (await app.fetch(`/images/${ids.a}/meta`)).json()) as { signature: { phash: string; colors: string } };
  assert.match(meta.signature.phash, /^[0-9a-f]{16}$/);
  assert.match(meta.signature.colors, /^[0-9a-f]{24}$/);
  assert.deepEqual(meta.signature, await computeSignature(app.deps.store.pngPath(ids.a)));
});

test('a new image is hashed after its upload is answered, and a query asked at once waits for it', async () => {
  const fresh = await startTestApp();
  try {
    // Straight to the server: the helper's fetch would wait for the hashing.
    const res = await fetch(`${fresh.url}/images?source=cam-x`, { method: 'POST', body: await scene(311, 320, 240), headers: { 'Content-Type': 'image/png' } });
    assert.equal(res.status, 201);
    const { images: [stored] } = (await res.json()) as { images: Array<{ id: string; signature?: unknown }> };
    // Asked before anything else: answered from the image's signature, never "not hashed yet".
    const similar = await fetch(`${fresh.url}/images/${stored.id}/similar`);
    assert.equal(similar.status, 200);
    assert.equal(((await similar.json()) as Answer).query, stored.id);
    const record = fresh.deps.store.get(stored.id)!;
    assert.deepEqual(record.signature, await computeSignature(fresh.deps.store.pngPath(stored.id)));
    assert.ok(fresh.deps.similarity.index.has(stored.id));
    const status = (await (await fresh.fetch('/memory_status')).json()) as { similarity: { hashing: { pending: number; done: number; failed: number } } };
    assert.deepEqual(status.similarity.hashing, { pending: 0, done: 1, failed: 0 });
  } finally {
    await fresh.destroy();
  }
});

test('GET /images/:id/similar lists the others nearest first, without the query image', async () => {
  const res = await app.fetch(`/images/${ids.a}/similar?limit=10`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as Answer;
  assert.equal(body.query, ids.a);
  assert.deepEqual(body.results.map((r) => r.image.id).sort(), [ids.b, ids.c].sort());
  assert.ok(body.results[0].distance <= body.results[1].distance);
  for (const r of body.results) assert.equal(r.similarity, Math.round((1 - r.distance / 64) * 1000) / 1000);
  const none = (await (await app.fetch(`/images/${ids.a}/similar?max_distance=0`)).json()) as Answer;
  assert.deepEqual(none.results, []);
});

test('POST /search finds the stored scene from a re-encoded copy and stores nothing', async () => {
  const before = await filesIn(app.dataDir);
  const query = await variantOf(await scene(302, 320, 240), 'jpeg_q30');
  const res = await app.fetch('/search?top_k=1', { method: 'POST', body: query, headers: { 'Content-Type': 'image/jpeg' } });
  assert.equal(res.status, 200);
  const body = (await res.json()) as Answer;
  assert.equal(body.query, null);
  assert.equal(body.results.length, 1);
  assert.equal(body.results[0].image.id, ids.b);
  assert.ok(body.results[0].distance <= 10);
  assert.deepEqual(await filesIn(app.dataDir), before);
  assert.equal(app.deps.store.totals().count, 3);
});

test('POST /search takes a multipart file and filters by source', async () => {
  const query = await scene(302, 320, 240);
  const res = await app.fetch('/search?source=cam-c', { method: 'POST', body: form([query], 'file') });
  assert.equal(res.status, 200);
  const body = (await res.json()) as Answer;
  assert.deepEqual(body.results.map((r) => r.image.id), [ids.c]);
});

test('bad input: unknown id 404, bad parameters 400, not an image 415, corrupt 422, nothing stored', async () => {
  const before = await filesIn(app.dataDir);
  assert.equal((await app.fetch('/images/20260101T000000000-0000-abcd/similar')).status, 404);
  assert.equal((await app.fetch(`/images/${ids.a}/similar?limit=0`)).status, 400);
  assert.equal((await app.fetch(`/images/${ids.a}/similar?max_distance=65`)).status, 400);
  const text = await app.fetch('/search', { method: 'POST', body: 'hello', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(text.status, 415);
  const png = await scene(304, 64, 48);
  const corrupt = await app.fetch('/search', { method: 'POST', body: png.subarray(0, 200), headers: { 'Content-Type': 'image/png' } });
  assert.equal(corrupt.status, 422);
  const empty = await app.fetch('/search', { method: 'POST', body: new Uint8Array(0), headers: { 'Content-Type': 'image/png' } });
  assert.equal(empty.status, 400);
  assert.deepEqual(await filesIn(app.dataDir), before);
});

test('a deleted image leaves the results', async () => {
  assert.equal((await app.fetch(`/images/${ids.c}`, { method: 'DELETE' })).status, 204);
  const body = (await (await app.fetch(`/images/${ids.a}/similar`)).json()) as Answer;
  assert.deepEqual(body.results.map((r) => r.image.id), [ids.b]);
  assert.equal(app.deps.similarity.index.has(ids.c), false);
});

test('near-duplicates: dropped per source with duplicate_max_distance set, stored with it off; counted', async () => {
  const dup = await startTestApp({ settings: { duplicate_max_distance: 10 } });
  try {
    const still = await scene(601, 320, 240);
    const first = await postImage(dup, still, '?source=door', 'image/png');
    assert.equal(first.status, 201);
    const [firstImage] = ((await first.json()) as { images: Array<{ id: string; signature?: unknown }> }).images;
    const firstId = firstImage.id;
    // Hashed before it was stored, since the decision needed it: the answer carries it.
    assert.deepEqual(firstImage.signature, await computeSignature(dup.deps.store.pngPath(firstId)));
    // The same still, re-encoded: not stored.
    const again = await postImage(dup, await variantOf(still, 'jpeg_q30'), '?source=door');
    assert.equal(again.status, 200);
    const body = (await again.json()) as { images: unknown[]; duplicates: Array<{ duplicate_of: string; distance: number }> };
    assert.deepEqual(body.images, []);
    assert.equal(body.duplicates.length, 1);
    assert.equal(body.duplicates[0].duplicate_of, firstId);
    assert.ok(body.duplicates[0].distance <= 10);
    // /upload, two files: the repeat is dropped, the new scene stored; each decided on its own.
    const upload = await dup.fetch('/upload?source=door', { method: 'POST', body: form([still, await scene(602, 320, 240)], 'file') });
    assert.equal(upload.status, 200);
    const mixed = (await upload.json()) as { status: string; images: Array<{ id: string }>; duplicates: unknown[] };
    assert.equal(mixed.status, 'success');
    assert.equal(mixed.images.length, 1);
    assert.equal(mixed.duplicates.length, 1);
    // Another source is its own series.
    assert.equal((await postImage(dup, still, '?source=yard', 'image/png')).status, 201);
    assert.equal(dup.deps.store.totals().count, 3);
    const status = (await (await dup.fetch('/memory_status')).json()) as { similarity: { duplicates: Record<string, number>; indexed_images: number } };
    assert.deepEqual(status.similarity.duplicates, { door: 2 });
    assert.equal(status.similarity.indexed_images, 3);
    const metrics = await (await dup.fetch('/metrics')).text();
    assert.match(metrics, /image_receiver_duplicates_total\{source="door"\} 2/);
    // Off again: the same still is stored.
    await dup.fetch('/config', { method: 'POST', body: JSON.stringify({ duplicate_max_distance: 0 }), headers: { 'Content-Type': 'application/json' } });
    assert.equal((await postImage(dup, still, '?source=door', 'image/png')).status, 201);
  } finally {
    await dup.destroy();
  }
});
