import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { scene, variantOf } from '../helpers/scenes';
import { filesIn, postImage, startTestApp, type TestApp } from '../helpers/test-app';

const STEP_MS = 15_000;

describe('similarity pages in chromium', () => {
  let browser: Browser;
  let app: TestApp;
  const ids: string[] = [];
  let still: Buffer;

  before(async () => {
    browser = await launchChromium();
    app = await startTestApp({ settings: { duplicate_max_distance: 10 } });
    still = await scene(701, 320, 240);
    const store = async (image: Buffer): Promise<void> => {
      const res = await postImage(app, image, '?source=porch', 'image/png');
      ids.push(((await res.json()) as { images: Array<{ id: string }> }).images[0].id);
    };
    await store(still);
    // A repeat of the still, the newest of its source: dropped and counted.
    const repeat = await postImage(app, await variantOf(still, 'jpeg_q30'), '?source=porch');
    assert.equal(((await repeat.json()) as { duplicates: unknown[] }).duplicates.length, 1);
    await store(await scene(702, 320, 240));
  });
  after(async () => {
    await browser?.close();
    await app?.destroy();
  });

  async function open(path: string): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP_MS);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    // A missing favicon is the browser's guess, not the page's fault; any other failed request is.
    page.on('response', (response) => {
      if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) problems.push(`${response.status()} ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
    });
    await page.goto(`${app.url}${path}`);
    return { page, problems };
  }

  it('the search page finds the stored still from a dropped re-encoded copy, storing nothing', async () => {
    const stored = async (): Promise<string[]> => (await filesIn(app.dataDir)).filter((file) => file.startsWith('images/'));
    const before = await stored();
    const { page, problems } = await open('/search');
    await page.setInputFiles('#search-file', { name: 'query.jpg', mimeType: 'image/jpeg', buffer: await variantOf(still, 'resized') });
    await page.waitForSelector('#search-results li.thumb');
    const first = page.locator('#search-results li.thumb').first();
    const distance = await first.getAttribute('data-distance');
    assert.match(distance ?? '', /^\d+$/);
    assert.ok(Number(distance) <= 10);
    assert.match((await first.locator('img').getAttribute('alt')) ?? '', new RegExp(ids[0]));
    // The thumbnail really loaded.
    await page.waitForFunction((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0, await first.locator('img').elementHandle());
    assert.deepEqual(problems, []);
    await page.close();
    assert.deepEqual(await stored(), before);
  });

  it("an image's page lists its similar images; the memory page counts duplicates per source", async () => {
    const { page, problems } = await open(`/images/${ids[0]}/similar`);
    assert.equal(await page.locator('[data-similar] li.thumb').count(), 1);
    assert.match((await page.locator('[data-similar] img').getAttribute('alt')) ?? '', new RegExp(ids[1]));
    await page.close();
    const memory = await open('/memory_status');
    assert.equal((await memory.page.textContent('[data-duplicates] th'))?.trim(), 'porch');
    assert.equal((await memory.page.textContent('[data-duplicates] td'))?.trim(), '1');
    await memory.page.close();
    assert.deepEqual([...problems, ...memory.problems], []);
  });
});
