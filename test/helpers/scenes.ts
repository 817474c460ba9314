import sharp from 'sharp';
import { seededPrng, type Prng } from './prng';

/**
 * Synthetic photographs for similarity tests and the bench: a gradient sky, a few dozen
 * overlapping shapes with corners (what ORB keypoints need) and a fine noise texture, all from a
 * seed, so that a failure replays.
 */
export async function scene(seed: number, width = 640, height = 480): Promise<Buffer> {
  const rng = seededPrng(seed);
  const shapes: string[] = [];
  for (let i = 0; i < 40; i++) shapes.push(shape(rng, width, height));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="g" x1="0" y1="0" x2="${rng.next().toFixed(2)}" y2="1">
<stop offset="0" stop-color="${colour(rng)}"/><stop offset="1" stop-color="${colour(rng)}"/></linearGradient></defs>
<rect width="100%" height="100%" fill="url(#g)"/>${shapes.join('')}</svg>`;
  const noise = Buffer.alloc(width * height * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = rng.int(0, 40);
  const base = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer();
  for (let i = 0; i < base.length; i++) base[i] = Math.min(255, Math.max(0, base[i] + noise[i] - 20));
  return sharp(base, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
}

function colour(rng: Prng): string {
  return `rgb(${rng.int(0, 255)},${rng.int(0, 255)},${rng.int(0, 255)})`;
}

function shape(rng: Prng, width: number, height: number): string {
  const x = rng.int(0, width);
  const y = rng.int(0, height);
  const size = rng.int(Math.round(width / 40), Math.round(width / 6));
  const fill = colour(rng);
  const stroke = rng.next() < 0.5 ? ` stroke="${colour(rng)}" stroke-width="${rng.int(1, 5)}"` : '';
  switch (rng.int(0, 3)) {
    case 0:
      return `<rect x="${x}" y="${y}" width="${size}" height="${rng.int(5, size)}" fill="${fill}"${stroke} transform="rotate(${rng.int(0, 90)} ${x} ${y})"/>`;
    case 1:
      return `<circle cx="${x}" cy="${y}" r="${size / 2}" fill="${fill}"${stroke}/>`;
    case 2: {
      const points = Array.from({ length: rng.int(3, 6) }, () => `${x + rng.int(-size, size)},${y + rng.int(-size, size)}`);
      return `<polygon points="${points.join(' ')}" fill="${fill}"${stroke}/>`;
    }
    default: {
      // A checker patch: many strong corners, as windows and tiles give a real photo.
      const cell = rng.int(4, 12);
      const cells: string[] = [];
      for (let cy = 0; cy < 4; cy++) {
        for (let cx = 0; cx < 4; cx++) if ((cx + cy) % 2 === 0) cells.push(`<rect x="${x + cx * cell}" y="${y + cy * cell}" width="${cell}" height="${cell}" fill="${fill}"/>`);
      }
      return cells.join('');
    }
  }
}

/** The variations of a scene the bench labels; near-duplicates first. */
export const VARIANTS = {
  resized: (img: sharp.Sharp, w: number) => img.resize(Math.round(w * 0.5)),
  jpeg_q30: (img: sharp.Sharp) => img.jpeg({ quality: 30 }),
  brighter_30: (img: sharp.Sharp) => img.modulate({ brightness: 1.3 }),
  darker_30: (img: sharp.Sharp) => img.modulate({ brightness: 0.7 }),
  crop_10: (img: sharp.Sharp, w: number, h: number) => cropBy(img, w, h, 0.1),
  crop_25: (img: sharp.Sharp, w: number, h: number) => cropBy(img, w, h, 0.25),
  rotate_90: (img: sharp.Sharp) => img.rotate(90),
  rotate_180: (img: sharp.Sharp) => img.rotate(180),
  rotate_15: (img: sharp.Sharp) => img.rotate(15, { background: '#808080' }),
  mirrored: (img: sharp.Sharp) => img.flop(),
} as const;

export type Variant = keyof typeof VARIANTS;

/** Variants that keep the picture (a perceptual hash should call them duplicates). */
export const NEAR_DUPLICATE_VARIANTS: Variant[] = ['resized', 'jpeg_q30', 'brighter_30', 'darker_30'];
/** Variants that change the view of the same scene (local features should match them). */
export const CHANGED_VIEW_VARIANTS: Variant[] = ['crop_10', 'crop_25', 'rotate_90', 'rotate_180', 'rotate_15', 'mirrored'];

function cropBy(img: sharp.Sharp, w: number, h: number, fraction: number): sharp.Sharp {
  // Off-centre, as a camera nudged aside would crop.
  const cw = Math.round(w * (1 - fraction));
  const ch = Math.round(h * (1 - fraction));
  return img.extract({ left: w - cw, top: Math.round((h - ch) / 3), width: cw, height: ch });
}

/** A scene changed by one variant, as a JPEG (q30 for that variant, q90 else). */
export async function variantOf(png: Buffer, variant: Variant): Promise<Buffer> {
  const { width, height } = await sharp(png).metadata();
  const changed = VARIANTS[variant](sharp(png), width!, height!) as sharp.Sharp;
  return variant === 'jpeg_q30' ? changed.toBuffer() : changed.jpeg({ quality: 90 }).toBuffer();
}
