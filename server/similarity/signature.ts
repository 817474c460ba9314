import { loadSharp } from '../pipeline/sharp-tuning';
import type { ImageSignature } from '../storage/image-store';

export type { ImageSignature } from '../storage/image-store';

/** Side of the grey square the DCT runs over, as in the original pHash. */
export const HASH_GRID = 32;
/** Side of the low-frequency block kept from the DCT: 8 x 8 = 64 bits. */
const KEPT = 8;

/** cos((2x+1) u pi / 2N) for every u < KEPT and x < N, computed once: the DCT then costs 2 x 32 x 32 x 8 multiply-adds. */
const COSINES = (() => {
  const table = new Float64Array(KEPT * HASH_GRID);
  for (let u = 0; u < KEPT; u++) {
    for (let x = 0; x < HASH_GRID; x++) table[u * HASH_GRID + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * HASH_GRID));
  }
  return table;
})();

/**
 * The signature of a 32 x 32 RGB raster (3 bytes per pixel, row-major), as a sharp pipeline gives
 * with `.resize(32, 32, { fit: 'fill' }).removeAlpha().raw()`.
 * @throws Error when `rgb` has another size.
 */
export function signatureOfRaster(rgb: Uint8Array): ImageSignature {
  const n = HASH_GRID;
  if (rgb.length !== n * n * 3) throw new Error(`Expected a ${n}x${n} RGB raster of ${n * n * 3} bytes but received ${rgb.length}`);
  const grey = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) grey[i] = 0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2];
  return { phash: phashOfGrey(grey), colors: quarterColours(rgb) };
}

/** The DCT hash of a 32 x 32 grey raster: the 8 x 8 lowest frequencies, each bit set when above their median (DC left out of the median). */
function phashOfGrey(grey: Float64Array): string {
  const n = HASH_GRID;
  // Separable DCT-II, rows then columns, of the low-frequency corner only.
  const rows = new Float64Array(n * KEPT);
  for (let y = 0; y < n; y++) {
    for (let u = 0; u < KEPT; u++) {
      let sum = 0;
      for (let x = 0; x < n; x++) sum += grey[y * n + x] * COSINES[u * n + x];
      rows[y * KEPT + u] = sum;
    }
  }
  const coefficients = new Float64Array(KEPT * KEPT);
  for (let v = 0; v < KEPT; v++) {
    for (let u = 0; u < KEPT; u++) {
      let sum = 0;
      for (let y = 0; y < n; y++) sum += rows[y * KEPT + u] * COSINES[v * n + y];
      coefficients[v * KEPT + u] = sum;
    }
  }
  // The DC term is the mean brightness: it would move the median with every exposure change.
  const ac = Array.from(coefficients.subarray(1)).sort((a, b) => a - b);
  const median = (ac[31] + ac[32]) / 2;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 64; i++) {
    if (coefficients[i] <= median) continue;
    if (i < 32) hi |= 1 << (31 - i);
    else lo |= 1 << (63 - i);
  }
  return hex32(hi) + hex32(lo);
}

function quarterColours(rgb: Uint8Array): string {
  const n = HASH_GRID;
  const half = n / 2;
  let out = '';
  for (const [qx, qy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    const sums = [0, 0, 0];
    for (let y = qy * half; y < (qy + 1) * half; y++) {
      for (let x = qx * half; x < (qx + 1) * half; x++) {
        for (let c = 0; c < 3; c++) sums[c] += rgb[(y * n + x) * 3 + c];
      }
    }
    for (const sum of sums) out += Math.round(sum / (half * half)).toString(16).padStart(2, '0');
  }
  return out;
}

function hex32(word: number): string {
  return (word >>> 0).toString(16).padStart(8, '0');
}

/**
 * The 32 x 32 RGB raster of an image file or buffer, the signature's input: flattened on black,
 * squeezed to a square, read streaming (PNG and JPEG decode band by band).
 */
export async function hashRaster(input: string | Buffer): Promise<Buffer> {
  return loadSharp()(input, { sequentialRead: true, limitInputPixels: false, pages: 1 })
    .resize(HASH_GRID, HASH_GRID, { fit: 'fill' })
    .flatten({ background: '#000000' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer();
}

/** The signature of an image file or buffer. @throws sharp's error when it cannot be decoded. */
export async function computeSignature(input: string | Buffer): Promise<ImageSignature> {
  return signatureOfRaster(await hashRaster(input));
}

/** The two 32-bit halves of a hex hash, high first. */
export function splitHash(phash: string): [number, number] {
  return [parseInt(phash.slice(0, 8), 16) >>> 0, parseInt(phash.slice(8, 16), 16) >>> 0];
}

/** Set bits of a 32-bit word (SWAR popcount: no loop, no table). */
export function popcount32(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Bits that differ between two hex hashes, 0..64. */
export function hammingDistance(a: string, b: string): number {
  const [ah, al] = splitHash(a);
  const [bh, bl] = splitHash(b);
  return popcount32(ah ^ bh) + popcount32(al ^ bl);
}

/** 1 for identical hashes, 0 for 64 bits apart. */
export function similarityOf(distance: number): number {
  return Math.round((1 - distance / 64) * 1000) / 1000;
}

/** True for a well-formed stored signature (records written by hand or by an older version may lack one). */
export function isSignature(value: unknown): value is ImageSignature {
  const s = value as ImageSignature | undefined;
  return typeof s?.phash === 'string' && /^[0-9a-f]{16}$/.test(s.phash) && typeof s.colors === 'string';
}
