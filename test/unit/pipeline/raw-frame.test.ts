import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { AppError } from '../../../server/errors';
import { processImage } from '../../../server/pipeline/process-image';
import { RAW_ENCODINGS, type RawFrameSpec } from '../../../server/pipeline/raw-encodings';
import { DEFAULT_SETTINGS, type Settings } from '../../../server/settings';
import {
  bayerFixture, exactFixture, FIELD_COLOURS, fieldOf, FRAME_HEIGHT, FRAME_WIDTH, maxDifference, storedPixels,
  yuvFixture, type RawFixture,
} from '../../helpers/raw-frames';

describe('processImage with raw frames', () => {
  let dir: string;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-raw-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function run(bytes: Buffer, raw: RawFrameSpec, settings: Partial<Settings> = {}) {
    const file = join(dir, `in-${++n}`);
    const output = join(dir, `out-${n}.png`);
    await writeFile(file, bytes);
    const result = await processImage({ file, raw }, output, { ...DEFAULT_SETTINGS, ...settings });
    return { result, output };
  }

  function runFixture(f: RawFixture, extra: Partial<RawFrameSpec> = {}) {
    return run(f.bytes, { encoding: f.encoding, width: f.width, height: f.height, step: f.step, ...extra });
  }

  for (const encoding of ['rgb8', 'bgr8', '8UC3', 'rgba8', 'bgra8', 'mono8', '8UC1', 'mono16', '16UC1']) {
    for (const padding of [0, 7]) {
      it(`stores ${encoding}${padding ? ' with padded rows' : ''} pixel for pixel`, async () => {
        const f = exactFixture(encoding, padding);
        const { result, output } = await runFixture(f);
        const stored = await storedPixels(output, f.bits);
        assert.deepEqual([stored.width, stored.height, stored.channels], [FRAME_WIDTH, FRAME_HEIGHT, f.channels]);
        assert.ok(stored.data.equals(f.expected), `${encoding}: pixels differ by up to ${maxDifference(stored.data, f.expected)}`);
        assert.deepEqual(result.original, { width: FRAME_WIDTH, height: FRAME_HEIGHT, format: 'raw', bytes: f.bytes.length, orientation: 1 });
        assert.equal(result.rotated, false);
      });
    }
  }

  it('stores mono16 as a 16-bit grey PNG', async () => {
    const { output } = await runFixture(exactFixture('mono16'));
    const meta = await sharp(output).metadata();
    assert.deepEqual([meta.format, meta.channels, meta.depth, meta.space], ['png', 1, 'ushort', 'grey16']);
  });

  it('reads big-endian 16-bit samples when told so (ROS is_bigendian)', async () => {
    const f = exactFixture('16UC1');
    const { output } = await run(Buffer.from(f.bytes).swap16(), { encoding: '16UC1', width: f.width, height: f.height, bigEndian: true });
    assert.ok((await storedPixels(output, 16)).data.equals(f.expected));
  });

  for (const encoding of ['yuyv', 'yuv422_yuy2', 'uyvy', 'yuv422'] as const) {
    for (const padding of [0, 6]) {
      it(`converts ${encoding}${padding ? ' with padded rows' : ''} to RGB within 2 per channel`, async () => {
        const f = yuvFixture(encoding, padding);
        const { output } = await runFixture(f);
        const stored = await storedPixels(output, 8);
        assert.equal(stored.channels, 3);
        assert.ok(maxDifference(stored.data, f.expected) <= 2, `differs by ${maxDifference(stored.data, f.expected)}`);
      });
    }
  }

  for (const encoding of ['bayer_rggb8', 'bayer_bggr8', 'bayer_gbrg8', 'bayer_grbg8']) {
    for (const padding of [0, 3]) {
      it(`demosaics ${encoding}${padding ? ' with padded rows' : ''}: exact inside flat colour fields`, async () => {
        const f = bayerFixture(encoding, padding);
        const { output } = await runFixture(f);
        const { data, channels } = await storedPixels(output, 8);
        assert.equal(channels, 3);
        let checked = 0;
        for (let y = 0; y < FRAME_HEIGHT; y++) {
          for (let x = 0; x < FRAME_WIDTH; x++) {
            // Inside a field: every neighbour the interpolation reads is of the same colour.
            const field = fieldOf(x, y);
            if (fieldOf(Math.max(0, x - 1), y) !== field || fieldOf(Math.min(FRAME_WIDTH - 1, x + 1), y) !== field) continue;
            if (fieldOf(x, Math.max(0, y - 1)) !== field || fieldOf(x, Math.min(FRAME_HEIGHT - 1, y + 1)) !== field) continue;
            const i = (y * FRAME_WIDTH + x) * 3;
            assert.deepEqual([...data.subarray(i, i + 3)], [...FIELD_COLOURS[field]], `pixel ${x},${y}`);
            checked++;
          }
        }
        assert.ok(checked > FRAME_WIDTH * FRAME_HEIGHT * 0.8, `checked ${checked} pixels`);
      });
    }
  }

  it('resizes a raw frame past max_image_dimension like any image', async () => {
    const f = exactFixture('rgb8');
    const { result, output } = await run(f.bytes, { encoding: 'rgb8', width: f.width, height: f.height }, { max_image_dimension: 32 });
    assert.deepEqual([result.width, result.height, result.resized], [32, 24, true]);
    assert.deepEqual([(await sharp(output).metadata()).width], [32]);
  });

  async function refusal(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
    await assert.rejects(promise, (err: unknown) => {
      assert.ok(err instanceof AppError, String(err));
      assert.equal(err.code, code);
      assert.match(err.message, pattern);
      return true;
    });
  }

  it('refuses a frame whose length is not step x height, stating both numbers', async () => {
    const f = exactFixture('rgb8', 2);
    await refusal(runFixture({ ...f, bytes: f.bytes.subarray(1) }), 'invalid_parameter',
      new RegExp(`Expected ${f.step * f.height} bytes \\(step ${f.step} x height ${f.height}\\).* received ${f.bytes.length - 1}`));
  });

  it('refuses an unknown encoding, listing the known ones', async () => {
    await refusal(run(Buffer.alloc(16), { encoding: 'rgb565', width: 4, height: 2 }), 'invalid_parameter',
      new RegExp(`Expected one of ${RAW_ENCODINGS.join(', ')} for encoding but received "rgb565"`));
  });

  it('refuses a step shorter than a row, an odd YUV width and a Bayer frame of one row', async () => {
    await refusal(run(Buffer.alloc(20), { encoding: 'rgb8', width: 4, height: 2, step: 10 }), 'invalid_parameter', /step/);
    await refusal(run(Buffer.alloc(12), { encoding: 'yuyv', width: 3, height: 2 }), 'invalid_parameter', /even number/);
    await refusal(run(Buffer.alloc(8), { encoding: 'bayer_rggb8', width: 8, height: 1 }), 'invalid_parameter', /at least 2/);
  });

  it('refuses a frame of more pixels than max_input_pixels before reading it', async () => {
    const f = exactFixture('mono8');
    await refusal(run(f.bytes, { encoding: 'mono8', width: f.width, height: f.height }, { max_input_pixels: 1024 }),
      'too_many_pixels', /limit is 1024/);
  });
});
