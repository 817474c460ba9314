import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Koa from 'koa';
import { receiveUpload } from '../../../server/http/upload-body';
import { HEAD_BYTES } from '../../../server/pipeline/image-header';

describe('receiveUpload', () => {
  it('keeps the first HEAD_BYTES of a raw body as it streams, the same bytes as the file written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-upload-body-'));
    const app = new Koa();
    let round = 0;
    app.use(async (ctx) => {
      const work = join(dir, String(round++));
      await mkdir(work);
      const upload = await receiveUpload(ctx, { maxBytes: 4 * 1024 * 1024, fileFields: ['image'], dir: work });
      const [file] = upload.files;
      const written = await readFile(file);
      const head = upload.heads?.get(file);
      ctx.body = { bytes: written.length, head: head?.length ?? null, same: head !== undefined && head.equals(written.subarray(0, HEAD_BYTES)) };
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      // A body of many socket reads, longer than the head, and one shorter than it.
      for (const size of [3 * HEAD_BYTES + 17, 1000]) {
        const body = randomBytes(size);
        const res = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'image/jpeg' } });
        assert.deepEqual(await res.json(), { bytes: size, head: Math.min(size, HEAD_BYTES), same: true });
      }
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
