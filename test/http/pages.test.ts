import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SETTINGS, SETTING_KEYS, SETTING_SPECS } from '../../server/settings';
import { groupedSettings } from '../../server/http/setting-notes';
import { solidPng } from '../helpers/fixtures';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';

/** What a browser sends when it navigates. */
const BROWSER = { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const PAGES = ['/', '/upload_form', '/config', '/memory_status'];

/** Every value of `attribute` in the tags named `tag`. */
function attributes(html: string, tag: string, attribute: string): string[] {
  return [...html.matchAll(new RegExp(`<${tag}\\b[^>]*\\b${attribute}="([^"]*)"`, 'g'))].map((m) => m[1]);
}

function assertPageHeaders(res: Response): void {
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(res.headers.get('content-security-policy')?.split(';')[0], "default-src 'self'");
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
}

describe('dashboard pages', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.destroy());

  for (const path of PAGES) {
    it(`${path} is a page that works under default-src 'self', with every asset served here`, async () => {
      const res = await app.fetch(path, { headers: BROWSER });
      assert.equal(res.status, 200);
      assertPageHeaders(res);
      const html = await res.text();
      assert.match(html, /<meta name="viewport" content="width=device-width/);
      // No inline script, style or event handler: the CSP would block them.
      assert.equal((html.match(/<script\b/g) ?? []).length, attributes(html, 'script', 'src').length);
      assert.doesNotMatch(html, /\sstyle=/);
      assert.doesNotMatch(html, /<style\b/);
      assert.doesNotMatch(html, /\son[a-z]+=/);
      const assets = [...attributes(html, 'script', 'src'), ...attributes(html, 'link', 'href')];
      assert.ok(assets.length >= 5, assets.join(' '));
      for (const asset of assets) {
        assert.match(asset, /^\/static\/[\w.-]+$/, 'served by the daemon, not a CDN');
        const file = await app.fetch(asset);
        assert.equal(file.status, 200, asset);
        assert.match(file.headers.get('content-type') ?? '', asset.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
        assert.equal(file.headers.get('x-content-type-options'), 'nosniff');
        assert.ok((await file.arrayBuffer()).byteLength > 100, asset);
      }
    });
  }

  it('keeps answering JSON to curl at /config and /memory_status', async () => {
    for (const path of ['/config', '/memory_status']) {
      const res = await app.fetch(path, { headers: { Accept: '*/*' } });
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, path);
      assert.match(res.headers.get('vary') ?? '', /Accept/);
    }
  });

  it('shows every setting in its group, in plain words, with its range, default and current value', async () => {
    await app.deps.settings.update({ compression_quality: 2 });
    const html = await (await app.fetch('/config', { headers: BROWSER })).text();
    // One section per group, in the groups' order, each under its heading.
    const headings = [...html.matchAll(/<h2 id="group-([a-z]+)">([^<]+)<\/h2>/g)].map((m) => m[2]);
    assert.deepEqual(headings, groupedSettings().map((group) => group.heading));
    const wanted = ['Images', 'Storage and retention', 'Memory and speed', 'Similarity', 'Display panels', 'MQTT', 'Access'];
    assert.deepEqual(headings.filter((heading) => wanted.includes(heading)), wanted, 'the groups people look for, in this order');
    for (const key of SETTING_KEYS) {
      const spec = SETTING_SPECS[key];
      const row = new RegExp(`<div class="field[^"]*" data-field-row="${key}">[\\s\\S]*?<p class="field-error" id="error-${key}"`).exec(html)?.[0];
      assert.ok(row, `no row for ${key}`);
      assert.ok(row.includes(`>${spec.label}</`), `label of ${key}`);
      const input = new RegExp(`<(input|select|textarea)[^>]*name="${key}"[^>]*>`).exec(row)?.[0];
      if (spec.operatorOnly || spec.secret) {
        // Only the operator sets these: no input, the line to put in the settings file instead.
        assert.equal(input, undefined, key);
        assert.match(row, new RegExp(`<code class="settings-line" data-settings-line="${key}">&#34;${key}&#34;: `), key);
        continue;
      }
      assert.ok(input, `no input for ${key}`);
      const defaultText = typeof DEFAULT_SETTINGS[key] === 'object' ? JSON.stringify(DEFAULT_SETTINGS[key]).replace(/"/g, '&#34;') : DEFAULT_SETTINGS[key];
      assert.ok(input.includes(`data-default="${defaultText}"`), `${key}: ${input}`);
      if (spec.kind === 'string') {
        assert.match(input, new RegExp(`value="${app.deps.settings.get()[key]}"`));
      } else if (spec.kind === 'list' || spec.kind === 'object' || spec.kind === 'oneOf') {
        assert.match(input, /data-kind="json"/);
      } else if (spec.kind === 'enum') {
        assert.match(input, /^<select/);
      } else if (spec.kind === 'integer' || spec.kind === 'number') {
        assert.match(input, new RegExp(`min="${spec.min}"`));
        assert.match(input, new RegExp(`max="${spec.max}"`));
        assert.match(input, new RegExp(`value="${app.deps.settings.get()[key]}"`));
      } else {
        assert.equal(/\schecked\b/.test(input), app.deps.settings.get()[key]);
      }
    }
  });

  it('says what 0 and empty stand for, with the value automatic comes to, and the settings-file line of operator-only settings', async () => {
    await app.deps.settings.update({ memory_budget_mb: 0, max_storage_mb: 0 });
    const budget = app.deps.flow.queue.memory?.budget;
    assert.ok(budget);
    const html = await (await app.fetch('/config', { headers: BROWSER })).text();
    assert.match(html, new RegExp(`data-unit-of="memory_budget_mb"[^>]*>automatic — ${budget.mb} MB, from ${budget.origin}</p>`));
    assert.match(html, /data-unit-of="max_storage_mb"[^>]*>no limit<\/p>/);
    assert.match(html, /data-value-of="mqtt_url">off<\/p>/);
    // Empty: the spec's example stands in, so the line is one to copy.
    assert.match(html, /data-settings-line="mqtt_url">&#34;mqtt_url&#34;: &#34;mqtt:\/\/broker.lan:1883&#34;,<\/code>/);
    const dashboard = await (await app.fetch('/', { headers: BROWSER })).text();
    assert.match(dashboard, new RegExp(`data-setting="memory_budget_mb"[^>]*>automatic</span> <span class="hint">— ${budget.mb} MB, from ${budget.origin}</span>`));
    // A summary, not every setting.
    const shown = attributes(dashboard, 'span', 'data-setting');
    assert.ok(shown.length >= 4 && shown.length <= 12, shown.join(', '));
    assert.ok(shown.every((key) => SETTING_SPECS[key as keyof typeof SETTING_SPECS].summary), shown.join(', '));
    assert.match(dashboard, /<a href="\/config">/);
  });

  it('lists the latest images newest first, and filters them by source', async () => {
    const ids: string[] = [];
    for (const source of ['door', 'garden', 'door']) {
      const res = await postImage(app, await solidPng(30, 20), `?source=${source}`, 'image/png');
      ids.push(((await res.json()) as { images: Array<{ id: string }> }).images[0].id);
    }
    const html = await (await app.fetch('/', { headers: BROWSER })).text();
    const shown = attributes(html, 'img', 'data-src');
    assert.deepEqual(shown, [...ids].reverse().map((id) => `/images/${id}/thumbnail`));
    assert.match(html, /<option value="garden">garden<\/option>/);
    const doors = attributes(await (await app.fetch('/?source=door', { headers: BROWSER })).text(), 'img', 'data-src');
    assert.deepEqual(doors, [ids[2], ids[0]].map((id) => `/images/${id}/thumbnail`));
  });

  it('lists a day\'s images page by page, and gives each image a page of its own', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await postImage(app, await solidPng(30 + i, 20), '?source=porch', 'image/png');
      ids.push(((await res.json()) as { images: Array<{ id: string }> }).images[0].id);
    }
    const day = new Date().toISOString().slice(0, 10);
    type Page = { images: Array<{ id: string }>; next: string | null };
    const first = await (await app.fetch(`/images?source=porch&day=${day}&limit=2`)).json() as Page;
    assert.deepEqual(first.images.map((image) => image.id), [ids[2], ids[1]]);
    assert.equal(first.next, ids[1]);
    const second = await (await app.fetch(`/images?source=porch&day=${day}&limit=2&before=${first.next}`)).json() as Page;
    assert.deepEqual(second.images.map((image) => image.id), [ids[0]]);
    assert.equal(second.next, null);
    assert.deepEqual((await (await app.fetch('/images?day=2001-02-03')).json() as Page).images, []);
    for (const bad of ['2026-02-30', 'today', '2026-1-1']) assert.equal((await app.fetch(`/images?day=${bad}`)).status, 400, bad);
    const dashboard = await (await app.fetch(`/?source=porch&day=${day}`, { headers: BROWSER })).text();
    assert.deepEqual(attributes(dashboard, 'img', 'data-src'), [...ids].reverse().map((id) => `/images/${id}/thumbnail`));
    assert.match(dashboard, /id="older-images" data-next="" hidden/);

    const page = await app.fetch(`/images/${ids[0]}/meta`, { headers: BROWSER });
    assert.equal(page.status, 200);
    assertPageHeaders(page);
    const html = await page.text();
    assert.match(html, /30 × 20 px/);
    assert.ok(html.includes(`download="${ids[0]}.png"`));
    assert.match(html, /data-delete/);
    assert.match((await app.fetch(`/images/${ids[0]}/meta`)).headers.get('content-type') ?? '', /^application\/json/);
    assert.doesNotMatch(html, /show boxes/, 'no labels row before the image is labelled');
    // Once labelled: its labels with their scores, and a link to the PNG with their boxes drawn.
    await app.deps.store.update(ids[0], { labels: [{ name: 'person', score: 0.71, box: [1, 2, 10, 12] }, { name: 'dog', score: 0.456, box: [0, 0, 5, 5] }] });
    const labelled = await (await app.fetch(`/images/${ids[0]}/meta`, { headers: BROWSER })).text();
    assert.match(labelled, /person 71 %, dog 46 %/);
    assert.ok(labelled.includes(`<a href="/images/${ids[0]}?boxes=1">show boxes</a>`), 'the show boxes link');
    await app.deps.store.update(ids[1], { labels: [] });
    assert.match(await (await app.fetch(`/images/${ids[1]}/meta`, { headers: BROWSER })).text(), /<th scope="row">Labels<\/th><td>none found/);
  });

  it('shows errors as pages to a browser and as JSON to scripts', async () => {
    const missing = await app.fetch('/no/such/page', { headers: BROWSER });
    assert.equal(missing.status, 404);
    assertPageHeaders(missing);
    assert.match(await missing.text(), /not found/);
    const badFilter = await app.fetch('/?source=no%20spaces', { headers: BROWSER });
    assert.equal(badFilter.status, 400);
    assertPageHeaders(badFilter);
    assert.match(await badFilter.text(), /Expected string matching/);
    for (const path of ['/no/such/page', '/?source=no%20spaces']) {
      const json = await app.fetch(path);
      assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
      assert.ok(((await json.json()) as { error: { code: string } }).error.code);
    }
    // An API route stays JSON even for a browser.
    const image = await app.fetch('/images/20260101T000000000-0000-abcd/meta', { headers: BROWSER });
    assert.match(image.headers.get('content-type') ?? '', /^application\/json/);
  });

  it('serves only its own static files', async () => {
    for (const path of ['/static/nope.js', '/static/..%2Fpackage.json', '/static/%2e%2e%2fpackage.json']) {
      assert.equal((await app.fetch(path)).status, 404, path);
    }
  });
});
