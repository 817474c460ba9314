import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import sharp from 'sharp';
import { MAX_JSON_DEPTH } from '../../server/http/read-json';
import { FORM_LIMITS } from '../../server/http/upload-body';
import { photoLike } from '../helpers/fixtures';
import { openSocket, readUntilClosed, sendChunked, type ChunkedOutcome } from '../helpers/raw-http';
import { filesIn, postImage, startTestApp, type TestApp } from '../helpers/test-app';

/**
 * Every way a body comes in, driven as a hostile client would: bodies that never declare their
 * length, never end a header, nest without end or repeat a field. Each must be refused with a
 * clear 4xx in the error shape, leave nothing on disk, and leave the daemon answering.
 */
describe('hostile request bodies', { timeout: 120_000 }, () => {
  const MAX_UPLOAD = 1024 * 1024;
  const BOUNDARY = 'hostile-boundary';
  let app: TestApp;
  let jpeg: Buffer;
  before(async () => {
    app = await startTestApp({ settings: { max_upload_bytes: MAX_UPLOAD } });
    jpeg = await photoLike(64, 48);
  });
  after(() => app.destroy());

  const multipartType = { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, Connection: 'close' };
  const partHead = (head: string): Buffer => Buffer.from(`--${BOUNDARY}\r\n${head}\r\n\r\n`);
  const closing = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

  /** The refusal is in the error shape with `status` and `code`, the daemon still answers, and nothing was kept. */
  async function assertRefused(outcome: ChunkedOutcome, status: number, code: string): Promise<void> {
    assert.equal(outcome.status, status, outcome.text.slice(0, 300));
    const body = JSON.parse(outcome.text.slice(outcome.text.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
    assert.equal(body.error.code, code);
    assert.ok(body.error.message.length > 0);
    assert.match(outcome.text, /\r\nconnection: close\r\n/i);
    assert.equal((await app.fetch('/health')).status, 200);
    assert.equal(app.deps.store.totals().count, 0);
    assert.deepEqual((await filesIn(app.dataDir)).filter((file) => file.startsWith('images/') || file.startsWith('tmp/')), []);
  }

  it('refuses a multipart part header that never ends after 16 KiB, having read no more than that', async () => {
    const rssBefore = process.memoryUsage.rss();
    const outcome = await sendChunked(app.url, '/images', multipartType, {
      prefix: partHead('Content-Disposition: form-data; name="image"; filename="a.png"').subarray(0, -4),
      filler: Buffer.concat([Buffer.from('\r\nX-Junk: '), Buffer.alloc(64 * 1024, 'A')]).subarray(0, 64 * 1024),
      totalBytes: 64 * 1024 * 1024,
    });
    await assertRefused(outcome, 400, 'invalid_parameter');
    assert.match(outcome.text, /part header/);
    assert.ok(process.memoryUsage.rss() - rssBefore < 32 * 1024 * 1024, 'memory grew by less than 32 MiB');
  });

  it('counts every byte of a chunked multipart body, the parts of fields it ignores included', async () => {
    const outcome = await sendChunked(app.url, '/images', multipartType, {
      prefix: Buffer.concat([partHead('Content-Disposition: form-data; name="image"; filename="a.jpg"'), jpeg, Buffer.from('\r\n'),
        partHead('Content-Disposition: form-data; name="ignored"; filename="big.bin"')]),
      filler: Buffer.alloc(64 * 1024, 1),
      totalBytes: 8 * 1024 * 1024,
      suffix: closing,
    });
    await assertRefused(outcome, 413, 'payload_too_large');
  });

  it('refuses a chunked raw body at max_upload_bytes', async () => {
    const outcome = await sendChunked(app.url, '/images', { 'Content-Type': 'image/jpeg' }, {
      prefix: jpeg, filler: Buffer.alloc(64 * 1024, 7), totalBytes: 8 * 1024 * 1024,
    });
    await assertRefused(outcome, 413, 'payload_too_large');
  });

  it('caps the parts of a form, the length of a field name and of a field value', async () => {
    const fields = Array.from({ length: FORM_LIMITS.fields + 1 }, (_, i) => Buffer.concat([partHead(`Content-Disposition: form-data; name="f${i}"`), Buffer.from('x\r\n')]));
    const cases: Array<[string, Buffer[], number, RegExp]> = [
      ['too many fields', fields, 413, /too many parts/],
      ['a long field name', [partHead(`Content-Disposition: form-data; name="${'n'.repeat(FORM_LIMITS.nameBytes + 1)}"`), Buffer.from('x')], 400, /field name/],
      ['a long field value', [partHead('Content-Disposition: form-data; name="source"'), Buffer.alloc(FORM_LIMITS.fieldBytes + 1, 'v')], 400, /longer than/],
    ];
    for (const [name, parts, status, message] of cases) {
      const outcome = await sendChunked(app.url, '/images', multipartType, { prefix: Buffer.concat([...parts, closing]) });
      await assertRefused(outcome, status, status === 413 ? 'payload_too_large' : 'invalid_parameter');
      assert.match(outcome.text, message, name);
    }
  });

  it('keeps nothing of a chunked upload the client abandons midway', async () => {
    const outcome = await sendChunked(app.url, '/images', { 'Content-Type': 'image/jpeg' }, {
      prefix: jpeg.subarray(0, 1000), end: false,
    }, 5000);
    // Half-closed, the client can still read the daemon's 400; either way nothing is left behind.
    assert.ok(outcome.status === undefined || outcome.status === 400, outcome.text.slice(0, 200));
    // The temp dir may vanish while it is listed: that counts as not gone yet, and is looked at again.
    const leftInTmp = () => filesIn(app.dataDir).then((files) => files.some((f) => f.startsWith('tmp/')), () => true);
    for (let i = 0; i < 50 && (await leftInTmp()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await filesIn(app.dataDir)).filter((file) => file.startsWith('images/') || file.startsWith('tmp/')), []);
    assert.equal((await app.fetch('/health')).status, 200);
  });

  it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels with 400, and a chunked JSON body past its limit with 413`, async () => {
    const before = await (await app.fetch('/config')).text();
    for (const path of ['/config', '/compare-features']) {
      const deep = await sendChunked(app.url, path, { 'Content-Type': 'application/json', Connection: 'close' }, {
        prefix: Buffer.from(`${'['.repeat(20_000)}${']'.repeat(20_000)}`),
      });
      assert.equal(deep.status, 400, `${path}: ${deep.text.slice(0, 200)}`);
      assert.match(deep.text, /nests deeper than 32 levels/);
    }
    const long = await sendChunked(app.url, '/config', { 'Content-Type': 'application/json' }, {
      prefix: Buffer.from('{"compression_quality": 9, "x": "'), filler: Buffer.alloc(16 * 1024, 'a'), totalBytes: 4 * 1024 * 1024,
    });
    await assertRefused(long, 413, 'payload_too_large');
    assert.equal(await (await app.fetch('/config')).text(), before);
  });

  it('refuses a protobuf message that repeats its data field at the second one', async () => {
    // 500,000 empty data fields: 1 MB that once took the request handler 20 s to walk.
    const writer = protobuf.Writer.create();
    writer.uint32((2 << 3) | 5).fixed32(4);
    for (let i = 0; i < 500_000; i++) writer.uint32((6 << 3) | 2).bytes(Buffer.alloc(0));
    const body = Buffer.from(writer.finish());
    const response = await app.fetch('/images?schema=foxglove.RawImage', { method: 'POST', body, headers: { 'Content-Type': 'application/x-protobuf' } });
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, 'invalid_parameter');
    assert.match(error.message, /field 6 appears more than once/);
    assert.equal(app.deps.store.totals().count, 0);
  });

  it('answers request headers past 16 KiB, and bytes that are not HTTP, in the error shape', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['endless headers', `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Junk: ${'A'.repeat(64 * 1024)}`, 431, 'headers_too_large'],
      ['not HTTP', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello to a plain port\r\n\r\n', 400, 'invalid_parameter'],
    ];
    for (const [name, bytes, status, code] of cases) {
      const socket = await openSocket(app.url);
      const answer = readUntilClosed(socket);
      socket.write(Buffer.from(bytes, 'latin1'));
      const text = await answer;
      assert.match(text, new RegExp(`^HTTP/1.1 ${status} `), name);
      assert.equal((JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { code: string } }).error.code, code, name);
    }
    assert.equal((await app.fetch('/health')).status, 200);
  });

  it('still stores a well-formed chunked multipart upload', async () => {
    const outcome = await sendChunked(app.url, '/images?source=chunked', multipartType, {
      prefix: Buffer.concat([partHead('Content-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg'), jpeg, closing]),
    });
    assert.equal(outcome.status, 201, outcome.text.slice(0, 300));
    const image = app.deps.store.latest('chunked');
    assert.deepEqual([image?.width, image?.height], [64, 48]);
    await app.deps.removal.removeAll();
  });
});

describe('an image within max_input_pixels that the memory budget cannot hold', () => {
  it('is refused with 413 before it is decoded, and a smaller one is stored', async () => {
    // 128 MB leaves about 38 MB beside the daemon at rest; a 10 MP PNG kept at full size needs about 50.
    const app = await startTestApp({ settings: { memory_budget_mb: 128, max_image_dimension: 4000 } });
    try {
      const solid = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#336699' } }).png({ compressionLevel: 1 }).toBuffer();
      const big = await postImage(app, await solid(4000, 2500), '?source=big', 'image/png');
      assert.equal(big.status, 413);
      const { error } = (await big.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, 'too_many_pixels');
      assert.match(error.message, /needs about \d+ MB, more than the memory budget of 128 MB \(memory_budget_mb\) leaves beside the daemon at rest/);
      assert.equal(app.deps.imageWorker.status().starts, 0, 'no worker was started to decode it');
      const small = await postImage(app, await solid(1000, 1000), '?source=small', 'image/png');
      assert.equal(small.status, 201);
      assert.deepEqual((await filesIn(app.dataDir)).filter((file) => file.startsWith('tmp/')), []);
      assert.equal(app.deps.store.totals().count, 1);
    } finally {
      await app.destroy();
    }
  });
});
