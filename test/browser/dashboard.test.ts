import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { photoLike, solidPng } from '../helpers/fixtures';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';

/** How long a step may take before the test fails, rather than hangs. */
const STEP_MS = 15_000;

/** Polls `check` until it holds; fails after STEP_MS. Page functions are not used for this, since
 * a string predicate would need 'unsafe-eval', which the pages' CSP rightly refuses. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + STEP_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the dashboard in chromium', () => {
  let browser: Browser;
  let app: TestApp;
  let page: Page;
  /** Every request the page made, and every problem it reported (CSP violations among them). */
  let requests: string[];
  let problems: string[];
  /** The daemon's request log: chromium fetches the icon itself, out of the page's sight. */
  const served: string[] = [];
  const capture = (line: string) => { served.push(line); };

  before(async () => {
    browser = await launchChromium();
    app = await startTestApp({ log: { error: capture, warn: capture, info: capture, debug: capture } });
  });
  after(async () => {
    await browser?.close();
    await app?.destroy();
  });

  beforeEach(async () => {
    requests = [];
    problems = [];
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(STEP_MS);
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    // HTTP errors the tests cause on purpose show as "Failed to load resource"; anything else
    // reported as an error (a CSP violation, a script error) is a fault of the page.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded')) {
        problems.push(`console: ${message.text()}`);
      }
    });
  });

  afterEach(async () => {
    await page.close();
    const outside = requests.filter((url) => !url.startsWith(`${app.url}/`));
    assert.deepEqual(outside, [], 'every request goes to the daemon on 127.0.0.1');
    assert.ok(requests.length > 0);
    assert.deepEqual(problems, []);
  });

  it('loads with no console error at all, the icon included', async () => {
    // Unlike the listeners above, this one lets nothing through: a missing icon's 404 counts.
    const errors: string[] = [];
    const failed: string[] = [];
    served.length = 0;
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${app.url}/`);
    await page.waitForSelector('[data-live-state].on');
    await until('chromium has fetched the icon', async () => served.some((line) => line.startsWith('GET /favicon.ico ')));
    assert.deepEqual(served.filter((line) => line.startsWith('GET /favicon.ico ')).map((line) => line.split(' ')[2]), ['200']);
    assert.deepEqual(errors, []);
    assert.deepEqual(failed, []);
  });

  it('renders the settings, the figures and a chart that gains points', async () => {
    await app.deps.settings.update({ max_image_dimension: 1234 });
    await page.goto(`${app.url}/`);
    await page.waitForSelector('#overview-chart canvas');
    assert.equal((await page.textContent('[data-setting="max_image_dimension"]'))?.trim(), '1,234 px');
    assert.equal((await page.textContent('[data-setting="enable_memory_optimization"]'))?.trim(), 'on');
    await page.waitForSelector('[data-live-state].on');
    assert.match(await page.textContent('[data-field="process.rss_mb"]') ?? '', /^\d+(\.\d)? MiB$/);
    // The chart starts from the daemon's history, then grows with every sample pushed.
    const points = async (): Promise<number> => Number(await page.getAttribute('#overview-chart', 'data-points'));
    await until('the chart has its history', async () => (await points()) >= 1);
    const first = await points();
    await until('the chart gains two points', async () => (await points()) >= first + 2);
    assert.ok((await points()) >= first + 2);
  });

  it('shows a newly stored image without a reload, and only in its source\'s filter', async () => {
    await page.goto(`${app.url}/`);
    await page.waitForSelector('[data-live-state].on');
    await page.evaluate(() => { (globalThis as { marker?: number }).marker = 42; });
    const res = await postImage(app, await photoLike(640, 480), '?source=porch');
    const { images: [image] } = await res.json() as { images: Array<{ id: string }> };
    const thumb = page.locator(`#thumbs li:first-child img[alt$="${image.id}"]`);
    await thumb.waitFor();
    await thumb.evaluate((img) => (img as { decode(): Promise<void> }).decode());
    const size = await thumb.evaluate((img) => [(img as { naturalWidth: number }).naturalWidth, (img as { naturalHeight: number }).naturalHeight]);
    assert.deepEqual(size, [320, 240]);
    assert.equal(await page.textContent('#thumbs li:first-child .source'), 'porch');
    assert.equal(await page.evaluate(() => (globalThis as { marker?: number }).marker), 42, 'the page was not reloaded');
    assert.ok(requests.includes(`${app.url}/images/${image.id}/thumbnail`));
    assert.ok(!requests.includes(`${app.url}/images/${image.id}`), 'the full PNG is never fetched');

    // The filter is a plain GET; a new image of another source does not appear there.
    await page.selectOption('#source-filter', 'porch');
    await page.waitForURL(/\?source=porch$/);
    await page.waitForSelector('[data-live-state].on');
    await postImage(app, await solidPng(50, 50), '?source=garage', 'image/png');
    const third = await postImage(app, await solidPng(60, 40), '?source=porch', 'image/png');
    const { images: [porch] } = await third.json() as { images: Array<{ id: string }> };
    await page.locator(`#thumbs li:first-child img[alt$="${porch.id}"]`).waitFor();
    assert.deepEqual(await page.locator('#thumbs .source').allTextContents(), ['porch', 'porch']);
  });

  it('saves a valid change through the form and shows an invalid one inline', async () => {
    await page.goto(`${app.url}/config`);
    await page.fill('input[name="compression_quality"]', '3');
    await page.click('button[type="submit"]');
    await page.waitForSelector('#form-status.ok');
    const saved = await (await app.fetch('/config')).json() as { compression_quality: number; max_image_dimension: number };
    assert.equal(saved.compression_quality, 3);

    await page.fill('input[name="max_image_dimension"]', '5');
    await page.click('button[type="submit"]');
    const error = page.locator('#error-max_image_dimension');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent() ?? '', /Expected integer between 16 and 16384 for max_image_dimension but received 5/);
    assert.equal(await page.getAttribute('input[name="max_image_dimension"]', 'aria-invalid'), 'true');
    assert.ok(await page.locator('#error-compression_quality').isHidden());
    const unchanged = await (await app.fetch('/config')).json() as { max_image_dimension: number };
    assert.equal(unchanged.max_image_dimension, saved.max_image_dimension);
  });

  it('asks once for the API token on a 401 and sends it with the retry', async () => {
    // The daemon's token check is not part of this page; stand in for it on POST /config.
    const seen: Array<string | null> = [];
    await page.route(`${app.url}/config`, async (route) => {
      const auth = route.request().headers().authorization ?? null;
      if (route.request().method() !== 'POST') return route.continue();
      seen.push(auth);
      if (auth !== 'Bearer s3cret') {
        return route.fulfill({ status: 401, contentType: 'application/json', body: '{"error":{"code":"unauthorized","message":"token needed"}}' });
      }
      return route.continue();
    });
    await page.goto(`${app.url}/config`);
    await page.fill('input[name="max_queue_length"]', '7');
    await page.click('button[type="submit"]');
    await page.fill('dialog input[type="password"]', 's3cret');
    await page.click('dialog button[type="submit"]');
    await page.waitForSelector('#form-status.ok');
    assert.deepEqual(seen, [null, 'Bearer s3cret']);
    assert.equal(((await (await app.fetch('/config')).json()) as { max_queue_length: number }).max_queue_length, 7);
    const stored = await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage.getItem('pi-image-receiver.token'));
    assert.equal(stored, 's3cret');
    // Known from now on: the live stream and images carry it as access_token.
    await page.goto(`${app.url}/`);
    await page.waitForSelector('[data-live-state].on');
    assert.ok(requests.some((url) => url === `${app.url}/events?access_token=s3cret`), requests.join('\n'));
  });

  it('uploads several images with progress and shows what was stored', async () => {
    await page.goto(`${app.url}/upload_form`);
    await page.fill('#source', 'phone');
    await page.setInputFiles('#files', [
      { name: 'one.jpg', mimeType: 'image/jpeg', buffer: await photoLike(900, 600) },
      { name: 'two.png', mimeType: 'image/png', buffer: await solidPng(200, 100) },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') },
    ]);
    await until('every upload has finished', async () => (await page.locator('.upload.done, .upload.failed').count()) === 3);
    assert.equal(await page.locator('.upload.done').count(), 2);
    assert.match(await page.locator('.upload.failed .status').textContent() ?? '', /refused \(415\)/);
    const { images } = await (await app.fetch('/images?source=phone')).json() as { images: Array<{ width: number }> };
    assert.deepEqual(images.map((image) => image.width).sort((a, b) => a - b), [200, 900]);
    assert.match(await page.textContent('#upload-summary') ?? '', /2 stored · 1 refused/);
  });

  it('shows live memory, heap and CPU charts on the memory page', async () => {
    await page.goto(`${app.url}/memory_status`);
    for (const chart of ['memory', 'cpu', 'vms']) await page.waitForSelector(`[data-chart="${chart}"] canvas`);
    await until('the CPU chart has points', async () => Number(await page.getAttribute('[data-chart="cpu"]', 'data-points')) >= 2);
    assert.match(await page.textContent('.tile [data-field="process.heap_used_bytes"]') ?? '', /MiB|KiB/);
    assert.match(await page.textContent('[data-field="libvips.counters.queue"]') ?? '', /^\d+$/);
  });
});
