import sharp from 'sharp';

/**
 * Generated raw camera frames: a reference picture in RGB (or grey) and the same picture packed
 * in each ROS / Foxglove encoding, so that a stored PNG can be compared with what was sent.
 */

/** A frame in one encoding and the pixels the stored PNG must hold. */
export interface RawFixture {
  encoding: string;
  width: number;
  height: number;
  step: number;
  /** The frame bytes, `step` x `height`. */
  bytes: Buffer;
  /** Expected stored pixels, packed, `channels` per pixel (16-bit grey: 2 bytes, little-endian). */
  expected: Buffer;
  channels: 1 | 3 | 4;
  bits: 8 | 16;
}

export const FRAME_WIDTH = 64;
export const FRAME_HEIGHT = 48;

/** A deterministic value for channel `c` of pixel (x, y): varied, so that a swap or shift shows. */
function sample(x: number, y: number, c: number, lo = 0, hi = 255): number {
  return lo + ((x * 37 + y * 91 + c * 53 + ((x * y) % 7) * 11) % (hi - lo + 1));
}

/** Packs rows of `rowBytes` bytes into rows of `step` bytes, the padding filled with noise. */
function padRows(packed: Buffer, rowBytes: number, height: number, step: number): Buffer {
  const out = Buffer.alloc(step * height, 0xab);
  for (let y = 0; y < height; y++) packed.copy(out, y * step, y * rowBytes, (y + 1) * rowBytes);
  return out;
}

function fixture(encoding: string, packed: Buffer, inBytes: number, expected: Buffer, channels: 1 | 3 | 4, bits: 8 | 16, padding: number, width = FRAME_WIDTH, height = FRAME_HEIGHT): RawFixture {
  const rowBytes = width * inBytes;
  const step = rowBytes + padding;
  return { encoding, width, height, step, bytes: padRows(packed, rowBytes, height, step), expected, channels, bits };
}

/** Interleaved 8-bit pixels of `channels` each, from `pick(x, y, c)`. */
function pixels(width: number, height: number, channels: number, pick: (x: number, y: number, c: number) => number): Buffer {
  const out = Buffer.alloc(width * height * channels);
  for (let y = 0, i = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) out[i++] = pick(x, y, c);
  return out;
}

/** Frames whose stored PNG must match pixel for pixel: RGB(A), BGR(A), mono8, mono16. */
export function exactFixture(encoding: string, padding = 0): RawFixture {
  const w = FRAME_WIDTH;
  const h = FRAME_HEIGHT;
  const rgba = pixels(w, h, 4, (x, y, c) => sample(x, y, c));
  const rgb = pixels(w, h, 3, (x, y, c) => sample(x, y, c));
  switch (encoding) {
    case 'rgb8': return fixture(encoding, rgb, 3, rgb, 3, 8, padding);
    case 'bgr8': case '8UC3': return fixture(encoding, pixels(w, h, 3, (x, y, c) => sample(x, y, 2 - c)), 3, rgb, 3, 8, padding);
    case 'rgba8': return fixture(encoding, rgba, 4, rgba, 4, 8, padding);
    case 'bgra8': return fixture(encoding, pixels(w, h, 4, (x, y, c) => sample(x, y, c === 3 ? 3 : 2 - c)), 4, rgba, 4, 8, padding);
    case 'mono8': case '8UC1': {
      const grey = pixels(w, h, 1, (x, y) => sample(x, y, 0));
      return fixture(encoding, grey, 1, grey, 1, 8, padding);
    }
    case 'mono16': case '16UC1': {
      const grey = Buffer.alloc(w * h * 2);
      for (let i = 0; i < w * h; i++) grey.writeUInt16LE((i * 2731 + 17) % 65536, i * 2);
      return fixture(encoding, grey, 2, grey, 1, 16, padding);
    }
    default: throw new Error(`no exact fixture for ${encoding}`);
  }
}

/**
 * A YUV 4:2:2 frame of a picture whose horizontal pixel pairs share one colour (what 4:2:2 can
 * carry), in mid-range colours that no conversion clamps, with full-range BT.601 (JFIF).
 */
export function yuvFixture(encoding: 'yuyv' | 'uyvy' | 'yuv422' | 'yuv422_yuy2', padding = 0): RawFixture {
  const w = FRAME_WIDTH;
  const h = FRAME_HEIGHT;
  const rgb = pixels(w, h, 3, (x, y, c) => sample(x >> 1, y, c, 40, 215));
  const packed = Buffer.alloc(w * h * 2);
  const uyvy = encoding === 'uyvy' || encoding === 'yuv422';
  for (let p = 0; p < (w * h) / 2; p++) {
    const [r, g, b] = rgb.subarray(p * 6, p * 6 + 3);
    const y = clamp(0.299 * r + 0.587 * g + 0.114 * b);
    const u = clamp(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
    const v = clamp(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
    packed.set(uyvy ? [u, y, v, y] : [y, u, y, v], p * 4);
  }
  return fixture(encoding, packed, 2, rgb, 3, 8, padding);
}

function clamp(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value)));
}

/** The four colours of the Bayer fixture's flat fields: top-left, top-right, bottom-left, bottom-right. */
export const FIELD_COLOURS = [[200, 40, 30], [30, 180, 60], [50, 70, 220], [230, 210, 20]] as const;

/** The flat colour field a pixel lies in. */
export function fieldOf(x: number, y: number): number {
  return (y < FRAME_HEIGHT / 2 ? 0 : 2) + (x < FRAME_WIDTH / 2 ? 0 : 1);
}

/** A Bayer mosaic of four flat colour fields, each site keeping the colour its filter passes. */
export function bayerFixture(encoding: string, padding = 0): RawFixture {
  const letters = encoding.slice('bayer_'.length, 'bayer_'.length + 4);
  const w = FRAME_WIDTH;
  const h = FRAME_HEIGHT;
  const rgb = pixels(w, h, 3, (x, y, c) => FIELD_COLOURS[fieldOf(x, y)][c]);
  const mosaic = pixels(w, h, 1, (x, y) => FIELD_COLOURS[fieldOf(x, y)]['rgb'.indexOf(letters[(y & 1) * 2 + (x & 1)])]);
  return fixture(encoding, mosaic, 1, rgb, 3, 8, padding);
}

/** The stored PNG's pixels, packed as the fixture's `expected` is. */
export async function storedPixels(png: string | Buffer, bits: 8 | 16): Promise<{ data: Buffer; channels: number; width: number; height: number }> {
  const meta = await sharp(png).metadata();
  const image = bits === 16 ? sharp(png).toColourspace('grey16').raw({ depth: 'ushort' })
    : meta.channels === 1 ? sharp(png).toColourspace('b-w').raw() : sharp(png).raw();
  const { data, info } = await image.toBuffer({ resolveWithObject: true });
  return { data, channels: info.channels, width: info.width, height: info.height };
}

/** The largest difference between two equally long sample buffers. */
export function maxDifference(a: Buffer, b: Buffer): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
