import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SETTINGS, SETTING_KEYS, SETTING_SPECS } from '../../server/settings';
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

  it('shows a form field for every setting, with its label, range, default and current value', async () => {
    await app.deps.settings.update({ compression_quality: 2 });
    const html = await (await app.fetch('/config', { headers: BROWSER })).text();
    for (const key of SETTING_KEYS) {
      const spec = SETTING_SPECS[key];
      const input = new RegExp(`<(input|select|textarea)[^>]*name="${key}"[^>]*>`).exec(html)?.[0];
      assert.ok(input, `no input for ${key}`);
      assert.ok(html.includes(`<label for="setting-${key}">${spec.label}<span`), `label of ${key}`);
      const defaultText = typeof DEFAULT_SETTINGS[key] === 'object' ? JSON.stringify(DEFAULT_SETTINGS[key]).replace(/"/g, '&#34;') : DEFAULT_SETTINGS[key];
      assert.ok(input.includes(`data-default="${defaultText}"`), `${key}: ${input}`);
      // Only the operator sets these: the form shows them, disabled.
      assert.equal(/\sdisabled\b/.test(input), Boolean(spec.operatorOnly || spec.secret), key);
      if (spec.kind === 'string') {
        assert.match(input, new RegExp(`value="${app.deps.settings.get()[key]}"`));
      } else if (spec.kind === 'list' || spec.kind === 'object' || spec.kind === 'oneOf' || spec.kind === 'enum') {
        assert.match(input, /^<(select|textarea)/);
      } else if (spec.kind === 'integer' || spec.kind === 'number') {
        assert.match(input, new RegExp(`min="${spec.min}"`));
        assert.match(input, new RegExp(`max="${spec.max}"`));
        assert.match(input, new RegExp(`value="${app.deps.settings.get()[key]}"`));
      } else {
        assert.equal(/\schecked\b/.test(input), app.deps.settings.get()[key]);
      }
    }
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
