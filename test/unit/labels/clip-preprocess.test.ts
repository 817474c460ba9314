import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clipPixelValues, parsePreprocessorConfig, resizedSize, resizeLikePil } from '../../../server/labels/clip-preprocess';
import { CLIP_MEAN, CLIP_STD, halveBilinear, patterned } from '../../helpers/tiny-clip';

/**
 * Bytes Pillow 9.4.0 (Debian's python3-pil) made of the same images:
 *   Image.frombytes('RGB', (w, h), bytes(((x*37 + y*91 + c*53 + x*y*7) % 256) for y in range(h)
 *     for x in range(w) for c in range(3))).resize((ow, oh), resample=f).tobytes()
 */
const PILLOW: Record<string, { from: [number, number]; to: [number, number]; resample: number; bytes: number[] }> = {
  'bicubic, 13×9 to 5×4': {
    from: [13, 9], to: [5, 4], resample: 3,
    bytes: [101, 130, 143, 122, 135, 147, 123, 125, 134, 112, 126, 139, 118, 147, 115, 126, 133, 128, 144, 140, 134, 139, 130, 122, 128, 129, 129, 137, 145, 145,
      112, 154, 122, 128, 128, 110, 146, 137, 126, 125, 132, 105, 140, 104, 130, 131, 102, 150, 133, 117, 140, 119, 122, 125, 127, 124, 134, 129, 97, 156],
  },
  'Lanczos, 9×13 to 4×5': {
    from: [9, 13], to: [4, 5], resample: 1,
    bytes: [102, 126, 140, 122, 136, 152, 130, 132, 134, 109, 124, 133, 123, 146, 121, 143, 135, 124, 147, 138, 124, 132, 130, 124, 111, 137, 137, 115, 128, 122,
      147, 120, 127, 121, 137, 112, 147, 101, 132, 163, 114, 141, 99, 142, 122, 144, 115, 146, 155, 120, 135, 131, 122, 93, 93, 159, 115, 94, 115, 183],
  },
};

describe('CLIP preprocessing (preprocessor_config.json, as CLIPImageProcessor does it)', () => {
  for (const [name, ref] of Object.entries(PILLOW)) {
    it(`resizes as Pillow does, byte for byte: ${name}`, () => {
      const [w, h] = ref.from;
      assert.deepEqual(Array.from(resizeLikePil(patterned(w, h), w, h, ref.to[0], ref.to[1], ref.resample)), ref.bytes);
    });
  }

  it('takes the shortest edge to size and cuts the other down to an integer', () => {
    assert.deepEqual(resizedSize(640, 480, 224), { width: 298, height: 224 });
    assert.deepEqual(resizedSize(480, 640, 224), { width: 224, height: 298 });
    assert.deepEqual(resizedSize(13, 9, 4), { width: 5, height: 4 });
  });

  it('resizes, crops the centre, rescales and normalises, channels first: every value worked out by hand', () => {
    const [w, h] = [12, 8];
    const rgb = patterned(w, h);
    const config = parsePreprocessorConfig({
      do_resize: true, size: { shortest_edge: 4 }, resample: 2, do_center_crop: true, crop_size: { height: 4, width: 4 },
      do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: CLIP_MEAN, image_std: CLIP_STD,
    });
    const got = clipPixelValues(rgb, w, h, config);
    assert.equal(got.width, 4);
    assert.equal(got.height, 4);
    // 12×8 → 6×4: halved both ways, rows first; then columns 1..4 of 6 ((6 - 4) / 2 = 1), all 4 rows.
    for (let c = 0; c < 3; c++) {
      const rows = Array.from({ length: h }, (_, y) => halveBilinear(Array.from({ length: w }, (_, x) => rgb[(y * w + x) * 3 + c])));
      const resized = Array.from({ length: 6 }, (_, x) => halveBilinear(rows.map((row) => row[x])));
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) {
          const expected = (resized[x + 1][y] / 255 - CLIP_MEAN[c]) / CLIP_STD[c];
          assert.ok(Math.abs(got.data[(c * 4 + y) * 4 + x] - expected) < 1e-6, `channel ${c} (${x}, ${y}): ${got.data[(c * 4 + y) * 4 + x]} is not ${expected}`);
        }
      }
    }
  });

  it('reads the older Xenova form (size and crop_size as numbers) and fills in CLIP\'s own values', () => {
    const config = parsePreprocessorConfig({ size: 224, crop_size: 224, resample: 3 });
    assert.equal(config.shortestEdge, 224);
    assert.deepEqual(config.crop, { width: 224, height: 224 });
    assert.deepEqual(config.mean, CLIP_MEAN);
    assert.equal(config.rescale_factor, 1 / 255);
    assert.throws(() => parsePreprocessorConfig({ resample: 9 }), /resample 9/);
  });

  it('follows do_ flags: no resize, no crop, no normalisation leaves the rescaled pixels', () => {
    const rgb = patterned(3, 2);
    const got = clipPixelValues(rgb, 3, 2, parsePreprocessorConfig({ do_resize: false, do_center_crop: false, do_normalize: false }));
    assert.deepEqual([got.width, got.height], [3, 2]);
    // Channel 1 of pixel (2, 1), channels first.
    assert.ok(Math.abs(got.data[(1 * 2 + 1) * 3 + 2] - rgb[(1 * 3 + 2) * 3 + 1] / 255) < 1e-7);
  });
});
