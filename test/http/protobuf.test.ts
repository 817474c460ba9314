import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { IMAGE_SCHEMAS } from '../../server/messages/image-schemas';
import { photoLike, solidPng } from '../helpers/fixtures';
import { encodeMessage } from '../helpers/image-messages';
import { bayerFixture, exactFixture, maxDifference, storedPixels } from '../helpers/raw-frames';
import { filesIn, startTestApp, type TestApp } from '../helpers/test-app';

interface Record { id: string; url: string; source: string; captured_at: string | null; width: number; height: number; original: { format: string } }

/** 2026-11-24T08:30:00.250Z as protobuf seconds and nanoseconds. */
const SECONDS = Date.UTC(2026, 10, 24, 8, 30, 0) / 1000;
const NANOS = 250_000_000;
const CAPTURED_AT = '2026-11-24T08:30:00.250Z';

describe('protobuf image messages over HTTP', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ settings: { max_upload_bytes: 64 * 1024 } });
  });
  after(() => app.destroy());
  beforeEach(async () => {
    await app.deps.store.deleteAll();
  });

  function post(body: Uint8Array, query: string, headers: { [name: string]: string } = {}): Promise<Response> {
    return app.fetch(`/images${query}`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-protobuf', ...headers } });
  }

  async function storedImage(res: Response): Promise<{ record: Record; png: Buffer }> {
    const body = await res.json() as { images: Record[] };
    assert.equal(res.status, 201, JSON.stringify(body));
    const record = body.images[0];
    return { record, png: Buffer.from(await (await app.fetch(record.url)).arrayBuffer()) };
  }

  async function refused(res: Response, message: RegExp): Promise<void> {
    const body = await res.json() as { error: { code: string; message: string } };
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(body.error.code, 'invalid_parameter');
    assert.match(body.error.message, message);
    const list = await (await app.fetch('/images')).json() as { images: unknown[] };
    assert.deepEqual(list.images, []);
    assert.deepEqual(await filesIn(app.dataDir), []);
  }

  it('stores a foxglove.CompressedImage: its timestamp is captured_at, its frame_id the source', async () => {
    const jpeg = await photoLike(48, 32, 'jpeg');
    const body = encodeMessage('foxglove.CompressedImage', {
      timestamp: { seconds: SECONDS, nanos: NANOS }, frame_id: 'front_camera', data: jpeg, format: 'jpeg', message_id: 'x',
    });
    const { record } = await storedImage(await post(body, '?schema=foxglove.CompressedImage'));
    assert.deepEqual([record.source, record.captured_at, record.width, record.height, record.original.format],
      ['front_camera', CAPTURED_AT, 48, 32, 'jpeg']);
  });

  it("accepts eCAL's proto: form in X-Schema, and a source given by the client over frame_id", async () => {
    const body = encodeMessage('foxglove.CompressedImage', { frame_id: 'cam', data: await solidPng(8, 8), format: 'png' });
    const { record } = await storedImage(await post(body, '?source=given', { 'X-Schema': 'proto:foxglove.CompressedImage' }));
    assert.deepEqual([record.source, record.captured_at], ['given', null]);
  });

  it('stores a foxglove.RawImage pixel for pixel, padded rows included', async () => {
    const f = exactFixture('bgra8', 8);
    const body = encodeMessage('foxglove.RawImage', {
      timestamp: { seconds: SECONDS, nanos: NANOS }, frame_id: 'cam/left image', width: f.width, height: f.height,
      encoding: f.encoding, step: f.step, data: f.bytes,
    });
    const { record, png } = await storedImage(await post(body, '?schema=foxglove.RawImage'));
    // frame_id made to fit a source name: '/' and ' ' become '-'.
    assert.deepEqual([record.source, record.captured_at, record.original.format], ['cam-left-image', CAPTURED_AT, 'raw']);
    assert.ok((await storedPixels(png, 8)).data.equals(f.expected));
  });

  it('stores a ros.sensor_msgs.Image (bgr8, big-endian 16UC1 and Bayer) with header.stamp as captured_at', async () => {
    const header = { seq: 7, stamp: { sec: SECONDS, nsec: NANOS }, frame_id: '/base_link' };
    const bgr = exactFixture('bgr8');
    const rgbBody = encodeMessage('ros.sensor_msgs.Image', { header, height: bgr.height, width: bgr.width, encoding: 'bgr8', is_bigendian: 0, step: bgr.step, data: bgr.bytes });
    const { record, png } = await storedImage(await post(rgbBody, '?schema=ros.sensor_msgs.Image'));
    assert.deepEqual([record.source, record.captured_at], ['base_link', CAPTURED_AT]);
    assert.ok((await storedPixels(png, 8)).data.equals(bgr.expected));

    const deep = exactFixture('16UC1');
    const deepBody = encodeMessage('ros.sensor_msgs.Image', {
      header, height: deep.height, width: deep.width, encoding: '16UC1', is_bigendian: 1, step: deep.step, data: Buffer.from(deep.bytes).swap16(),
    });
    const { png: png16 } = await storedImage(await post(deepBody, '?schema=proto:ros.sensor_msgs.Image'));
    assert.ok((await storedPixels(png16, 16)).data.equals(deep.expected));

    const bayer = bayerFixture('bayer_rggb8');
    const bayerBody = encodeMessage('ros.sensor_msgs.Image', { header, height: bayer.height, width: bayer.width, encoding: bayer.encoding, data: bayer.bytes });
    const { png: demosaiced } = await storedImage(await post(bayerBody, '?schema=ros.sensor_msgs.Image'));
    const centre = (12 * bayer.width + 16) * 3;
    assert.equal(maxDifference((await storedPixels(demosaiced, 8)).data.subarray(centre, centre + 3), bayer.expected.subarray(centre, centre + 3)), 0);
  });

  it('stores a ros.sensor_msgs.CompressedImage', async () => {
    const body = encodeMessage('ros.sensor_msgs.CompressedImage', {
      header: { stamp: { sec: SECONDS, nsec: NANOS }, frame_id: 'cam_1' }, format: 'bgr8; jpeg compressed bgr8', data: await photoLike(40, 30, 'jpeg'),
    });
    const { record } = await storedImage(await post(body, '?schema=ros.sensor_msgs.CompressedImage'));
    assert.deepEqual([record.source, record.captured_at, record.width], ['cam_1', CAPTURED_AT, 40]);
  });

  it('refuses a missing or unknown schema, listing the known ones', async () => {
    const body = encodeMessage('foxglove.CompressedImage', { data: await solidPng(8, 8), format: 'png' });
    const listed = new RegExp(IMAGE_SCHEMAS.join(', '));
    await refused(await post(body, ''), listed);
    await refused(await post(body, '?schema=foxglove.PointCloud'), listed);
  });

  it('refuses a malformed message, one without data, and a raw one of the wrong length', async () => {
    const jpeg = await photoLike(48, 32, 'jpeg');
    const whole = encodeMessage('foxglove.CompressedImage', { frame_id: 'cam', data: jpeg, format: 'jpeg' });
    await refused(await post(whole.subarray(0, whole.length - 100), '?schema=foxglove.CompressedImage'), /not a valid foxglove.CompressedImage message/);
    await refused(await post(encodeMessage('foxglove.RawImage', { width: 4, height: 4, encoding: 'rgb8' }), '?schema=foxglove.RawImage'), /has no image data/);
    const f = exactFixture('rgb8');
    const short = encodeMessage('foxglove.RawImage', { width: f.width, height: f.height, encoding: 'rgb8', data: f.bytes.subarray(3) });
    await refused(await post(short, '?schema=foxglove.RawImage'), new RegExp(`Expected ${f.bytes.length} bytes .* received ${f.bytes.length - 3}`));
    const unknown = encodeMessage('foxglove.RawImage', { width: 2, height: 2, encoding: 'rgb565', data: Buffer.alloc(8) });
    await refused(await post(unknown, '?schema=foxglove.RawImage'), /Expected one of rgb8, bgr8/);
  });

  it('refuses a frame_id that cannot become a source when no source is given', async () => {
    const body = encodeMessage('foxglove.CompressedImage', { frame_id: '///', data: await solidPng(8, 8), format: 'png' });
    await refused(await post(body, '?schema=foxglove.CompressedImage'), /frame_id/);
  });
});
