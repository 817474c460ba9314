/**
 * `npm run screenshot`: starts the daemon in this process over a temporary data dir with one
 * display panel, sends it a few generated images, and writes PNG screenshots of every page at a
 * phone and a laptop width (and dark, at the laptop width), and of the panel's card with its live
 * preview, to screenshots/ (or the folder given as the first argument).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser';
import { jpegWithOrientation, photoLike } from '../test/helpers/fixtures';
import { postImage, startTestApp } from '../test/helpers/test-app';
import type { SettingsInput } from '../server/settings';

const PAGES = [
  { name: 'dashboard', path: '/' },
  { name: 'image', path: '/images/{id}/meta' },
  { name: 'config', path: '/config' },
  { name: 'memory', path: '/memory_status' },
  { name: 'upload', path: '/upload_form' },
  { name: 'search', path: '/search' },
];

const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844, colorScheme: 'light' },
  { name: 'laptop', width: 1366, height: 900, colorScheme: 'light' },
  { name: 'laptop-dark', width: 1366, height: 900, colorScheme: 'dark' },
] as const;

/** Sends two images and a file that is not one through the upload page, so its results show. */
async function showUploads(page: Page): Promise<void> {
  await page.setInputFiles('#files', [
    { name: 'garden-morning.jpg', mimeType: 'image/jpeg', buffer: await photoLike(1600, 1200, 'jpeg', 7) },
    { name: 'door-sideways.jpg', mimeType: 'image/jpeg', buffer: await jpegWithOrientation(8, 600, 400) },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') },
  ]);
  await page.locator('.upload.done, .upload.failed').nth(2).waitFor();
}

/** Has the panel's card preview a photo rather than the newest upload, and waits for it. */
async function previewPhoto(page: Page): Promise<void> {
  const picker = page.locator('.preview-image').first();
  await picker.locator('option', { hasText: 'garden' }).first().waitFor({ state: 'attached' });
  const value = await picker.locator('option', { hasText: 'garden' }).first().getAttribute('value');
  await picker.selectOption(value ?? '');
  await page.locator('.preview img[src*="' + value + '"]').waitFor();
  await page.locator('.preview [role="status"]', { hasText: 'not saved' }).first().waitFor();
}

async function main(): Promise<void> {
  const outDir = resolve(process.argv[2] ?? 'screenshots');
  await mkdir(outDir, { recursive: true });
  const app = await startTestApp({
    settings: { displays: [{ name: 'hall', preset: 'inky-impression-7in3', render: 'on_request' }] } as unknown as SettingsInput,
  });
  const browser = await launchChromium();
  try {
    let first = '';
    for (const [i, source] of ['garden', 'door', 'garden', 'garage', 'door', 'garden'].entries()) {
      const image = i % 3 === 1 ? await jpegWithOrientation(6, 800, 600) : await photoLike(1200, 900, 'jpeg', i + 1);
      const res = await postImage(app, image, `?source=${source}`);
      if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
      first ||= ((await res.json()) as { images: { id: string }[] }).images[0].id;
    }
    // A few seconds of history, so that the charts show a line.
    await new Promise((done) => setTimeout(done, 5000));
    for (const viewport of VIEWPORTS) {
      const page = await browser.newPage({ viewport: { width: viewport.width, height: viewport.height }, deviceScaleFactor: 1, colorScheme: viewport.colorScheme });
      for (const { name, path } of PAGES) {
        await page.goto(`${app.url}${path.replace('{id}', first)}`, { waitUntil: 'load' });
        if (name === 'upload') await showUploads(page);
        if (name === 'config') await previewPhoto(page);
        await page.waitForTimeout(1500);
        const file = join(outDir, `${name}-${viewport.name}.png`);
        await page.screenshot({ path: file, fullPage: true });
        process.stdout.write(`${file}\n`);
        if (name === 'config') {
          // The panel's card alone: its controls and the preview they drive.
          const card = join(outDir, `display-preview-${viewport.name}.png`);
          await page.locator('.item-card').first().screenshot({ path: card });
          process.stdout.write(`${card}\n`);
        }
      }
      await page.close();
    }
  } finally {
    await browser.close();
    await app.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshot failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
