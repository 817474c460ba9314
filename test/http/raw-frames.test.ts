import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { RAW_ENCODINGS } from '../../server/pipeline/raw-encodings';
import { solidPng } from '../helpers/fixtures';
import { bayerFixture, exactFixture, maxDifference, storedPixels, yuvFixture, type RawFixture } from '../helpers/raw-frames';
import { filesIn, startTestApp, type TestApp } from '../helpers/test-app';

interface Record { id: string; url: string; source: string; width: number; height: number; original: { format: string; bytes: number; orientation: number } }

function frameQuery(f: RawFixture, extra = ''): string {
  return `?encoding=${f.encoding}&width=${f.width}&height=${f.height}&step=${f.step}${extra}`;
}

describe('raw camera frames over HTTP', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ settings: { max_upload_bytes: 64 * 1024, max_input_pixels: 100_000 } });
  });
  after(() => app.destroy());
  beforeEach(async () => {
    await app.deps.store.deleteAll();
  });

  function post(body: Uint8Array, query: string, type = 'image/x-raw', path = '/images'): Promise<Response> {
    return app.fetch(`${path}${query}`, { method: 'POST', body, headers: { 'Content-Type': type } });
  }

  async function storedImage(res: Response, expectedStatus = 201): Promise<{ record: Record; png: Buffer }> {
    const body = await res.json() as { images: Record[] };
    assert.equal(res.status, expectedStatus, JSON.stringify(body));
    const record = body.images[0];
    const png = Buffer.from(await (await app.fetch(record.url)).arrayBuffer());
    return { record, png };
  }

  /** A refusal: status, code, message, and nothing left in the store or the data dir. */
  async function refused(res: Response, status: number, code: string, message: RegExp): Promise<void> {
    const body = await res.json() as { error: { code: string; message: string } };
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error.code, code);
    assert.match(body.error.message, message);
    const list = await (await app.fetch('/images')).json() as { images: unknown[] };
    assert.deepEqual(list.images, []);
    assert.deepEqual(await filesIn(app.dataDir), []);
  }

  const cases: Array<[string, () => RawFixture, string]> = [
    ['bgr8 as image/x-raw', () => exactFixture('bgr8'), 'image/x-raw'],
    ['8UC3 with padded rows as application/octet-stream', () => exactFixture('8UC3', 5), 'application/octet-stream'],
    ['rgba8', () => exactFixture('rgba8'), 'image/x-raw'],
    ['mono8', () => exactFixture('mono8', 3), 'image/x-raw'],
    ['mono16 as a 16-bit PNG', () => exactFixture('mono16'), 'image/x-raw'],
  ];
  for (const [name, make, type] of cases) {
    it(`stores ${name}, pixel for pixel`, async () => {
      const f = make();
      const { record, png } = await storedImage(await post(f.bytes, frameQuery(f, '&source=cam-raw'), type));
      assert.deepEqual([record.source, record.width, record.height], ['cam-raw', f.width, f.height]);
      assert.deepEqual([record.original.format, record.original.bytes, record.original.orientation], ['raw', f.bytes.length, 1]);
      const pixels = await storedPixels(png, f.bits);
      assert.equal(pixels.channels, f.channels);
      assert.ok(pixels.data.equals(f.expected), `differs by ${maxDifference(pixels.data, f.expected)}`);
    });
  }

  it('stores yuyv within 2 per channel, and a Bayer frame, through /upload too', async () => {
    const yuv = yuvFixture('yuv422_yuy2', 2);
    const { png } = await storedImage(await post(yuv.bytes, frameQuery(yuv), 'image/x-raw', '/upload'), 200);
    assert.ok(maxDifference((await storedPixels(png, 8)).data, yuv.expected) <= 2);
    const bayer = bayerFixture('bayer_grbg8');
    const { png: demosaiced } = await storedImage(await post(bayer.bytes, frameQuery(bayer)));
    const pixels = await storedPixels(demosaiced, 8);
    // The centre of the top-left field, far from any border between fields.
    const centre = (12 * bayer.width + 16) * 3;
    assert.deepEqual([...pixels.data.subarray(centre, centre + 3)], [...bayer.expected.subarray(centre, centre + 3)]);
  });

  it('still sniffs an application/octet-stream body sent without ?encoding=', async () => {
    const { record } = await storedImage(await post(await solidPng(20, 10), '', 'application/octet-stream'));
    assert.equal(record.original.format, 'png');
    await app.deps.store.deleteAll();
    await refused(await post(exactFixture('rgb8').bytes, '', 'application/octet-stream'), 415, 'unsupported_media_type', /not a JPEG/);
  });

  it('refuses a frame of the wrong length with the expected and received numbers', async () => {
    const f = exactFixture('rgb8', 4);
    await refused(await post(f.bytes.subarray(0, f.bytes.length - 10), frameQuery(f)), 400, 'invalid_parameter',
      new RegExp(`Expected ${f.step * f.height} bytes \\(step ${f.step} x height ${f.height}\\) for encoding rgb8 .*received ${f.bytes.length - 10}`));
    const longer = Buffer.concat([f.bytes, Buffer.alloc(1)]);
    await refused(await post(longer, frameQuery(f)), 400, 'invalid_parameter', new RegExp(`received ${longer.length}`));
  });

  it('refuses an unknown or missing encoding, listing the known ones', async () => {
    const listed = new RegExp(RAW_ENCODINGS.join(', '));
    await refused(await post(Buffer.alloc(32), '?encoding=rgb565&width=4&height=4'), 400, 'invalid_parameter', listed);
    await refused(await post(Buffer.alloc(32), '?width=4&height=4'), 400, 'invalid_parameter', listed);
  });

  it('refuses a missing or bad width, height or step', async () => {
    await refused(await post(Buffer.alloc(12), '?encoding=rgb8&height=2'), 400, 'invalid_parameter', /for width/);
    await refused(await post(Buffer.alloc(12), '?encoding=rgb8&width=2&height=0'), 400, 'invalid_parameter', /for height/);
    await refused(await post(Buffer.alloc(12), '?encoding=rgb8&width=2&height=2&step=5'), 400, 'invalid_parameter', /for step/);
    await refused(await post(Buffer.alloc(12), '?encoding=uyvy&width=3&height=2'), 400, 'invalid_parameter', /even number/);
  });

  it('applies the byte limit and max_input_pixels to raw frames', async () => {
    const big = Buffer.alloc(200 * 120 * 3);
    await refused(await post(big, '?encoding=rgb8&width=200&height=120'), 413, 'payload_too_large', /max_upload_bytes/);
    // Refused from the description, whatever the body holds.
    await refused(await post(Buffer.alloc(100), '?encoding=mono8&width=400&height=300'), 413, 'too_many_pixels', /limit is 100000/);
  });
});
