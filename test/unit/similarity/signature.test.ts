import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { scene, variantOf } from '../../helpers/scenes';
import { computeSignature, hammingDistance, popcount32, signatureOfRaster } from '../../../server/similarity/signature';

test('popcount32 counts the set bits of any 32-bit word', () => {
  for (const [word, bits] of [[0, 0], [1, 1], [0xffffffff, 32], [0x80000001, 2], [0x0f0f0f0f, 16]] as const) {
    assert.equal(popcount32(word), bits);
  }
});

test('the same scene re-encoded, resized or brightened stays within a few bits', async () => {
  const png = await scene(101);
  const original = await computeSignature(png);
  assert.match(original.phash, /^[0-9a-f]{16}$/);
  assert.match(original.colors, /^[0-9a-f]{24}$/);
  for (const variant of ['jpeg_q30', 'resized', 'brighter_30'] as const) {
    const distance = hammingDistance(original.phash, (await computeSignature(await variantOf(png, variant))).phash);
    assert.ok(distance <= 10, `${variant}: ${distance} bits apart`);
  }
});

test('different scenes lie far apart', async () => {
  const a = await computeSignature(await scene(201));
  const b = await computeSignature(await scene(202));
  assert.ok(hammingDistance(a.phash, b.phash) >= 16, `${a.phash} vs ${b.phash}`);
});

test('the colour summary is the mean colour of each quarter', async () => {
  // Red, green, blue and white quarters.
  const raw = Buffer.alloc(32 * 32 * 3);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const rgb = y < 16 ? (x < 16 ? [255, 0, 0] : [0, 255, 0]) : x < 16 ? [0, 0, 255] : [255, 255, 255];
      raw.set(rgb, (y * 32 + x) * 3);
    }
  }
  assert.equal(signatureOfRaster(raw).colors, 'ff000000ff000000ffffffff');
  const png = await sharp(raw, { raw: { width: 32, height: 32, channels: 3 } }).png().toBuffer();
  assert.equal((await computeSignature(png)).colors, 'ff000000ff000000ffffffff');
});

test('a flat image hashes without error, to the same hash at another size and format', async () => {
  const grey = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#777777' } }).png().toBuffer();
  const again = await sharp({ create: { width: 100, height: 80, channels: 3, background: '#777777' } }).jpeg({ quality: 90 }).toBuffer();
  const a = await computeSignature(grey);
  const b = await computeSignature(again);
  assert.match(a.phash, /^[0-9a-f]{16}$/);
  assert.equal(a.colors, '777777'.repeat(4));
  assert.equal(hammingDistance(a.phash, b.phash), 0);
});
