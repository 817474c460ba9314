import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../helpers/daemon-process';
import { filesIn, form, postImage, startTestApp, type TestApp } from '../helpers/test-app';
import { scene, variantOf } from '../helpers/scenes';

let app: TestApp;
let sceneA: Buffer;
let croppedA: Buffer;
let sceneB: Buffer;

before(async () => {
  app = await startTestApp({ settings: { feature_worker_idle_seconds: 1 } });
  sceneA = await scene(501, 480, 360);
  croppedA = await variantOf(sceneA, 'crop_25');
  sceneB = await scene(502, 480, 360);
});
after(() => app.destroy());

function pair(a: Uint8Array, b: Uint8Array): FormData {
  const body = new FormData();
  body.append('image1', new Blob([a]), 'a.png');
  body.append('image2', new Blob([b]), 'b.jpg');
  return body;
}

interface CompareAnswer { similarity_score: number; good_matches: number; inliers: number; match_ratio: number; confidence: string; same_object: boolean; phash_distance: number | null }

test('POST /compare: a cropped copy is the same object, an unrelated scene is not; nothing stored', async () => {
  const same = await app.fetch('/compare', { method: 'POST', body: pair(sceneA, croppedA) });
  assert.equal(same.status, 200);
  const s = (await same.json()) as CompareAnswer;
  assert.equal(s.same_object, true, JSON.stringify(s));
  assert.ok(s.similarity_score > 0 && s.similarity_score <= 100);
  assert.ok(s.inliers <= s.good_matches);
  assert.notEqual(s.confidence, 'low');
  assert.ok(Number.isInteger(s.phash_distance));
  const other = (await (await app.fetch('/compare', { method: 'POST', body: pair(sceneA, sceneB) })).json()) as CompareAnswer;
  assert.equal(other.same_object, false, JSON.stringify(other));
  assert.equal(other.confidence, 'low');
  assert.ok(other.similarity_score < s.similarity_score);
  assert.deepEqual(await filesIn(app.dataDir), []);
});

test('POST /compare with stored ids, a mirrored copy matches too; unknown id 404', async () => {
  const ids: string[] = [];
  for (const image of [sceneA, await variantOf(sceneA, 'mirrored')]) {
    const res = await postImage(app, image, '', 'image/png');
    ids.push(((await res.json()) as { images: Array<{ id: string }> }).images[0].id);
  }
  const res = await app.fetch('/compare', { method: 'POST', body: JSON.stringify({ id1: ids[0], id2: ids[1] }), headers: { 'Content-Type': 'application/json' } });
  assert.equal(res.status, 200);
  const answer = (await res.json()) as CompareAnswer;
  assert.equal(answer.same_object, true, JSON.stringify(answer));
  assert.ok(answer.phash_distance! > 10, 'a mirror is far apart by hash');
  const missing = await app.fetch('/compare', { method: 'POST', body: JSON.stringify({ id1: ids[0], id2: '20260101T000000000-0000-abcd' }), headers: { 'Content-Type': 'application/json' } });
  assert.equal(missing.status, 404);
  const verified = (await (await app.fetch(`/images/${ids[0]}/similar?verify=true`)).json()) as { results: Array<{ image: { id: string }; verified?: { same_object: boolean } }> };
  assert.equal(verified.results[0].image.id, ids[1]);
  assert.equal(verified.results[0].verified?.same_object, true);
  for (const id of ids) await app.fetch(`/images/${id}`, { method: 'DELETE' });
});

test('the matcher routes: extract-features, compare-features and compare-images keep their shapes', async () => {
  const features = [];
  for (const image of [sceneA, croppedA]) {
    const res = await app.fetch('/extract-features', { method: 'POST', body: form([image]) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { success: boolean; features: { keypoints_count: number; descriptors: string; descriptors_shape: number[]; keypoints: unknown[]; image_shape: number[] } };
    assert.equal(body.success, true);
    const f = body.features;
    assert.ok(f.keypoints_count > 50 && f.keypoints_count <= 500);
    assert.deepEqual(f.descriptors_shape, [f.keypoints_count, 32]);
    assert.equal(Buffer.from(f.descriptors, 'base64').length, f.keypoints_count * 32);
    assert.equal(f.keypoints.length, f.keypoints_count);
    features.push(f);
  }
  assert.deepEqual(features[0].image_shape, [360, 480]);
  const res = await app.fetch('/compare-features', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ features1: features[0], features2: features[1] }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { success: boolean; comparison: CompareAnswer };
  assert.equal(body.success, true);
  assert.equal(body.comparison.same_object, true);
  for (const key of ['similarity_score', 'good_matches', 'confidence', 'match_ratio']) assert.ok(key in body.comparison, key);
  const images = (await (await app.fetch('/compare-images', { method: 'POST', body: pair(sceneA, sceneB) })).json()) as { success: boolean; comparison: CompareAnswer };
  assert.equal(images.success, true);
  assert.equal(images.comparison.same_object, false);
});

test('bad input: malformed features 400 with fields, not an image 415, corrupt 422, one image 400, too large 413; nothing stored, no worker started', async () => {
  const starts = app.deps.features.starts;
  const bad = await app.fetch('/compare-features', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ features1: { keypoints: [{ x: 1, y: 2 }], descriptors: 'AAAA' }, features2: 'nope' }),
  });
  assert.equal(bad.status, 400);
  const error = ((await bad.json()) as { error: { code: string; fields: Record<string, string> } }).error;
  assert.equal(error.code, 'invalid_parameter');
  assert.deepEqual(Object.keys(error.fields).sort(), ['features1.descriptors', 'features2']);
  const notJson = await app.fetch('/compare-features', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"features1":' });
  assert.equal(notJson.status, 400);
  assert.equal((await app.fetch('/compare', { method: 'POST', body: pair(Buffer.from('hello'), sceneB) })).status, 415);
  assert.equal((await app.fetch('/compare-images', { method: 'POST', body: pair(sceneA.subarray(0, 300), sceneB) })).status, 422);
  assert.equal((await app.fetch('/extract-features', { method: 'POST', body: form([]) })).status, 400);
  const one = new FormData();
  one.append('image1', new Blob([sceneA]), 'a.png');
  assert.equal((await app.fetch('/compare-images', { method: 'POST', body: one })).status, 400);
  await app.deps.settings.update({ max_upload_bytes: 4096 });
  try {
    assert.equal((await app.fetch('/compare', { method: 'POST', body: pair(sceneA, sceneB) })).status, 413);
    assert.equal((await app.fetch('/search', { method: 'POST', body: sceneA, headers: { 'Content-Type': 'image/png' } })).status, 413);
  } finally {
    await app.deps.settings.update({ max_upload_bytes: 52428800 });
  }
  assert.deepEqual(await filesIn(app.dataDir), []);
  assert.equal(app.deps.features.starts, starts, 'no refused request started the worker');
});

test('a full wait queue is 503 busy, and the worker ends after the idle time', async () => {
  const f = (await (await app.fetch('/extract-features', { method: 'POST', body: form([sceneA]) })).json()) as { features: object };
  const body = JSON.stringify({ features1: f.features, features2: f.features });
  // Let the worker end first, so that the first request holds the line while OpenCV loads.
  for (let i = 0; i < 100 && app.deps.features.workerRunning; i++) await sleep(100);
  const statuses = await Promise.all(Array.from({ length: 8 }, () =>
    app.fetch('/compare-features', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }).then((res) => res.status)));
  assert.ok(statuses.includes(503), statuses.join(' '));
  assert.ok(statuses.filter((s) => s === 200).length >= 2, statuses.join(' '));
  assert.ok(statuses.every((s) => s === 200 || s === 503), statuses.join(' '));
  assert.equal(app.deps.features.workerRunning, true);
  const pid = app.deps.features.workerPid!;
  for (let i = 0; i < 100 && app.deps.features.workerRunning; i++) await sleep(100);
  assert.equal(app.deps.features.workerRunning, false, 'the worker ended after feature_worker_idle_seconds');
  // The process is gone, not merely forgotten (signal 0 only checks that it exists).
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  assert.equal(isAlive(pid), false);
});
