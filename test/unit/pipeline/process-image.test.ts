import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { AppError } from '../../../server/errors';
import { processImage } from '../../../server/pipeline/process-image';
import { readImageHeader } from '../../../server/pipeline/image-header';
import { DEFAULT_SETTINGS, type Settings } from '../../../server/settings';
import { closeColour, jpegWithOrientation, photoLike, pngDeclaring, QUADRANT_COLOURS, quadrantColours } from '../../helpers/fixtures';

const UPRIGHT = [QUADRANT_COLOURS.topLeft, QUADRANT_COLOURS.topRight, QUADRANT_COLOURS.bottomLeft, QUADRANT_COLOURS.bottomRight];

describe('processImage', () => {
  let dir: string;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-process-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function run(bytes: Buffer, settings: Partial<Settings> = {}) {
    const input = join(dir, `in-${++n}`);
    const output = join(dir, `out-${n}.png`);
    await writeFile(input, bytes);
    const result = await processImage(input, output, { ...DEFAULT_SETTINGS, ...settings });
    return { result, output };
  }

  for (let orientation = 1; orientation <= 8; orientation++) {
    it(`turns EXIF orientation ${orientation} upright, by pixel content`, async () => {
      const { result, output } = await run(await jpegWithOrientation(orientation, 96, 64));
      const { width, height, colours } = await quadrantColours(await sharp(output).toBuffer());
      assert.deepEqual([width, height], [96, 64]);
      colours.forEach((colour, i) => assert.ok(closeColour(colour, UPRIGHT[i]), `quadrant ${i}: ${colour} vs ${UPRIGHT[i]}`));
      assert.equal(result.original.orientation, orientation);
      assert.equal(result.rotated, orientation !== 1);
      assert.deepEqual([result.width, result.height], [96, 64]);
    });
  }

  for (let orientation = 1; orientation <= 8; orientation++) {
    it(`turns EXIF orientation ${orientation} upright when it also resizes (resize runs first)`, async () => {
      const { result, output } = await run(await jpegWithOrientation(orientation, 192, 128), { max_image_dimension: 96 });
      const { width, height, colours } = await quadrantColours(await sharp(output).toBuffer());
      assert.deepEqual([width, height], [96, 64]);
      colours.forEach((colour, i) => assert.ok(closeColour(colour, UPRIGHT[i]), `quadrant ${i}: ${colour} vs ${UPRIGHT[i]}`));
      assert.equal(result.resized, true);
    });
  }

  it('uses the header the upload flow read to weigh the image, instead of reading it again', async () => {
    const jpeg = await jpegWithOrientation(6, 192, 128);
    const input = join(dir, `in-${++n}`);
    await writeFile(input, jpeg);
    const settings = { ...DEFAULT_SETTINGS, max_image_dimension: 96 };
    const header = await readImageHeader(input);
    // Stored sideways (orientation 6): the header gives the stored size.
    assert.deepEqual(header, { format: 'jpeg', width: 128, height: 192 });
    const withHeader = await processImage(input, join(dir, `out-${n}-a.png`), settings, header!);
    const without = await processImage(input, join(dir, `out-${n}-b.png`), settings);
    assert.deepEqual(withHeader, without);
    assert.deepEqual(await readFile(join(dir, `out-${n}-a.png`)), await readFile(join(dir, `out-${n}-b.png`)));
    // The header is trusted: one naming too many pixels is refused as such, before any decoding.
    await assert.rejects(processImage(input, join(dir, `out-${n}-c.png`), settings, { format: 'jpeg', width: 20_000, height: 20_000 }), { code: 'too_many_pixels' });
  });

  it('reads an encoded image from memory as from its file: the same PNG and the same facts', async () => {
    const jpeg = await jpegWithOrientation(6, 96, 64);
    const { result: fromFile, output } = await run(jpeg);
    const fromMemory = join(dir, `out-${++n}-memory.png`);
    const result = await processImage({ bytes: jpeg }, fromMemory, DEFAULT_SETTINGS, (await readImageHeader(jpeg))!);
    assert.deepEqual(result, fromFile);
    assert.equal(result.original.bytes, jpeg.length);
    assert.deepEqual(await readFile(fromMemory), await readFile(output));
    const { colours } = await quadrantColours(await readFile(fromMemory));
    colours.forEach((colour, i) => assert.ok(closeColour(colour, UPRIGHT[i]), `quadrant ${i}: ${colour} vs ${UPRIGHT[i]}`));
    // Refused as from a file: bytes that are no image, from their start.
    await assert.rejects(processImage({ bytes: Buffer.from('no image at all') }, join(dir, `out-${n}-x.png`), DEFAULT_SETTINGS), { code: 'unsupported_media_type' });
  });

  it('bounds the longest side and keeps the aspect ratio, after turning', async () => {
    // Stored 300 wide x 450 high with orientation 6: upright it is 450 x 300.
    const { result, output } = await run(await jpegWithOrientation(6, 450, 300), { max_image_dimension: 150 });
    const meta = await sharp(output).metadata();
    assert.deepEqual([meta.width, meta.height, meta.format], [150, 100, 'png']);
    assert.equal(result.resized, true);
    const { colours } = await quadrantColours(await sharp(output).toBuffer());
    colours.forEach((colour, i) => assert.ok(closeColour(colour, UPRIGHT[i], 40)));
  });

  it('never enlarges a small image', async () => {
    const { result, output } = await run(await photoLike(120, 80), { max_image_dimension: 2000 });
    const meta = await sharp(output).metadata();
    assert.deepEqual([meta.width, meta.height], [120, 80]);
    assert.equal(result.resized, false);
  });

  it('stores a smaller PNG at a higher zlib level', async () => {
    const photo = await photoLike(400, 300);
    const fast = await run(photo, { compression_quality: 0 });
    const small = await run(photo, { compression_quality: 9 });
    assert.ok(small.result.bytes < fast.result.bytes * 0.8, `${small.result.bytes} vs ${fast.result.bytes}`);
    assert.equal(small.result.compression_level, 9);
    // The pixels are the same: PNG is lossless at every level.
    const [a, b] = await Promise.all([fast.output, small.output].map((f) => sharp(f).raw().toBuffer()));
    assert.ok(a.equals(b));
  });

  it('filters rows adaptively: smaller than an unfiltered PNG at the same level', async () => {
    const photo = await photoLike(400, 300);
    const { result } = await run(photo, { compression_quality: 6 });
    const unfiltered = await sharp(photo).png({ compressionLevel: 6 }).toBuffer();
    assert.ok(result.bytes < unfiltered.length, `${result.bytes} vs ${unfiltered.length}`);
  });

  it('accepts PNG and WebP input', async () => {
    for (const format of ['png', 'webp'] as const) {
      const { result } = await run(await photoLike(64, 48, format));
      assert.equal(result.original.format, format);
      assert.deepEqual([result.width, result.height], [64, 48]);
    }
  });

  it('refuses a decompression bomb from its header', async () => {
    await assert.rejects(run(await pngDeclaring(50000, 50000)), (err: AppError) => err.code === 'too_many_pixels');
  });

  it('refuses bytes that are no image, and truncated images', async () => {
    await assert.rejects(run(Buffer.from('not an image at all')), (err: AppError) => err.code === 'unsupported_media_type');
    const jpeg = await photoLike(200, 150);
    await assert.rejects(run(jpeg.subarray(0, jpeg.length >> 1)), (err: AppError) => err.code === 'invalid_image');
  });

  it('stores a JPEG with broken EXIF as upright', async () => {
    const jpeg = await jpegWithOrientation(6, 96, 64);
    const broken = withBrokenExif(jpeg);
    const { result } = await run(broken);
    assert.equal(result.original.orientation, 1);
    assert.equal(result.rotated, false);
  });
});

/** Overwrites the TIFF header inside the Exif APP1 segment with garbage. */
function withBrokenExif(jpeg: Buffer): Buffer {
  const copy = Buffer.from(jpeg);
  const exif = copy.indexOf('Exif\0\0', 0, 'latin1');
  assert.ok(exif > 0, 'fixture has an Exif segment');
  copy.fill(0xee, exif + 6, exif + 40);
  return copy;
}
