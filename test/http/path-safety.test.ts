import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { solidPng } from '../helpers/fixtures';
import { openSocket, rawRequest, readUntilClosed } from '../helpers/raw-http';
import { form, startTestApp, type TestApp } from '../helpers/test-app';

/**
 * Every place a client names something that could become a path: image ids in each /images/:id
 * route, `source` (query and form field) and the `before` cursor. Canary files sit where a
 * traversal would land; none may be served, changed or removed, and nothing may be written
 * outside the data dir.
 */
describe('no id or source reaches outside the data dir', () => {
  let root: string;
  let app: TestApp;
  let canary: Buffer;
  let imageId: string;
  const canaries: string[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'pir-paths-'));
    await mkdir(join(root, 'data'));
    app = await startTestApp({ dataDir: join(root, 'data') });
    canary = await solidPng(13, 7, [1, 2, 3]);
    // images/../canary.png, ../../canary.png, and a record-shaped canary.json beside them.
    for (const dir of [root, join(root, 'data'), join(root, 'data', 'tmp')]) {
      for (const name of ['canary.png', 'canary.json', 'settings.png']) {
        await writeFile(join(dir, name), canary);
        canaries.push(join(dir, name));
      }
    }
    const res = await app.fetch('/images', { method: 'POST', body: await solidPng(8, 8), headers: { 'Content-Type': 'image/png' } });
    imageId = ((await res.json()) as { images: Array<{ id: string }> }).images[0].id;
  });
  after(async () => {
    await app.close();
    await rm(root, { recursive: true, force: true });
  });

  const traversals = () => [
    '..', '%2e%2e', '..%2fcanary', '..%2F..%2Fcanary', '%2e%2e%2f%2e%2e%2fcanary', '..%5ccanary', '..%255c..%255ccanary',
    '....%2f%2fcanary', '%2fetc%2fpasswd', 'canary', 'canary.png', 'settings', 'tmp%2fcanary',
    '%00', 'canary%00', `${imageId}%00`, `${imageId}%00.png`, `${imageId}%2f..%2f..%2fcanary`, `${imageId}.png`,
    `${imageId}.json`, `${imageId}%20`, encodeURIComponent(`${imageId}/../../canary`),
  ];

  async function assertUntouched(): Promise<void> {
    for (const path of canaries) assert.deepEqual(await readFile(path), canary, path);
    assert.deepEqual((await readdir(root)).sort(), ['canary.json', 'canary.png', 'data', 'settings.png']);
    assert.deepEqual((await readdir(join(root, 'data', 'images'))).sort(), [`${imageId}.json`, `${imageId}.png`]);
    assert.ok((await stat(join(root, 'data', 'images', `${imageId}.png`))).size > 0);
  }

  function assertRefused(res: { status: number; body: Buffer }, what: string): void {
    assert.ok(res.status === 400 || res.status === 404, `${what}: ${res.status}`);
    assert.ok(!res.body.includes(canary), `${what} served a canary`);
    assert.match(res.body.toString(), /^\{"error":\{"code":"(invalid_parameter|not_found)"/, what);
  }

  it('ids in GET /images/:id, GET /images/:id/meta and DELETE /images/:id', async () => {
    for (const id of traversals()) {
      for (const [method, path] of [['GET', `/images/${id}`], ['GET', `/images/${id}/meta`], ['DELETE', `/images/${id}`], ['HEAD', `/images/${id}`]]) {
        const res = await rawRequest(app.url, method, path);
        if (method === 'HEAD') assert.ok(res.status === 400 || res.status === 404, `${method} ${path}: ${res.status}`);
        else assertRefused(res, `${method} ${path}`);
      }
    }
    // Literal dot segments, which a browser or fetch() would have resolved away.
    for (const path of ['/images/../data/canary.png', '/images/../../canary.png', `/images/${imageId}/../../canary.png`, '/images/./../canary']) {
      assertRefused(await rawRequest(app.url, 'GET', path), path);
      assertRefused(await rawRequest(app.url, 'DELETE', path), path);
    }
    await assertUntouched();
  });

  it('source, in the query of every route that takes it and as a form field', async () => {
    const bad = ['..', '../canary', '..%2fcanary', '%2e%2e', '.hidden', '%00', 'a%00b', 'a%2fb', 'a%5cb', '%2fetc', 'x'.repeat(65)];
    for (const source of bad) {
      for (const [method, path] of [['POST', `/images?source=${source}`], ['POST', `/upload?source=${source}`], ['GET', `/images?source=${source}`], ['GET', `/images/latest?source=${source}`]]) {
        const body = method === 'POST' ? await solidPng(8, 8) : undefined;
        const res = await rawRequest(app.url, method, path, body ? { 'Content-Type': 'image/png' } : {}, body);
        assert.equal(res.status, 400, `${method} ${path}`);
        assertRefused(res, `${method} ${path}`);
      }
      const decoded = decodeURIComponent(source);
      const res = await app.fetch('/images', { method: 'POST', body: form([await solidPng(8, 8)], 'image', { source: decoded }) });
      assert.equal(res.status, 400, `form source ${JSON.stringify(decoded)}`);
    }
    await assertUntouched();
  });

  it('the before cursor', async () => {
    for (const before of [...traversals(), `${imageId}x`, 'zzzzzzzz']) {
      const res = await rawRequest(app.url, 'GET', `/images?before=${before}`);
      assert.equal(res.status, 400, before);
      assertRefused(res, `before=${before}`);
    }
    await assertUntouched();
  });

  it('a NUL byte in the request line is refused before any route sees it', async () => {
    const socket = await openSocket(app.url);
    const answer = readUntilClosed(socket);
    socket.write(`GET /images/${imageId}\0.png HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.match(await answer, /^HTTP\/1\.1 400 /);
    await assertUntouched();
    assert.equal((await app.fetch('/health')).status, 200);
  });
});
