import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { LabelWorker } from '../../server/labels/label-worker';
import { clipRuntimeInstalled, MODELS_DIR, modelsInstalled } from '../../server/labels/models-dir';
import type { MemoryStatus } from '../../server/store-parts';
import { eventually } from '../helpers/mqtt-listener';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';
import { CLIP_MEAN, CLIP_STD, halveBilinear, patterned, TINY_VOCAB, writeTinyClip } from '../helpers/tiny-clip';

const skipModels = !(modelsInstalled(MODELS_DIR) && clipRuntimeInstalled(MODELS_DIR))
  && `the label models and onnxruntime-web are not installed in ${MODELS_DIR} (npm run models:install)`;

/** The tiny export's text table: "red" and "blue" point opposite ways in colour space, every other token at 0. */
function textRows(): number[][] {
  const rows = Object.values(TINY_VOCAB).map(() => [0, 0, 0]);
  rows[TINY_VOCAB['red</w>']] = [1, -1, -1];
  rows[TINY_VOCAB['blue</w>']] = [-1, -1, 1];
  return rows;
}

const IDENTITY = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
/** Shortest edge 4 by bilinear, a 4×4 centre, CLIP's mean and std. */
const PREPROCESSOR = {
  do_resize: true, size: { shortest_edge: 4 }, resample: 2, do_center_crop: true, crop_size: { height: 4, width: 4 },
  do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: CLIP_MEAN, image_std: CLIP_STD,
};

function unit(vector: number[]): number[] {
  const norm = Math.hypot(...vector);
  return vector.map((v) => v / norm);
}

/**
 * What the tiny vision model makes of a w×h image, worked out here from its pixels: the bilinear
 * 2× reduction (kernel 1/8, 3/8, 3/8, 1/8; 3/7, 3/7, 1/7 at the edges; rounded to a byte after
 * each pass, rows first), columns 1..4 of the 6, normalised, then each channel's mean.
 */
function expectedImageEmbedding(rgb: Uint8Array, w: number, h: number): number[] {
  return unit([0, 1, 2].map((c) => {
    const rows = Array.from({ length: h }, (_, y) => halveBilinear(Array.from({ length: w }, (_, x) => rgb[(y * w + x) * 3 + c])));
    const columns = Array.from({ length: w / 2 }, (_, x) => halveBilinear(rows.map((row) => row[x])));
    let sum = 0;
    for (let x = 1; x <= 4; x++) for (let y = 0; y < 4; y++) sum += (columns[x][y] / 255 - CLIP_MEAN[c]) / CLIP_STD[c];
    return sum / 16;
  }));
}

/** A CLIP embedding file: float32 scale, then int8 values. */
async function storedEmbedding(app: TestApp, id: string): Promise<number[]> {
  const bytes = await readFile(join(app.dataDir, 'clip-embeddings', `${id}.bin`));
  const scale = bytes.readFloatLE(0);
  return Array.from(new Int8Array(bytes.buffer, bytes.byteOffset + 4, bytes.length - 4), (q) => q * scale);
}

const png = (rgb: Uint8Array, width: number, height: number) => sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
const solid = (r: number, g: number, b: number) => sharp({ create: { width: 16, height: 12, channels: 3, background: { r, g, b } } }).png().toBuffer();

async function upload(app: TestApp, body: Buffer): Promise<string> {
  const response = await postImage(app, body, '?source=yard');
  assert.equal(response.status, 201);
  return ((await response.json()) as { images: { id: string }[] }).images[0].id;
}

interface SearchAnswer { query: string; by: string; results: { image: { id: string }; similarity: number }[] }

describe('CLIP from a local folder: image embeddings by the labels consumer, search by text', { skip: skipModels }, () => {
  let app: TestApp;
  let clipDir: string;
  before(async () => {
    clipDir = await writeTinyClip({ vision: IDENTITY, text: textRows(), preprocessor: PREPROCESSOR });
    app = await startTestApp({ modelsDir: MODELS_DIR, settings: { labels: 'on', clip_model_dir: clipDir, labels_worker_idle_seconds: 2 } });
  });
  after(async () => {
    await app.destroy();
    await rm(clipDir, { recursive: true, force: true });
  });

  it('embeds each stored image as worked out independently from its pixels, and ranks by text', async () => {
    const rgb = patterned(12, 8);
    const patternedId = await upload(app, await png(rgb, 12, 8));
    const red = await upload(app, await solid(230, 20, 20));
    const blue = await upload(app, await solid(20, 30, 220));
    await eventually(async () => (await (await app.fetch('/memory_status')).json()) as MemoryStatus, (s) => s.consumers.labels?.delivered === 3, 30_000);

    // The stored vector is int8 with its own scale: within half a step of the largest value.
    const expected = expectedImageEmbedding(rgb, 12, 8);
    const stored = await storedEmbedding(app, patternedId);
    assert.equal(stored.length, 3);
    stored.forEach((value, i) => assert.ok(Math.abs(value - expected[i]) < 0.005, `${stored} is not ${expected}`));

    const search = async (text: string): Promise<SearchAnswer> => {
      const response = await app.fetch(`/search?text=${encodeURIComponent(text)}&top_k=3`);
      assert.equal(response.status, 200);
      return (await response.json()) as SearchAnswer;
    };
    const forRed = await search('a red car');
    assert.equal(forRed.query, 'a red car');
    assert.equal(forRed.by, 'text');
    assert.equal(forRed.results[0].image.id, red);
    const order = forRed.results.map((result) => result.image.id);
    assert.ok(order.indexOf(red) < order.indexOf(blue), order.join(' '));
    assert.ok(forRed.results[0].similarity > 0.9, String(forRed.results[0].similarity));
    const forBlue = await search('Blue!!');
    assert.equal(forBlue.results[0].image.id, blue);
    // Of one source only: none are of another.
    assert.deepEqual((await (await app.fetch('/search?text=red&source=door')).json() as SearchAnswer).results, []);

    const status = (await (await app.fetch('/memory_status')).json()) as MemoryStatus;
    assert.equal(status.labels.clip.enabled, true);
    assert.equal(status.labels.clip.embeddings, 3);
    assert.equal(typeof status.labels.clip.last_text_ms, 'number');

    // Removed with its image.
    assert.equal((await app.fetch(`/images/${blue}`, { method: 'DELETE' })).status, 204);
    assert.equal(existsSync(join(app.dataDir, 'clip-embeddings', `${blue}.bin`)), false);
  });

  it('the worker\'s embeddings equal the ones worked out here: the image\'s exactly, the text\'s from the hand-worked ids', async () => {
    const worker = new LabelWorker({ idleMs: () => 1000 });
    try {
      const file = join(app.dataDir, 'query.png');
      const rgb = patterned(12, 8);
      await sharp(rgb, { raw: { width: 12, height: 8, channels: 3 } }).png().toFile(file);
      const { clip } = await worker.analyse(file, MODELS_DIR, { detect: false, embed: false, clipDir });
      const expected = expectedImageEmbedding(rgb, 12, 8);
      Array.from(clip!).forEach((value, i) => assert.ok(Math.abs(value - expected[i]) < 1e-5, `${Array.from(clip!)} is not ${expected}`));

      const text = await worker.embedText('a red car', MODELS_DIR, clipDir);
      // a</w> red</w> car</w> between start and end, padded with end to 77 (clip-tokenizer.test.ts).
      assert.deepEqual(text.ids.slice(0, 6), [16, 1, 6, 15, 17, 17]);
      assert.equal(text.ids.length, 77);
      // The mean of the 77 rows: only red's is not 0, so it points the way red's row does.
      Array.from(text.embedding).forEach((value, i) => assert.ok(Math.abs(value - unit([1, -1, -1])[i]) < 1e-6));
    } finally {
      await worker.close();
    }
  });

  it('labels an image still when the export is broken, and says why it has no CLIP embedding', async () => {
    const broken = await writeTinyClip({ vision: IDENTITY, text: textRows(), preprocessor: PREPROCESSOR });
    await rm(join(broken, 'onnx', 'vision_model.onnx'));
    const other = await startTestApp({ modelsDir: MODELS_DIR, settings: { labels: 'on', clip_model_dir: broken, labels_worker_idle_seconds: 1 } });
    try {
      const id = await upload(other, await solid(230, 20, 20));
      const status = await eventually(async () => (await (await other.fetch('/memory_status')).json()) as MemoryStatus, (s) => s.consumers.labels?.delivered === 1, 30_000);
      assert.match(status.labels.clip.last_error ?? '', /none of onnx\/vision_model\.onnx/);
      assert.ok(Array.isArray(((await (await other.fetch(`/images/${id}/meta`)).json()) as { labels?: unknown[] }).labels), 'labelled');
      assert.equal(existsSync(join(other.dataDir, 'clip-embeddings', `${id}.bin`)), false);
    } finally {
      await other.destroy();
      await rm(broken, { recursive: true, force: true });
    }
  });

  it('refuses a blank or too long text with 400', async () => {
    for (const query of ['text=', 'text=%20%20', `text=${'a'.repeat(1001)}`]) {
      const response = await app.fetch(`/search?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'invalid_parameter');
    }
  });
});

describe('search by text without a CLIP folder', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.destroy());

  it('answers 404 saying how to enable it, and still serves the search page without text', async () => {
    const response = await app.fetch('/search?text=a%20red%20car');
    assert.equal(response.status, 404);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, 'not_found');
    assert.match(error.message, /clip_model_dir/);
    assert.match(error.message, /docs\/labels\.md#clip/);
    const page = await app.fetch('/search');
    assert.equal(page.status, 200);
    assert.doesNotMatch(await page.text(), /id="text-search"/, 'no text search form without CLIP');
  });
});
