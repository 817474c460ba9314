import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Koa from 'koa';
import { receiveUpload } from '../../../server/http/upload-body';
import { HEAD_BYTES } from '../../../server/pipeline/image-header';

/**
 * Serves `handle` on a loopback port, each request with a fresh folder of its own under a temp
 * folder, runs `test` against the server's URL, then ends both.
 */
async function withUploadServer(
  handle: (ctx: Koa.Context, work: string) => Promise<void>, test: (url: string) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pir-upload-body-'));
  const app = new Koa();
  let round = 0;
  app.use(async (ctx) => {
    const work = join(dir, String(round++));
    await mkdir(work);
    await handle(ctx, work);
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    await test(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('receiveUpload', () => {
  it('keeps the first HEAD_BYTES of a raw body as it streams, the same bytes as the file written', async () => {
    await withUploadServer(async (ctx, work) => {
      const upload = await receiveUpload(ctx, { maxBytes: 4 * 1024 * 1024, fileFields: ['image'], dir: work });
      const [file] = upload.files;
      const written = await readFile(file);
      const head = upload.heads?.get(file);
      ctx.body = { bytes: written.length, head: head?.length ?? null, same: head !== undefined && head.equals(written.subarray(0, HEAD_BYTES)) };
    }, async (url) => {
      // A body of many socket reads, longer than the head, and one shorter than it.
      for (const size of [3 * HEAD_BYTES + 17, 1000]) {
        const body = randomBytes(size);
        const res = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'image/jpeg' } });
        assert.deepEqual(await res.json(), { bytes: size, head: Math.min(size, HEAD_BYTES), same: true });
      }
    });
  });

  it('keeps a raw body that declares at most HEAD_BYTES in memory, unwritten, when asked; a longer or chunked one goes to disk', async () => {
    await withUploadServer(async (ctx, work) => {
      try {
        const upload = await receiveUpload(ctx, { maxBytes: 4 * 1024 * 1024, fileFields: ['image'], dir: work, smallBodyInMemory: true });
        const kept = upload.bytes ?? await readFile(upload.files[0]);
        ctx.body = { inMemory: upload.bytes !== undefined, files: await readdir(work), sha: createHash('sha256').update(kept).digest('hex'), bytes: kept.length };
      } catch (err) {
        ctx.status = 400;
        ctx.body = { error: (err as { code?: string }).code };
      }
    }, async (url) => {
      const post = async (body: Buffer, chunked = false): Promise<unknown> => {
        const stream = new ReadableStream({ start(c) { c.enqueue(body); c.close(); } });
        const res = await fetch(url, chunked
          ? { method: 'POST', body: stream, duplex: 'half', headers: { 'Content-Type': 'image/jpeg' } } as RequestInit
          : { method: 'POST', body, headers: { 'Content-Type': 'image/jpeg' } });
        return res.json();
      };
      const expect = (body: Buffer, inMemory: boolean) => ({
        inMemory, files: inMemory ? [] : ['body'], sha: createHash('sha256').update(body).digest('hex'), bytes: body.length,
      });
      const exact = randomBytes(HEAD_BYTES);
      assert.deepEqual(await post(exact), expect(exact, true));
      const longer = randomBytes(HEAD_BYTES + 1);
      assert.deepEqual(await post(longer), expect(longer, false));
      // A chunked body declares no length: it may grow past any bound while it streams.
      const chunked = randomBytes(1000);
      assert.deepEqual(await post(chunked, true), expect(chunked, false));
      assert.deepEqual(await post(Buffer.alloc(0)), { error: 'invalid_parameter' });
    });
  });
});
