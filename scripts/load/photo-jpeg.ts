import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

/** One image of a load workload: its name, the JPEG bytes and what they declare. */
export interface WorkloadImage {
  name: string;
  /** Where the JPEG is kept, for work that reads it from disk as the daemon does. */
  file: string;
  width: number;
  height: number;
  orientation: number;
  jpeg: Buffer;
}

/** Where generated workload images are kept between runs (git-ignored). */
export const WORKLOAD_CACHE = join(__dirname, '..', '..', '..', '.cache', 'workload');

/**
 * Deterministic photo-like pixels (RGB, 8 bits): large soft colour regions, texture at two finer
 * scales, a few hard-edged shapes and fine sensor noise. Flat colour or pure noise would both
 * mislead: the first decodes and compresses far faster than a photo, the second far slower, and
 * PNG row filters help on a photo (about 1.5x on real ones) but barely on noise.
 */
export function photoPixels(width: number, height: number, seed = 1): Buffer {
  const random = xorshift(seed);
  const coarse = valueGrid(random, 6, 4, 60, 200);
  const mid = valueGrid(random, 48, 36, -28, 28);
  const fine = valueGrid(random, 320, 240, -14, 14);
  const shapes = Array.from({ length: 12 }, () => ({
    cx: random() * width, cy: random() * height, r: (0.03 + random() * 0.12) * Math.min(width, height),
    colour: [random() * 255, random() * 255, random() * 255],
  }));
  // Clamped, so that a sum past 255 or below 0 saturates as in a photo instead of wrapping.
  const raw = new Uint8ClampedArray(width * height * 3);
  for (let y = 0; y < height; y++) {
    const gy = y / height;
    for (let x = 0; x < width; x++) {
      const gx = x / width;
      const i = (y * width + x) * 3;
      const shape = shapes.find((s) => (x - s.cx) ** 2 + (y - s.cy) ** 2 < s.r * s.r);
      // Sensor noise: about +-4 levels, triangular, as after a camera's own denoising.
      const noise = ((random() + random()) - 1) * 4;
      for (let c = 0; c < 3; c++) {
        const base = shape ? shape.colour[c] : sample(coarse, gx, gy, c);
        raw[i + c] = base + sample(mid, gx, gy, c) + sample(fine, gx, gy, c) + noise;
      }
    }
  }
  return Buffer.from(raw.buffer);
}

/**
 * Photo-like JPEGs (quality 90) of one size, one per EXIF orientation in `orientations`, all of
 * the same pixels, generated once and then read from {@link WORKLOAD_CACHE}: the pixels of a
 * 8000x6000 photo take seconds to generate. Without an ICC profile, as camera frames come: sharp
 * embeds sRGB's with the orientation, and converting through an embedded profile costs sharp 3-6
 * ms of CPU per 640x480 image that a camera's frame never asks for (docs/benchmarks.md). Named
 * camera-*, so that JPEGs cached with the profile by earlier versions are not read.
 */
export async function cachedPhotoJpegs(width: number, height: number, orientations: readonly number[]): Promise<WorkloadImage[]> {
  let pixels: Buffer | undefined;
  return Promise.all(orientations.map(async (orientation) => {
    const name = `camera-${width}x${height}-o${orientation}`;
    const file = join(WORKLOAD_CACHE, `${name}.jpg`);
    let jpeg: Buffer;
    try {
      jpeg = await readFile(file);
    } catch {
      pixels ??= photoPixels(width, height, width * 7919 + height);
      jpeg = withoutIccProfile(await sharp(pixels, { raw: { width, height, channels: 3 } })
        .jpeg({ quality: 90 })
        .withMetadata({ orientation })
        .toBuffer());
      await mkdir(WORKLOAD_CACHE, { recursive: true });
      await writeFile(`${file}.tmp`, jpeg);
      await rename(`${file}.tmp`, file);
    }
    return { name, file, width, height, orientation, jpeg };
  }));
}

/** A JPEG's bytes without its ICC profile (its APP2 "ICC_PROFILE" segments); pixels and EXIF untouched. */
function withoutIccProfile(jpeg: Buffer): Buffer {
  const kept: Buffer[] = [jpeg.subarray(0, 2)];
  let at = 2;
  // Segments up to the start of scan (0xFFDA), after which comes the entropy-coded image.
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff && jpeg[at + 1] !== 0xda) {
    const end = at + 2 + jpeg.readUInt16BE(at + 2);
    const iccProfile = jpeg[at + 1] === 0xe2 && jpeg.toString('latin1', at + 4, at + 16) === 'ICC_PROFILE\0';
    if (!iccProfile) kept.push(jpeg.subarray(at, end));
    at = end;
  }
  kept.push(jpeg.subarray(at));
  return Buffer.concat(kept);
}

interface Grid {
  columns: number;
  rows: number;
  values: Float32Array;
}

/** Random per-channel values on a (columns+1) x (rows+1) lattice, between `low` and `high`. */
function valueGrid(random: () => number, columns: number, rows: number, low: number, high: number): Grid {
  const values = new Float32Array((columns + 1) * (rows + 1) * 3);
  for (let i = 0; i < values.length; i++) values[i] = low + random() * (high - low);
  return { columns, rows, values };
}

/** Smoothstep-interpolated value of channel `c` at (gx, gy) in [0, 1). */
function sample(grid: Grid, gx: number, gy: number, c: number): number {
  const fx = gx * grid.columns;
  const fy = gy * grid.rows;
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const tx = smooth(fx - x0);
  const ty = smooth(fy - y0);
  const at = (x: number, y: number): number => grid.values[(y * (grid.columns + 1) + x) * 3 + c];
  const top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * tx;
  const bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * tx;
  return top + (bottom - top) * ty;
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

/** A seeded xorshift32 generator of numbers in [0, 1). */
function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}
