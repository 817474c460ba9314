import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { SettingsInput } from '../../server/settings';
import { launchChromium } from '../helpers/browser';
import { photoLike, solidPng } from '../helpers/fixtures';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';

/** How long a step may take before the test fails, rather than hangs. */
const STEP_MS = 15_000;
/** axe-core's build, injected into each page it checks. */
const AXE = require.resolve('axe-core/axe.min.js');
/** The width of a small phone: no page may scroll sideways at it. */
const PHONE = { width: 360, height: 740 };

interface Violation { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }

/** Polls `check` until it holds; fails after STEP_MS (page functions would need 'unsafe-eval'). */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + STEP_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function idOf(res: Response): Promise<string> {
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { images: { id: string }[] }).images[0].id;
}

describe('the pages for people: accessible, on a phone, by keyboard', () => {
  let browser: Browser;
  let app: TestApp;
  let ids: string[];
  let pages: string[];

  before(async () => {
    browser = await launchChromium();
    app = await startTestApp({
      settings: { displays: [{ name: 'hall', preset: 'inky-impression-7in3', render: 'on_request', command: ['/bin/true', '{frame}'] }] } as unknown as SettingsInput,
    });
    ids = [];
    for (const [i, source] of ['door', 'garden', 'door'].entries()) ids.push(await idOf(await postImage(app, await photoLike(400, 300, 'jpeg', i + 1), `?source=${source}`)));
    await app.deps.similarity.settled();
    pages = ['/', '/config', '/memory_status', '/upload_form', '/search', '/logs/viewer', `/images/${ids[0]}/meta`, `/images/${ids[0]}/similar`];
  });
  after(async () => {
    await browser?.close();
    await app?.destroy();
  });

  /** A page in a context of its own; closed by the caller through its context. */
  async function open(context: BrowserContext, path: string): Promise<Page> {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    await page.goto(`${app.url}${path}`, { waitUntil: 'load' });
    return page;
  }

  /** axe-core's serious and critical violations on the page as it is now, one line each. */
  async function axeViolations(page: Page, what: string): Promise<string[]> {
    const violations = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Violation[] }> } }).axe;
      return (await axe.run()).violations;
    });
    return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${what}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  }

  it('has no serious or critical axe-core violation on any page, light or dark, and none scrolls sideways at 360 px', async () => {
    // axe is injected as a script of its own, which the pages' CSP rightly refuses: this
    // context alone lets it in. Each page is loaded once, then checked in each scheme and width.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const found: string[] = [];
    try {
      for (const path of pages) {
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.emulateMedia({ colorScheme: 'light' });
        await page.goto(`${app.url}${path}`, { waitUntil: 'load' });
        if (path === '/config') await page.locator('.preview img').waitFor();
        await page.addScriptTag({ path: AXE });
        found.push(...await axeViolations(page, `${path} light`));
        await page.emulateMedia({ colorScheme: 'dark' });
        found.push(...await axeViolations(page, `${path} dark`));
        await page.setViewportSize(PHONE);
        // The dashboard's charts follow their card's width on the resize event, a frame or two
        // later: the page may take that long to narrow, and must then fit.
        const pageWidth = (): number => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth;
        await page.waitForFunction(`(${pageWidth.toString()})() <= ${PHONE.width}`, undefined, { timeout: 2000 }).catch(() => undefined);
        const width = await page.evaluate(pageWidth);
        if (width > PHONE.width) found.push(`${path} is ${width} px wide at ${PHONE.width} px`);
        for (const link of await page.locator('.nav a').all()) {
          const box = await link.boundingBox();
          if (!box || box.x < 0 || box.x + box.width > PHONE.width) found.push(`${path}: ${await link.textContent()} is out of view at ${PHONE.width} px`);
        }
      }
    } finally {
      await context.close();
    }
    assert.deepEqual(found, []);
  });

  it('reaches every control of the configuration page with Tab, and saves a panel tuned with the keyboard', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await open(context, '/config');
      const preview = page.locator('.preview img');
      await until('the preview has loaded', async () => (await preview.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) === 800);
      // Every visible control gets a mark, then Tab goes round the page collecting the marks it focuses.
      const controls = await page.locator('main :is(a[href], button, input, select, textarea):visible').count();
      await page.locator('main :is(a[href], button, input, select, textarea):visible').evaluateAll((nodes) => nodes.forEach((node, i) => (node as unknown as { dataset: Record<string, string> }).dataset.mark = String(i)));
      const reached = new Set<string>();
      for (let i = 0; i < controls * 2 + 20 && reached.size < controls; i++) {
        await page.keyboard.press('Tab');
        const mark = await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { dataset?: Record<string, string> } | null } }).document.activeElement?.dataset?.mark);
        if (mark !== undefined) reached.add(mark);
      }
      assert.equal(reached.size, controls, 'every control is reached by Tab');

      // The saturation slider, moved with the arrow keys: the preview follows, nothing is saved.
      const before = await preview.getAttribute('src');
      await page.locator('[data-item] input[type="range"][data-field="saturation"]').focus();
      for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
      await until('the preview follows the slider', async () => (await preview.getAttribute('src'))?.includes('saturation=1.2') === true);
      assert.notEqual(await preview.getAttribute('src'), before);
      await until('the new preview has loaded', async () => /not saved$/.test(await page.locator('.preview [role="status"]').textContent() ?? ''));
      assert.equal(app.deps.displays.profilesInForce()[0].saturation, 1);
      await page.locator('button[type="submit"]').focus();
      await page.keyboard.press('Enter');
      await page.waitForSelector('#form-status.ok');
      const [hall] = app.deps.displays.profilesInForce();
      assert.equal(hall.saturation, 1.2);
      assert.deepEqual(hall.command, ['/bin/true', '{frame}'], 'the operator\'s command is kept');

      // A new panel: its card previews from a preset's size before it has a profile in force.
      await page.locator('[data-add-item]').click();
      const card = page.locator('[data-item]').nth(1);
      await card.locator('select[data-fills]').selectOption('inky-impression-5in7');
      await card.locator('[data-field="name"]').fill('den');
      await card.locator('.preview [role="status"]', { hasText: 'not saved' }).waitFor();
      assert.match(await card.locator('.preview img').getAttribute('src') ?? '', /preview=1&width=600&height=448&palette=acep7/);
      await page.locator('button[type="submit"]').click();
      await until('the new panel is saved', async () => app.deps.displays.profilesInForce().length === 2);
      const den = app.deps.displays.profilesInForce()[1];
      assert.deepEqual([den.name, den.width, den.height, den.palette], ['den', 600, 448, 'acep7']);
    } finally {
      await context.close();
    }
  });

  it('loads older images on demand, filters by day, and deletes an image only once confirmed', async () => {
    // A page's worth of newer images, sent at once: the queue takes them (max_queue_length 64).
    const bulk = await Promise.all(Array.from({ length: 24 }, (_, i) => solidPng(16 + i, 12)));
    const sent = await Promise.all(bulk.map((png) => postImage(app, png, '?source=bulk', 'image/png')));
    assert.deepEqual(sent.map((res) => res.status), bulk.map(() => 201));
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await open(context, '/');
      assert.equal(await page.locator('#thumbs li').count(), 24);
      await page.locator('#older-images').click();
      await until('the older images are in', async () => (await page.locator('#thumbs li').count()) === 24 + ids.length);
      assert.ok(await page.locator('#older-images').isHidden(), 'no older page is left');
      assert.equal(await page.locator(`#thumbs li[data-id="${ids[0]}"]`).count(), 1);

      const today = new Date().toISOString().slice(0, 10);
      await page.goto(`${app.url}/?day=2001-02-03`);
      assert.equal(await page.locator('#thumbs li').count(), 0);
      assert.match(await page.textContent('#thumbs-empty') ?? '', /on 2001-02-03/);
      await page.goto(`${app.url}/?day=${today}&source=door`);
      assert.deepEqual(await page.locator('#thumbs .source').allTextContents(), ['door', 'door']);

      // One click from a thumbnail to its page; the delete asks first.
      await page.locator(`#thumbs li[data-id="${ids[0]}"] a`).first().click();
      await page.waitForURL(new RegExp(`/images/${ids[0]}/meta$`));
      assert.match(await page.textContent('.kv') ?? '', /400 × 300 px/);
      assert.equal(await page.locator('[data-show-on="hall"]').count(), 1);
      await page.locator('[data-delete]').click();
      await page.locator('#delete-dialog button[value="cancel"]').click();
      assert.equal((await app.fetch(`/images/${ids[0]}/meta`)).status, 200, 'kept when not confirmed');
      await page.locator('[data-delete]').click();
      await page.locator('#delete-dialog button[value="delete"]').click();
      await page.waitForURL(`${app.url}/`);
      assert.equal((await app.fetch(`/images/${ids[0]}/meta`)).status, 404);
    } finally {
      await context.close();
    }
  });
});
