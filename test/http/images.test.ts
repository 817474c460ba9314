import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { after, before, beforeEach, describe, it } from 'node:test';
import sharp from 'sharp';
import { filesIn, form, postImage, startTestApp, statusOf, type TestApp } from '../helpers/test-app';
import { jpegWithOrientation, photoLike, pngDeclaring, solidPng } from '../helpers/fixtures';
import { HEAD_BYTES } from '../../server/pipeline/image-header';

interface Record {
  id: string; source: string; url: string; width: number; height: number; bytes: number; format: string;
  captured_at: string | null; rotated: boolean; resized: boolean;
  original: { width: number; height: number; format: string; orientation: number };
}

async function stored(app: TestApp): Promise<string[]> {
  return (await filesIn(app.dataDir)).filter((f) => f.startsWith('images/'));
}

/** Asserts a JSON error of the given status and code. */
async function assertError(res: Response, status: number, code: string): Promise<void> {
  const body = await res.json() as { error: { code: string; message: string } };
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 0);
}

describe('images API', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ settings: { max_upload_bytes: 200_000, max_input_pixels: 4_000_000 } });
  });
  after(() => app.destroy());
  beforeEach(async () => {
    await app.deps.store.deleteAll();
  });

  it('stores a raw upload, upright, and describes it', async () => {
    const res = await postImage(app, await jpegWithOrientation(6, 96, 64), '?source=cam-1&captured_at=2026-11-24T08:30:00%2B01:00');
    assert.equal(res.status, 201);
    const { images: [image] } = await res.json() as { images: Record[] };
    assert.equal(res.headers.get('location'), `/images/${image.id}`);
    assert.equal(image.source, 'cam-1');
    assert.equal(image.captured_at, '2026-11-24T07:30:00.000Z');
    assert.deepEqual([image.width, image.height, image.format], [96, 64, 'png']);
    assert.deepEqual([image.original.width, image.original.height, image.original.orientation], [64, 96, 6]);
    assert.equal(image.rotated, true);
    const png = await app.fetch(image.url);
    assert.equal(png.headers.get('content-type'), 'image/png');
    const bytes = Buffer.from(await png.arrayBuffer());
    assert.equal(bytes.length, image.bytes);
    const meta = await sharp(bytes).metadata();
    assert.deepEqual([meta.width, meta.height, meta.format], [96, 64, 'png']);
    assert.deepEqual((await stored(app)).sort(), [`images/${image.id}.json`, `images/${image.id}.png`]);
  });

  it('decides the type from the bytes, not the Content-Type', async () => {
    const png = await postImage(app, await solidPng(20, 10), '', 'application/octet-stream');
    assert.equal(png.status, 201);
    const lying = await postImage(app, await photoLike(30, 20, 'webp'), '', 'text/plain');
    assert.equal(lying.status, 201);
    const { images: [image] } = await lying.json() as { images: Record[] };
    assert.equal(image.original.format, 'webp');
    await assertError(await postImage(app, Buffer.from('GIF but not really'), '', 'image/gif'), 415, 'unsupported_media_type');
  });

  it('takes several images in one multipart request, with fields', async () => {
    const body = form([await photoLike(40, 30), await solidPng(10, 10)], 'image', { source: 'form-cam', captured_at: '2026-01-02' });
    const res = await app.fetch('/images', { method: 'POST', body });
    assert.equal(res.status, 201);
    const { images } = await res.json() as { images: Record[] };
    assert.equal(images.length, 2);
    assert.ok(images.every((image) => image.source === 'form-cam' && image.captured_at === '2026-01-02T00:00:00.000Z'));
  });

  it('answers /upload as the original receiver did (field "file")', async () => {
    const res = await app.fetch('/upload', { method: 'POST', body: form([await photoLike(40, 30)], 'file') });
    assert.equal(res.status, 200);
    const body = await res.json() as { status: string; images: Record[] };
    assert.equal(body.status, 'success');
    assert.equal(body.images.length, 1);
    assert.equal((await app.fetch(body.images[0].url)).status, 200);
  });

  it('lists newest first with limit, cursor and source filter', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await postImage(app, await solidPng(8, 8), `?source=${i % 2 ? 'odd' : 'even'}`, 'image/png');
      ids.push(((await res.json()) as { images: Record[] }).images[0].id);
    }
    const first = await (await app.fetch('/images?limit=2')).json() as { images: Record[]; next: string };
    assert.deepEqual(first.images.map((i) => i.id), [ids[4], ids[3]]);
    const second = await (await app.fetch(`/images?limit=2&before=${first.next}`)).json() as { images: Record[]; next: string };
    assert.deepEqual(second.images.map((i) => i.id), [ids[2], ids[1]]);
    const last = await (await app.fetch(`/images?limit=2&before=${second.next}`)).json() as { images: Record[]; next: string | null };
    assert.deepEqual(last.images.map((i) => i.id), [ids[0]]);
    assert.equal(last.next, null);
    const odd = await (await app.fetch('/images?source=odd')).json() as { images: Record[] };
    assert.deepEqual(odd.images.map((i) => i.id), [ids[3], ids[1]]);
    await assertError(await app.fetch('/images?limit=0'), 400, 'invalid_parameter');
    await assertError(await app.fetch('/images?before=../../etc/passwd'), 400, 'invalid_parameter');
  });

  it('serves the latest image, per source, and an ETag that revalidates', async () => {
    await assertError(await app.fetch('/images/latest'), 404, 'not_found');
    await postImage(app, await solidPng(11, 11), '?source=a', 'image/png');
    const res = await postImage(app, await solidPng(12, 12), '?source=b', 'image/png');
    const { images: [b] } = await res.json() as { images: Record[] };
    const latest = await app.fetch('/images/latest');
    assert.equal(latest.headers.get('x-image-id'), b.id);
    assert.equal((await sharp(Buffer.from(await latest.arrayBuffer())).metadata()).width, 12);
    const latestA = await app.fetch('/images/latest?source=a');
    assert.equal((await sharp(Buffer.from(await latestA.arrayBuffer())).metadata()).width, 11);
    const etag = (await app.fetch(b.url)).headers.get('etag');
    assert.ok(etag);
    // fetch() adds Cache-Control: no-cache to conditional requests, so ask as a browser cache would.
    assert.equal(await statusOf(`${app.url}${b.url}`, { 'If-None-Match': etag }), 304);
    const meta = await (await app.fetch(`${b.url}/meta`)).json() as Record;
    assert.equal(meta.id, b.id);
  });

  it('deletes one image and then all, leaving no files', async () => {
    const res = await postImage(app, await solidPng(8, 8), '', 'image/png');
    const { images: [image] } = await res.json() as { images: Record[] };
    await postImage(app, await solidPng(9, 9), '', 'image/png');
    assert.equal((await app.fetch(image.url, { method: 'DELETE' })).status, 204);
    await assertError(await app.fetch(image.url), 404, 'not_found');
    await assertError(await app.fetch(image.url, { method: 'DELETE' }), 404, 'not_found');
    await assertError(await app.fetch('/images', { method: 'DELETE' }), 400, 'invalid_parameter');
    const all = await app.fetch('/images?confirm=all', { method: 'DELETE' });
    assert.deepEqual(await all.json(), { deleted: 1 });
    assert.deepEqual(await filesIn(app.dataDir), []);
  });

  describe('bad input: a clear error and nothing left behind', () => {
    const cases: Array<[string, () => Promise<Response>, number, string]> = [
      ['empty body', () => postImage(app, Buffer.alloc(0)), 400, 'invalid_parameter'],
      ['bad source', async () => postImage(app, await solidPng(8, 8), '?source=../etc'), 400, 'invalid_parameter'],
      ['bad captured_at', async () => postImage(app, await solidPng(8, 8), '?captured_at=yesterday'), 400, 'invalid_parameter'],
      ['too many bytes (declared)', async () => postImage(app, Buffer.alloc(300_000, 0xff)), 413, 'payload_too_large'],
      ['too many bytes (streamed, no length)', () => app.fetch('/images', {
        method: 'POST', body: chunked(Buffer.alloc(300_000, 0xff)), duplex: 'half',
      } as RequestInit), 413, 'payload_too_large'],
      ['too many bytes (multipart)', async () => app.fetch('/images', { method: 'POST', body: form([Buffer.alloc(300_000, 0xff)]) }), 413, 'payload_too_large'],
      ['too many pixels', async () => postImage(app, await pngDeclaring(3000, 3000), '', 'image/png'), 413, 'too_many_pixels'],
      ['not an image', () => postImage(app, Buffer.from('{"hello": "world"}'), '', 'application/json'), 415, 'unsupported_media_type'],
      ['truncated JPEG', async () => postImage(app, (await photoLike(300, 200)).subarray(0, 4000)), 422, 'invalid_image'],
      ['multipart with no image field', async () => app.fetch('/images', { method: 'POST', body: form([await solidPng(8, 8)], 'other') }), 400, 'invalid_parameter'],
      ['a second image in the form is corrupt', async () => app.fetch('/images', {
        method: 'POST', body: form([await solidPng(8, 8), (await photoLike(300, 200)).subarray(0, 3000)]),
      }), 422, 'invalid_image'],
    ];
    for (const [name, send, status, code] of cases) {
      it(`${name}: ${status} ${code}`, async () => {
        await assertError(await send(), status, code);
        assert.deepEqual(await filesIn(app.dataDir), []);
        assert.deepEqual(((await (await app.fetch('/images')).json()) as { images: unknown[] }).images, []);
        assert.equal((await app.fetch('/health')).status, 200);
      });
    }
  });

  it('answers unknown paths and methods with JSON errors', async () => {
    await assertError(await app.fetch('/nope'), 404, 'not_found');
    await assertError(await app.fetch('/images/latest', { method: 'PUT' }), 405, 'method_not_allowed');
  });

  it('stores 50 concurrent uploads exactly once and lists them all', async () => {
    const uploads = await Promise.all(Array.from({ length: 50 }, (_, i) => photoLike(64 + i, 48, 'jpeg', i + 1)));
    const responses = await Promise.all(uploads.map((bytes) => postImage(app, bytes, '?source=burst')));
    const bodies = await Promise.all(responses.map((res) => res.json() as Promise<{ images: Record[] }>));
    assert.deepEqual(responses.map((res) => res.status), Array(50).fill(201));
    const ids = bodies.map((body) => body.images[0].id);
    assert.equal(new Set(ids).size, 50);
    const widths = bodies.map((body) => body.images[0].width).sort((a, b) => a - b);
    assert.deepEqual(widths, Array.from({ length: 50 }, (_, i) => 64 + i));
    const list = await (await app.fetch('/images?limit=100')).json() as { images: Record[] };
    assert.deepEqual(list.images.map((i) => i.id).sort(), [...ids].sort());
    assert.equal((await stored(app)).length, 100);
    assert.deepEqual((await filesIn(app.dataDir)).filter((f) => f.startsWith('tmp/')), []);
  });
});

describe('a full queue', () => {
  it('answers 503 busy with Retry-After and keeps nothing of the refused upload', async () => {
    const app = await startTestApp({ settings: { max_queue_length: 1 } });
    try {
      // Hold every processing slot (one per core; these tasks weigh nothing against the memory
      // budget) and the one waiting place.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => { release = resolve; });
      const holders = Array.from({ length: availableParallelism() + 1 }, () => app.deps.flow.queue.run(() => gate));
      const res = await postImage(app, await solidPng(8, 8), '', 'image/png');
      assert.equal(res.status, 503);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'busy');
      release();
      await Promise.all(holders);
      assert.deepEqual(await filesIn(app.dataDir), []);
      assert.equal((await postImage(app, await solidPng(8, 8), '', 'image/png')).status, 201);
    } finally {
      await app.destroy();
    }
  });
});

/** A request body with no Content-Length, so the limit must be enforced while streaming. */
function chunked(bytes: Buffer): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + 16384));
      offset += 16384;
    },
  });
}

describe('where an upload body is kept', () => {
  it('keeps a raw body no longer than the header read in memory, unwritten, and streams a longer one to the temp folder', async () => {
    const app = await startTestApp();
    try {
      const small = await photoLike(400, 300);
      const large = await photoLike(800, 600);
      assert.ok(small.length <= HEAD_BYTES && large.length > HEAD_BYTES, `${small.length} and ${large.length} bytes`);
      // What the request's temp folder holds while the store commits: the body's file, if any, and the PNG made of it.
      const held: string[][] = [];
      app.deps.store.beforeWrite = async (step) => {
        if (step !== 'png') return;
        const temp = (await filesIn(app.dataDir)).filter((file) => file.startsWith('tmp/'));
        held.push(temp.map((file) => (file.endsWith('.png') ? 'output.png' : file.split('/').pop()!)).sort());
      };
      for (const [body, width] of [[small, 400], [large, 800]] as const) {
        const res = await postImage(app, body);
        assert.equal(res.status, 201);
        assert.equal(((await res.json()) as { images: Record[] }).images[0].width, width);
      }
      assert.deepEqual(held, [['output.png'], ['body', 'output.png']]);
      // Once answered, nothing of either is left in the folders kept for later uploads.
      const leftInTemp = async () => (await filesIn(app.dataDir)).filter((file) => file.startsWith('tmp/'));
      for (let i = 0; i < 100 && (await leftInTemp()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(await leftInTemp(), []);
    } finally {
      await app.destroy();
    }
  });
});
