import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { SettingsInput } from '../../server/settings';
import { launchChromium } from '../helpers/browser';
import { scriptCalls, until, writeDisplayScript } from '../helpers/display-script';
import { cardPng } from '../helpers/frames';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';

describe('the Display panel in chromium', () => {
  let browser: Browser;
  let app: TestApp;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-display-page-'));
    const script = await writeDisplayScript(dir);
    const displays = [{ name: 'panel', width: 60, height: 80, palette: 'spectra6', command: ['/bin/sh', script, '{frame}', '{image}', '{id}', '{source}', '{display}'] }];
    app = await startTestApp({ settings: { displays } as unknown as SettingsInput });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await app?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows the frame on the panel and the command state; "Show on display" shows an image again', async () => {
    const first = ((await (await postImage(app, await cardPng(120, 90), '', 'image/png')).json()) as { images: { id: string }[] }).images[0].id;
    await until(async () => (await scriptCalls(dir)).length === 1, 'the first run');
    const second = ((await (await postImage(app, await cardPng(90, 120), '', 'image/png')).json()) as { images: { id: string }[] }).images[0].id;
    await until(async () => (await scriptCalls(dir)).length === 2, 'the second run');

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    // The favicon's 404 shows as "Failed to load resource" and as no page response; any other
    // error (a CSP violation, a script error) is a fault of the page.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded')) problems.push(message.text());
    });
    page.on('response', (response) => { if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`); });
    try {
      await page.goto(`${app.url}/`);
      const frame = page.locator('[data-display="panel"] img[data-frame]');
      // The frame on the panel: the dithered PNG at the panel's size, loaded by the browser.
      await until(async () => (await frame.evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).complete && (img as unknown as { naturalWidth: number }).naturalWidth)) === 60, 'the frame loaded');
      assert.equal(await frame.evaluate((img) => (img as unknown as { naturalHeight: number }).naturalHeight), 80);
      assert.match(await frame.getAttribute('src') ?? '', new RegExp(`/images/${second}/frame\\?display=panel`));
      await until(async () => /last run ok/.test(await page.locator('[data-display-state]').textContent() ?? ''), 'the state shown');
      assert.match(await page.locator('[data-display-state]').textContent() ?? '', /2 runs, 0 failed/);
      // No token is set, so the page is the operator's: the command's output shows.
      assert.equal(await page.locator('[data-display-output]').textContent(), 'line 1\nline 2\nline 3');

      await page.locator(`li.thumb[data-id="${first}"] button.show-on-display`).click();
      await until(async () => (await scriptCalls(dir)).length === 3, 'the run asked for from the page');
      assert.equal((await scriptCalls(dir))[2][2], first);
      await until(async () => (await frame.getAttribute('src') ?? '').includes(first), 'the panel frame follows');
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
});
