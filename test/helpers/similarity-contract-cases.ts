import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DETECTOR_MODEL } from '../../server/labels/models-dir';
import { scene } from './scenes';
import { form, postImage, startTestApp, type TestApp } from './test-app';

/** What a contract case gets: the shared app and a way to store an image. */
interface Harness {
  app: TestApp;
  storedId(): Promise<string>;
}

const NO_SUCH_ID = '20000101T000000000-0000-0000';
const JSON_TYPE = { 'Content-Type': 'application/json' };

function pair(a: Uint8Array, b: Uint8Array): FormData {
  const body = new FormData();
  body.append('image1', new Blob([a]), 'a.png');
  body.append('image2', new Blob([b]), 'b.png');
  return body;
}

const text = (): Blob => new Blob(['not an image']);

/** The answer of an app of its own whose uploads are at most 1 KiB, copied out before the app is removed. */
async function withSmallUploads(ask: (app: TestApp) => Promise<Response>): Promise<Response> {
  const small = await startTestApp({ settings: { max_upload_bytes: 1024 } });
  try {
    const res = await ask(small);
    return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
  } finally {
    await small.destroy();
  }
}

/**
 * The answer about an image the labels consumer never reaches, with labels on: the models folder
 * holds files where the detector should be that are no model, so the consumer fails on its first
 * image and tries it again, and again.
 */
async function withUnlabelledImage(ask: (app: TestApp, id: string) => Promise<Response>): Promise<Response> {
  const models = await mkdtemp(join(tmpdir(), 'pir-models-'));
  await mkdir(join(models, DETECTOR_MODEL, '..'), { recursive: true });
  await writeFile(join(models, `${DETECTOR_MODEL}.json`), '{}');
  await writeFile(join(models, `${DETECTOR_MODEL}.bin`), '');
  const app = await startTestApp({ modelsDir: models, settings: { labels: 'on' } });
  try {
    const stored = (await (await postImage(app, await scene(3, 64, 48), '', 'image/png')).json()) as { images: { id: string }[] };
    const res = await ask(app, stored.images[0].id);
    return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
  } finally {
    await app.destroy();
    await rm(models, { recursive: true, force: true });
  }
}

/** How to provoke each documented status of the similarity and comparison routes; spread into the contract test's CASES. */
export const SIMILARITY_CASES: Record<string, (h: Harness) => Promise<Response>> = {
  'GET /images/{id}/similar 200': async (h) => h.app.fetch(`/images/${await h.storedId()}/similar`),
  'GET /images/{id}/similar 400': async (h) => h.app.fetch(`/images/${await h.storedId()}/similar?max_distance=65`),
  'GET /images/{id}/similar 404': ({ app }) => app.fetch(`/images/${NO_SUCH_ID}/similar`),
  'GET /images/{id}/similar 503': () => withUnlabelledImage((app, id) => app.fetch(`/images/${id}/similar?by=content`)),
  'POST /search 404': ({ app }) => app.fetch('/search?by=content', { method: 'POST', body: new Uint8Array(1) }),
  'GET /search 200': ({ app }) => app.fetch('/search'),
  'GET /search 400': ({ app }) => app.fetch('/search?text='),
  'GET /search 404': ({ app }) => app.fetch('/search?text=a%20red%20car'),
  'POST /search 200': async ({ app }) => app.fetch('/search', { method: 'POST', body: await scene(3, 64, 48), headers: { 'Content-Type': 'image/png' } }),
  'POST /search 400': ({ app }) => app.fetch('/search?top_k=0', { method: 'POST', body: new Uint8Array(1) }),
  'POST /search 413': () => withSmallUploads(async (app) => app.fetch('/search', { method: 'POST', body: await scene(3, 64, 48), headers: { 'Content-Type': 'image/png' } })),
  'POST /search 415': ({ app }) => app.fetch('/search', { method: 'POST', body: 'hello', headers: { 'Content-Type': 'text/plain' } }),
  'POST /search 422': async ({ app }) => app.fetch('/search', { method: 'POST', body: (await scene(3, 64, 48)).subarray(0, 100), headers: { 'Content-Type': 'image/png' } }),
  'POST /compare 200': async (h) => h.app.fetch('/compare', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ id1: await h.storedId(), id2: await h.storedId() }) }),
  'POST /compare 400': ({ app }) => app.fetch('/compare', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ id1: 1 }) }),
  'POST /compare 413': () => withSmallUploads(async (app) => app.fetch('/compare', { method: 'POST', body: pair(await scene(3, 64, 48), await scene(4, 64, 48)) })),
  'POST /compare 404': ({ app }) => app.fetch('/compare', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ id1: NO_SUCH_ID, id2: NO_SUCH_ID }) }),
  'POST /compare 415': ({ app }) => app.fetch('/compare', { method: 'POST', body: 'hello', headers: { 'Content-Type': 'text/plain' } }),
  'POST /compare 422': async ({ app }) => app.fetch('/compare', { method: 'POST', body: pair((await scene(3, 64, 48)).subarray(0, 100), await scene(4, 64, 48)) }),
  'POST /extract-features 200': async ({ app }) => app.fetch('/extract-features', { method: 'POST', body: form([await scene(5, 200, 150)]) }),
  'POST /extract-features 400': ({ app }) => app.fetch('/extract-features', { method: 'POST', body: form([], 'image', { note: 'no file' }) }),
  'POST /extract-features 413': () => withSmallUploads(async (app) => app.fetch('/extract-features', { method: 'POST', body: form([await scene(5, 64, 48)]) })),
  'POST /extract-features 422': async ({ app }) => app.fetch('/extract-features', { method: 'POST', body: form([(await scene(5, 64, 48)).subarray(0, 100)]) }),
  'POST /extract-features 415': ({ app }) => {
    const body = new FormData();
    body.append('image', text(), 'a.txt');
    return app.fetch('/extract-features', { method: 'POST', body });
  },
  'POST /compare-features 200': ({ app }) => {
    const none = { keypoints_count: 0, descriptors: '', descriptors_shape: [0, 32], keypoints: [], image_shape: [10, 10] };
    return app.fetch('/compare-features', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ features1: none, features2: none }) });
  },
  'POST /compare-features 400': ({ app }) => app.fetch('/compare-features', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ features1: {} }) }),
  'POST /compare-features 415': ({ app }) => app.fetch('/compare-features', { method: 'POST', body: 'x', headers: { 'Content-Type': 'text/plain' } }),
  'POST /compare-images 200': async ({ app }) => app.fetch('/compare-images', { method: 'POST', body: pair(await scene(6, 200, 150), await scene(7, 200, 150)) }),
  'POST /compare-images 400': async ({ app }) => app.fetch('/compare-images', { method: 'POST', body: form([await scene(6, 64, 48)], 'image1') }),
  'POST /compare-images 413': () => withSmallUploads(async (app) => app.fetch('/compare-images', { method: 'POST', body: pair(await scene(6, 64, 48), await scene(7, 64, 48)) })),
  'POST /compare-images 415': ({ app }) => app.fetch('/compare-images', { method: 'POST', body: 'x', headers: { 'Content-Type': 'text/plain' } }),
  'POST /compare-images 422': async ({ app }) => app.fetch('/compare-images', { method: 'POST', body: pair((await scene(6, 64, 48)).subarray(0, 100), await scene(7, 64, 48)) }),
};
