import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { clipRuntimeInstalled, MODELS_DIR, modelsInstalled } from '../../server/labels/models-dir';
import type { MemoryStatus } from '../../server/store-parts';
import { launchChromium } from '../helpers/browser';
import { eventually } from '../helpers/mqtt-listener';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';
import { CLIP_MEAN, CLIP_STD, TINY_VOCAB, writeTinyClip } from '../helpers/tiny-clip';

const skipModels = !(modelsInstalled(MODELS_DIR) && clipRuntimeInstalled(MODELS_DIR))
  && `the label models and onnxruntime-web are not installed in ${MODELS_DIR} (npm run models:install -- --clip)`;

describe('search by text on the search page, in chromium', { skip: skipModels }, () => {
  let browser: Browser;
  let app: TestApp;
  let clipDir: string;
  const ids: Record<string, string> = {};

  before(async () => {
    browser = await launchChromium();
    // "red" and "blue" point opposite ways in the tiny export's colour space (test/http/clip.test.ts).
    const rows = Object.values(TINY_VOCAB).map(() => [0, 0, 0]);
    rows[TINY_VOCAB['red</w>']] = [1, -1, -1];
    rows[TINY_VOCAB['blue</w>']] = [-1, -1, 1];
    clipDir = await writeTinyClip({
      vision: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], text: rows,
      preprocessor: { size: { shortest_edge: 8 }, crop_size: { height: 8, width: 8 }, image_mean: CLIP_MEAN, image_std: CLIP_STD },
    });
    app = await startTestApp({ modelsDir: MODELS_DIR, settings: { labels: 'on', clip_model_dir: clipDir } });
    for (const [name, background] of [['red', { r: 230, g: 20, b: 20 }], ['blue', { r: 20, g: 30, b: 220 }]] as const) {
      const png = await sharp({ create: { width: 16, height: 12, channels: 3, background } }).png().toBuffer();
      ids[name] = ((await (await postImage(app, png, '?source=yard', 'image/png')).json()) as { images: { id: string }[] }).images[0].id;
    }
    await eventually(async () => (await (await app.fetch('/memory_status')).json()) as MemoryStatus, (s) => s.labels.clip.embeddings === 2, 30_000);
  });
  after(async () => {
    await browser?.close();
    await app?.destroy();
    await rm(clipDir, { recursive: true, force: true });
  });

  it('finds the red image first for "a red car", typed into the page', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${app.url}/search`);
    await page.fill('#search-text', 'a red car');
    await page.press('#search-text', 'Enter');
    await page.waitForSelector('#search-results li.thumb');
    const first = await page.locator('#search-results li.thumb a').first().getAttribute('href');
    assert.ok(first?.includes(ids.red), `${first} is not the red image ${ids.red}`);
    assert.match(await page.textContent('#search-summary') ?? '', /2 matches for “a red car”/);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
