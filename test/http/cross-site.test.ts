import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SETTINGS, type SettingsInput } from '../../server/settings';
import { solidPng } from '../helpers/fixtures';
import { openSocket, rawRequest, readUntilClosed, type RawResponse } from '../helpers/raw-http';
import { filesIn, startTestApp, type TestApp } from '../helpers/test-app';

/**
 * Cross-site requests and DNS rebinding: a change sent by a page of another origin is refused
 * whatever it carries, a JSON route reads only application/json, and while no token is set only
 * requests addressed to the daemon's own names are answered. Requests go out raw, since fetch()
 * sets Host and Origin itself.
 */

const PANEL = { name: 'panel', width: 40, height: 30, palette: 'bw', render: 'on_request' };
const FOREIGN = 'http://evil.example';

interface ErrorBody { error: { code: string; message: string } }

function errorOf(res: RawResponse): ErrorBody['error'] {
  return (JSON.parse(res.body.toString('utf8')) as ErrorBody).error;
}

/** The daemon's own `host:port`, as a browser on its pages sends it in Host. */
function ownHost(app: TestApp): string {
  return new URL(app.url).host;
}

async function storeImage(app: TestApp): Promise<string> {
  const res = await rawRequest(app.url, 'POST', '/images', { 'Content-Type': 'image/png' }, await solidPng(16, 12));
  assert.equal(res.status, 201, res.body.toString());
  // Its record is rewritten once hashed: let that finish before files are compared.
  await app.deps.similarity.settled();
  return (JSON.parse(res.body.toString()) as { images: Array<{ id: string }> }).images[0].id;
}

/** What a refused request must leave as it was: the settings, the runtime file, every file, the panel. */
async function snapshot(app: TestApp) {
  const runtime = await readFile(join(app.dataDir, 'settings.json'), 'utf8').catch(() => 'absent');
  return { settings: app.deps.settings.get(), runtime, files: await filesIn(app.dataDir), shown: (await app.deps.displays.record('panel')).shown };
}

describe('cross-site requests are refused', () => {
  let app: TestApp;
  let imageId: string;
  before(async () => {
    app = await startTestApp({ settings: { displays: [PANEL] } as unknown as SettingsInput });
    imageId = await storeImage(app);
    await storeImage(app);
  });
  after(() => app.destroy());

  /** Every change a page could try, as a request with `headers` on top. */
  const changes = (headers: Record<string, string>) => [
    ['POST /config', () => rawRequest(app.url, 'POST', '/config', { ...headers, 'Content-Type': 'application/json' }, Buffer.from('{"max_stored_images": 1}'))],
    ['POST /images', async () => rawRequest(app.url, 'POST', '/images?source=evil', { ...headers, 'Content-Type': 'image/png' }, await solidPng(9, 9))],
    ['POST /displays/panel/show', () => rawRequest(app.url, 'POST', '/displays/panel/show', { ...headers, 'Content-Type': 'application/json' }, Buffer.from(JSON.stringify({ id: imageId })))],
    ['DELETE /images/:id', () => rawRequest(app.url, 'DELETE', `/images/${imageId}`, headers)],
    ['DELETE /images?confirm=all', () => rawRequest(app.url, 'DELETE', '/images?confirm=all', headers)],
  ] as const;

  it('refuses every change from a foreign Origin, a null Origin or a cross-site fetch with 403, and changes nothing', async () => {
    const before = await snapshot(app);
    const count = app.deps.store.totals().count;
    const foreign: Record<string, string>[] = [
      { Origin: FOREIGN }, { Origin: 'null' }, { Origin: `http://127.0.0.1:${Number(new URL(app.url).port) + 1}` }, { 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Fetch-Site': 'same-site' },
    ];
    for (const headers of foreign) {
      for (const [name, send] of changes(headers)) {
        const res = await send();
        assert.equal(res.status, 403, `${name} ${JSON.stringify(headers)}: ${res.body}`);
        const error = errorOf(res);
        assert.equal(error.code, 'cross_origin_refused');
        assert.match(error.message, /^Refused a change sent by (a page from ".+"|a page of another site): only the daemon's own pages/);
        if (headers.Origin === FOREIGN) assert.match(error.message, /"http:\/\/evil\.example"/);
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
      }
    }
    assert.deepEqual(await snapshot(app), before);
    assert.equal(app.deps.store.totals().count, count);
    assert.equal((await rawRequest(app.url, 'GET', `/images/${imageId}/meta`)).status, 200);
  });

  it('refuses a foreign Origin even with the right token', async () => {
    const guarded = await startTestApp({ apiToken: 'cross-site-token-0123456789' });
    try {
      const res = await rawRequest(guarded.url, 'POST', '/config', {
        Origin: FOREIGN, Authorization: 'Bearer cross-site-token-0123456789', 'Content-Type': 'application/json',
      }, Buffer.from('{"max_stored_images": 1}'));
      assert.equal(res.status, 403);
      assert.equal(errorOf(res).code, 'cross_origin_refused');
      assert.equal(guarded.deps.settings.get().max_stored_images, 0);
    } finally {
      await guarded.destroy();
    }
  });

  it('takes a change from the daemon\'s own page, and from a client that sends no Origin', async () => {
    const own = `http://${ownHost(app)}`;
    const sameOrigin: Record<string, string>[] = [{ Origin: own, 'Sec-Fetch-Site': 'same-origin' }, {}];
    for (const headers of sameOrigin) {
      const config = await rawRequest(app.url, 'POST', '/config', { ...headers, 'Content-Type': 'application/json' }, Buffer.from('{"compression_quality": 3}'));
      assert.equal(config.status, 200, config.body.toString());
      assert.equal(app.deps.settings.get().compression_quality, 3);
      await app.deps.settings.update({ compression_quality: 6 });
      const upload = await rawRequest(app.url, 'POST', '/images', { ...headers, 'Content-Type': 'image/png' }, await solidPng(10, 10));
      assert.equal(upload.status, 201);
      await app.deps.similarity.settled();
      const id = (JSON.parse(upload.body.toString()) as { images: Array<{ id: string }> }).images[0].id;
      const show = await rawRequest(app.url, 'POST', '/displays/panel/show', { ...headers, 'Content-Type': 'application/json' }, Buffer.from(JSON.stringify({ id })));
      assert.equal(show.status, 202);
      for (let i = 0; i < 200 && (await app.deps.displays.record('panel')).shown?.id !== id; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      assert.equal((await app.deps.displays.record('panel')).shown?.id, id);
      assert.equal((await rawRequest(app.url, 'DELETE', `/images/${id}`, headers)).status, 204);
    }
  });

  it('reads a JSON route\'s body only when it is declared application/json: 415, and nothing changed', async () => {
    const before = await snapshot(app);
    const count = app.deps.store.totals().count;
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', undefined]) {
      const headers: Record<string, string> = type === undefined ? {} : { 'Content-Type': type };
      const res = await rawRequest(app.url, 'POST', '/config', headers, Buffer.from('{"max_stored_images": 1}'));
      assert.equal(res.status, 415, `${type}: ${res.body}`);
      assert.equal(errorOf(res).code, 'unsupported_media_type');
      assert.match(errorOf(res).message, /Content-Type: application\/json/);
      const show = await rawRequest(app.url, 'POST', '/displays/panel/show', headers, Buffer.from(JSON.stringify({ id: imageId })));
      assert.equal(show.status, 415);
    }
    assert.deepEqual(await snapshot(app), before);
    assert.equal(before.settings.max_stored_images, DEFAULT_SETTINGS.max_stored_images);
    assert.equal(app.deps.store.totals().count, count);
  });

  it('says nosniff on every answer: JSON, an error, a page, a static file', async () => {
    const answers = {
      json: await rawRequest(app.url, 'GET', '/config'),
      notFound: await rawRequest(app.url, 'GET', '/nowhere'),
      errorPage: await rawRequest(app.url, 'GET', '/nowhere', { Accept: 'text/html' }),
      page: await rawRequest(app.url, 'GET', '/', { Accept: 'text/html' }),
      asset: await rawRequest(app.url, 'GET', '/static/dashboard.js'),
      image: await rawRequest(app.url, 'GET', `/images/${imageId}`),
      notAllowed: await rawRequest(app.url, 'PUT', '/config'),
    };
    assert.deepEqual(Object.values(answers).map((res) => res.status), [200, 404, 404, 200, 200, 200, 405]);
    assert.match(answers.errorPage.headers['content-type'] as string, /^text\/html/);
    for (const [name, res] of Object.entries(answers)) assert.equal(res.headers['x-content-type-options'], 'nosniff', name);
  });
});

describe('while no token is set, only the daemon\'s own host names are answered', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.destroy());

  const port = () => new URL(app.url).port;

  it('refuses another name with 403 and says what to set, for reads and changes, and as a page', async () => {
    const read = await rawRequest(app.url, 'GET', '/images', { Host: `evil.example:${port()}` });
    assert.equal(read.status, 403);
    assert.equal(read.headers['x-content-type-options'], 'nosniff');
    const error = errorOf(read);
    assert.equal(error.code, 'host_not_allowed');
    assert.equal(error.message, 'Host "evil.example" is not an address of this daemon and no API token is set. To reach it by that name, '
      + 'add it to allowed_hosts in the settings file (or ALLOWED_HOSTS=\'["evil.example"]\', or --set \'allowed_hosts=["evil.example"]\'), or set an API token');
    const change = await rawRequest(app.url, 'POST', '/config', { Host: 'rebound.attacker.example', 'Content-Type': 'application/json' }, Buffer.from('{"max_stored_images": 1}'));
    assert.equal(change.status, 403);
    assert.equal(errorOf(change).code, 'host_not_allowed');
    assert.equal(app.deps.settings.get().max_stored_images, 0);
    const page = await rawRequest(app.url, 'GET', '/', { Host: 'evil.example', Accept: 'text/html' });
    assert.equal(page.status, 403);
    assert.match(page.headers['content-type'] as string, /^text\/html/);
    assert.match(page.body.toString(), /allowed_hosts/);
    const junk = await rawRequest(app.url, 'GET', '/health', { Host: 'a b' });
    assert.equal(junk.status, 403);
  });

  it('answers IP literals, localhost, .local names and this machine\'s names', async () => {
    for (const host of [`127.0.0.1:${port()}`, `[::1]:${port()}`, '[::1]', `localhost:${port()}`, 'dashboard.localhost', `pi.local:${port()}`, 'pi.local.', `${hostname()}:${port()}`, hostname().split('.')[0].toUpperCase(), '10.1.2.3']) {
      const res = await rawRequest(app.url, 'GET', '/images', { Host: host });
      assert.equal(res.status, 200, `${host}: ${res.body}`);
    }
  });

  it('answers an HTTP/1.0 request without Host: no browser sends one', async () => {
    const socket = await openSocket(app.url);
    const answer = readUntilClosed(socket);
    socket.write('GET /images HTTP/1.0\r\n\r\n');
    assert.match(await answer, /^HTTP\/1\.1 200 OK\r\n[^]*x-content-type-options: nosniff\r\n/i);
  });

  it('answers a name in allowed_hosts; the list is the operator\'s alone', async () => {
    const allowing = await startTestApp({ settings: { allowed_hosts: ['Evil.Example', 'pi.example.net.'] } });
    try {
      for (const host of ['evil.example', 'EVIL.example:8000', 'pi.example.net']) {
        assert.equal((await rawRequest(allowing.url, 'GET', '/images', { Host: host })).status, 200, host);
      }
      assert.equal((await rawRequest(allowing.url, 'GET', '/images', { Host: 'other.example' })).status, 403);
      const set = await rawRequest(allowing.url, 'POST', '/config', { 'Content-Type': 'application/json' }, Buffer.from('{"allowed_hosts": ["other.example"]}'));
      assert.equal(set.status, 403);
      assert.equal(errorOf(set).code, 'forbidden_setting');
    } finally {
      await allowing.destroy();
    }
  });

  it('with a token set, answers any Host: the token protects', async () => {
    const guarded = await startTestApp({ apiToken: 'host-check-token-0123456789' });
    try {
      assert.equal((await rawRequest(guarded.url, 'GET', '/images', { Host: 'evil.example' })).status, 200);
      const change = await rawRequest(guarded.url, 'POST', '/config', { Host: 'evil.example', 'Content-Type': 'application/json' }, Buffer.from('{"max_stored_images": 1}'));
      assert.equal(change.status, 401, 'a change still needs the token');
    } finally {
      await guarded.destroy();
    }
  });
});
