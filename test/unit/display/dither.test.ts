import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DITHER_METHODS, ditherImage, ditherImageAsync, PALETTES, resolvePalette, type PaletteName } from '../../../server/display/dither';

/** A black-to-white ramp, one grey level per column position, `height` rows. */
function ramp(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rgb.fill(Math.round((255 * x) / (width - 1)), (y * width + x) * 3, (y * width + x) * 3 + 3);
  }
  return rgb;
}

describe('ditherImage', () => {
  for (const method of ['floyd-steinberg', 'atkinson'] as const) {
    it(`keeps the tone of a black-to-white ramp on bw (${method})`, () => {
      const width = 1024;
      const height = 64;
      const palette = resolvePalette('bw');
      const indices = ditherImage(ramp(width, height), width, height, { palette, method });
      const white = palette.findIndex(([r]) => r === 255);
      const shares: number[] = [];
      const band = width / 16;
      for (let k = 0; k < 16; k++) {
        let count = 0;
        for (let y = 0; y < height; y++) {
          for (let x = k * band; x < (k + 1) * band; x++) if (indices[y * width + x] === white) count++;
        }
        shares.push(count / (band * height));
      }
      const shown = shares.map((s) => s.toFixed(3)).join(' ');
      assert.ok(shares[0] <= 0.05, `first band ${shown}`);
      assert.ok(shares[15] >= 0.9, `last band ${shown}`);
      for (let k = 1; k < 16; k++) assert.ok(shares[k] >= shares[k - 1], `band ${k} falls: ${shown}`);
      // Linear light: the middle band (sRGB ~128) is about 22% white, not half.
      assert.ok(shares[8] > 0.15 && shares[8] < 0.32, `middle band ${shown}`);
    });
  }

  for (const name of Object.keys(PALETTES) as PaletteName[]) {
    for (const method of DITHER_METHODS) {
      it(`leaves a field of each ${name} colour uniform (${method})`, () => {
        const palette = resolvePalette(name);
        palette.forEach((colour, index) => {
          const width = 37;
          const height = 23;
          const rgb = new Uint8Array(width * height * 3);
          for (let i = 0; i < width * height; i++) rgb.set(colour, i * 3);
          // A boost moves orange and greys of acep7/gray4 off the palette; spectra6's inks are at the gamut's
          // corners, where the boost (clamped) keeps them.
          for (const saturation of name === 'spectra6' || name === 'bw' ? [1, 1.5] : [1]) {
            const indices = ditherImage(rgb, width, height, { palette, method, saturation });
            assert.ok(indices.every((v) => v === index), `${colour} with saturation ${saturation}`);
          }
        });
      });
    }
  }

  it('gives only indices into the palette, for any input and palette', () => {
    const width = 64;
    const height = 48;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7919) % 256;
    for (const spec of [...Object.keys(PALETTES), ['#123456', '#abcdef', '#fedcba']] as const) {
      const palette = resolvePalette(spec as PaletteName);
      for (const method of DITHER_METHODS) {
        const indices = ditherImage(rgb, width, height, { palette, method, saturation: 2 });
        assert.ok(indices.every((v) => v < palette.length), `${String(spec)} ${method}`);
      }
    }
  });

  it('maps each pixel to its nearest colour without dithering', () => {
    const palette = resolvePalette('spectra6');
    const rgb = new Uint8Array([250, 10, 5, 5, 5, 240, 240, 250, 20, 10, 10, 10]);
    assert.deepEqual([...ditherImage(rgb, 4, 1, { palette, method: 'none' })], [3, 4, 2, 0]);
  });

  it('turns a picture grey with saturation 0', () => {
    const palette = resolvePalette(['#ff0000', '#808080']);
    const rgb = new Uint8Array([255, 0, 0]);
    assert.deepEqual([...ditherImage(rgb, 1, 1, { palette, method: 'none', saturation: 1 })], [0]);
    assert.deepEqual([...ditherImage(rgb, 1, 1, { palette, method: 'none', saturation: 0 })], [1]);
  });

  it('gives the event loop turns while it works, with the same result', async () => {
    const width = 200;
    const height = 300;
    const rgb = ramp(width, height);
    const options = { palette: resolvePalette('spectra6'), method: 'floyd-steinberg' as const, saturation: 1.3 };
    let turns = 0;
    let done = false;
    const tick = (): void => {
      turns++;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const indices = await ditherImageAsync(rgb, width, height, options);
    done = true;
    assert.ok(turns >= 5, `the loop ran ${turns} times`);
    assert.deepEqual(indices, ditherImage(rgb, width, height, options));
  });
});
