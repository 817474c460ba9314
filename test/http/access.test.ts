import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DEFAULT_SETTINGS } from '../../server/settings';
import { solidPng } from '../helpers/fixtures';
import { rawRequest } from '../helpers/raw-http';
import { filesIn, form, jsonPost, startTestApp, type TestApp } from '../helpers/test-app';

const TOKEN = 'test-token-0123456789abcdef';
const WRONG = 'wrong-token-0123456789abcdef';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function assertUnauthorized(res: Response, error?: string): Promise<void> {
  assert.equal(res.status, 401);
  const challenge = res.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer realm="pi-image-receiver"/);
  if (error) assert.match(challenge, new RegExp(`error="${error}"`));
  const body = await res.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'unauthorized');
  assert.ok(body.error.message.length > 0);
}

describe('access control with an API token', () => {
  let app: TestApp;
  const lines: string[] = [];
  const capture = (line: string) => { lines.push(line); };
  before(async () => {
    app = await startTestApp({ apiToken: TOKEN, log: { error: capture, warn: capture, info: capture, debug: capture } });
  });
  after(() => app.destroy());
  beforeEach(async () => {
    await app.deps.store.deleteAll();
    await app.deps.settings.update({ require_token_for_reads: false });
  });

  const png = () => solidPng(8, 8);
  const upload = async (headers: Record<string, string> = {}, query = '') =>
    app.fetch(`/images${query}`, { method: 'POST', body: await png(), headers: { 'Content-Type': 'image/png', ...headers } });

  it('when reads need the token, answers a browser\'s page with a sign-in page, and the page with the token', async () => {
    await app.deps.settings.update({ require_token_for_reads: true });
    const html = { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    for (const path of ['/', '/upload_form', '/config', '/memory_status']) {
      const refused = await app.fetch(path, { headers: html });
      assert.equal(refused.status, 401, path);
      assert.match(refused.headers.get('content-type') ?? '', /^text\/html/);
      const page = await refused.text();
      assert.match(page, /<script src="\/static\/signin.js"><\/script>/);
      assert.doesNotMatch(page, /max_image_dimension/, 'no settings on the sign-in page');
      const shown = await app.fetch(`${path}?access_token=${TOKEN}`, { headers: html });
      assert.equal(shown.status, 200, path);
      assert.match(shown.headers.get('content-type') ?? '', /^text\/html/);
    }
    // The sign-in script itself is public, or the page could not ask.
    assert.equal((await app.fetch('/static/signin.js')).status, 200);
  });

  it('refuses every change without the token, or with a wrong one, and changes nothing', async () => {
    const stored = await upload(bearer(TOKEN));
    assert.equal(stored.status, 201);
    const { images: [image] } = await stored.json() as { images: Array<{ id: string; url: string }> };
    const filesBefore = await filesIn(app.dataDir);
    const changes: Array<[string, () => Promise<RequestInit>]> = [
      ['/images', async () => ({ method: 'POST', body: await png(), headers: { 'Content-Type': 'image/png' } })],
      ['/images', async () => ({ method: 'POST', body: form([await png()]) })],
      ['/upload', async () => ({ method: 'POST', body: form([await png()], 'file') })],
      ['/config', async () => jsonPost({ compression_quality: 1 })],
      [image.url, async () => ({ method: 'DELETE' })],
      ['/images?confirm=all', async () => ({ method: 'DELETE' })],
      ['/images', async () => ({ method: 'PROPFIND' })],
    ];
    for (const [path, init] of changes) {
      const request = await init();
      await assertUnauthorized(await app.fetch(path, request));
      const wrong = await init();
      await assertUnauthorized(await app.fetch(path, { ...wrong, headers: { ...wrong.headers as object, ...bearer(WRONG) } }), 'invalid_token');
      // The query parameter is for reads only (EventSource, <img>): a change needs the header.
      const query = await init();
      await assertUnauthorized(await app.fetch(`${path}${path.includes('?') ? '&' : '?'}access_token=${TOKEN}`, query));
    }
    assert.deepEqual(await filesIn(app.dataDir), filesBefore);
    assert.deepEqual(await (await app.fetch('/config')).json(), DEFAULT_SETTINGS);
    assert.equal((await app.fetch(image.url)).status, 200);
  });

  it('lets changes through with the token, whatever the case of "Bearer"', async () => {
    assert.equal((await upload({ Authorization: `bearer ${TOKEN}` })).status, 201);
    const config = await app.fetch('/config', jsonPost({ compression_quality: 7 }, bearer(TOKEN)));
    assert.equal(config.status, 200);
    assert.equal(((await config.json()) as { config: { compression_quality: number } }).config.compression_quality, 7);
    const all = await app.fetch('/images?confirm=all', { method: 'DELETE', headers: bearer(TOKEN) });
    assert.deepEqual(await all.json(), { deleted: 1 });
    await app.deps.settings.update({ compression_quality: DEFAULT_SETTINGS.compression_quality });
  });

  it('leaves reads open unless require_token_for_reads is set', async () => {
    const { images: [image] } = await (await upload(bearer(TOKEN))).json() as { images: Array<{ url: string }> };
    for (const path of ['/images', image.url, `${image.url}/meta`, '/images/latest', '/config', '/openapi.json', '/health']) {
      assert.equal((await app.fetch(path)).status, 200, path);
    }
  });

  it('with require_token_for_reads, every read but /health needs the header or ?access_token=', async () => {
    const { images: [image] } = await (await upload(bearer(TOKEN))).json() as { images: Array<{ url: string }> };
    const set = await app.fetch('/config', jsonPost({ require_token_for_reads: true }, bearer(TOKEN)));
    assert.equal(set.status, 200);
    for (const path of ['/images', image.url, `${image.url}/meta`, '/images/latest', '/config', '/openapi.json', '/nope']) {
      await assertUnauthorized(await app.fetch(path));
      await assertUnauthorized(await app.fetch(`${path}${path.includes('?') ? '&' : '?'}access_token=${WRONG}`), 'invalid_token');
    }
    // The public prefix lets no dot segment or encoded path through.
    for (const path of ['/static/../config', '/static/%2e%2e/config', '/static/..%2fimages', '/static//images']) {
      assert.equal((await rawRequest(app.url, 'GET', path)).status, 401, path);
    }
    assert.equal((await app.fetch('/health')).status, 200);
    assert.equal((await app.fetch('/images', { headers: bearer(TOKEN) })).status, 200);
    const viaQuery = await app.fetch(`${image.url}?access_token=${TOKEN}`);
    assert.equal(viaQuery.status, 200);
    assert.equal(viaQuery.headers.get('content-type'), 'image/png');
  });

  it('never shows the token: not in GET /config, not in any log line', async () => {
    await app.fetch('/config', jsonPost({ require_token_for_reads: true }, bearer(TOKEN)));
    const config = await (await app.fetch(`/config?access_token=${TOKEN}`)).text();
    assert.ok(!config.includes(TOKEN));
    assert.ok(config.includes('require_token_for_reads'));
    await app.fetch(`/images?access_token=${WRONG}`);
    await app.fetch(`/images?access_token=${TOKEN}&limit=nope`);
    await upload(bearer(WRONG), `?access_token=${TOKEN}`);
    assert.ok(lines.length >= 4);
    assert.deepEqual(lines.filter((line) => line.includes(TOKEN) || line.includes(WRONG)), []);
  });
});
