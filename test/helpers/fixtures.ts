import sharp from 'sharp';

/** Colours of the upright test card's quadrants: top-left, top-right, bottom-left, bottom-right. */
export const QUADRANT_COLOURS = {
  topLeft: [220, 30, 30],
  topRight: [30, 200, 30],
  bottomLeft: [30, 30, 220],
  bottomRight: [230, 220, 40],
} as const;

type Rgb = readonly [number, number, number];

/** The upright test card: four coloured quadrants, wider than tall, so every turn and mirror shows. */
function uprightPixel(x: number, y: number, width: number, height: number): Rgb {
  const top = y < height / 2;
  const left = x < width / 2;
  if (top) return left ? QUADRANT_COLOURS.topLeft : QUADRANT_COLOURS.topRight;
  return left ? QUADRANT_COLOURS.bottomLeft : QUADRANT_COLOURS.bottomRight;
}

/**
 * Where stored pixel (sx, sy) of a file tagged with `orientation` comes from in the upright
 * image (W x H), straight from the EXIF definitions of the eight orientations, so the fixtures do
 * not depend on the library under test to be right.
 */
function uprightSource(orientation: number, sx: number, sy: number, w: number, h: number): [number, number] {
  switch (orientation) {
    case 1: return [sx, sy];
    case 2: return [w - 1 - sx, sy];
    case 3: return [w - 1 - sx, h - 1 - sy];
    case 4: return [sx, h - 1 - sy];
    case 5: return [sy, sx];
    case 6: return [w - 1 - sy, sx];
    case 7: return [w - 1 - sy, h - 1 - sx];
    case 8: return [sy, h - 1 - sx];
    default: throw new Error(`no orientation ${orientation}`);
  }
}

/**
 * A JPEG whose stored pixels are the upright test card (width x height) turned as a camera in
 * `orientation` would store it, tagged with that EXIF orientation.
 */
export async function jpegWithOrientation(orientation: number, width = 96, height = 64): Promise<Buffer> {
  const turned = orientation >= 5;
  const sw = turned ? height : width;
  const sh = turned ? width : height;
  const raw = Buffer.alloc(sw * sh * 3);
  for (let sy = 0; sy < sh; sy++) {
    for (let sx = 0; sx < sw; sx++) {
      const [ux, uy] = uprightSource(orientation, sx, sy, width, height);
      raw.set(uprightPixel(ux, uy, width, height), (sy * sw + sx) * 3);
    }
  }
  return sharp(raw, { raw: { width: sw, height: sh, channels: 3 } })
    .jpeg({ quality: 95 })
    .withMetadata({ orientation })
    .toBuffer();
}

/**
 * A photo-like image: smooth gradients with noise, so that compression behaves as on a photo
 * rather than on flat colour.
 */
export async function photoLike(width: number, height: number, format: 'jpeg' | 'png' | 'webp' = 'jpeg', seed = 1): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let state = seed >>> 0 || 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // xorshift noise over gradients, cheap and deterministic
      state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
      const noise = (state & 0x1f) - 16;
      const i = (y * width + x) * 3;
      raw[i] = clamp((x * 255) / width + noise);
      raw[i + 1] = clamp((y * 255) / height + noise);
      raw[i + 2] = clamp(128 + 100 * Math.sin((x + y) / 23) + noise);
    }
  }
  const image = sharp(raw, { raw: { width, height, channels: 3 } });
  if (format === 'png') return image.png().toBuffer();
  if (format === 'webp') return image.webp({ quality: 90 }).toBuffer();
  return image.jpeg({ quality: 90 }).toBuffer();
}

function clamp(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value)));
}

/** A small solid-colour PNG. */
export function solidPng(width: number, height: number, rgb: Rgb = [10, 120, 200]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

/**
 * A valid PNG header that declares `width` x `height` but carries almost no data: a decompression
 * bomb as far as any header reader can tell.
 */
export async function pngDeclaring(width: number, height: number): Promise<Buffer> {
  const png = await solidPng(8, 8);
  const bomb = Buffer.from(png);
  bomb.writeUInt32BE(width, 16);
  bomb.writeUInt32BE(height, 20);
  // Keep the IHDR CRC right so the header is read as valid.
  bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
  return bomb;
}

/** A PNG's size and the colours at the centres of its quadrants: top-left, top-right, bottom-left, bottom-right. */
export async function quadrantColours(png: Buffer): Promise<{ width: number; height: number; colours: Rgb[] }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (fx: number, fy: number): Rgb => {
    const i = (Math.floor(info.height * fy) * info.width + Math.floor(info.width * fx)) * info.channels;
    return [data[i], data[i + 1], data[i + 2]];
  };
  return { width: info.width, height: info.height, colours: [at(0.25, 0.25), at(0.75, 0.25), at(0.25, 0.75), at(0.75, 0.75)] };
}

/** True when two colours differ by at most `tolerance` in every channel. */
export function closeColour(a: Rgb, b: Rgb, tolerance = 24): boolean {
  return a.every((value, i) => Math.abs(value - b[i]) <= tolerance);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
