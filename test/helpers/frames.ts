import { inflateSync } from 'node:zlib';
import sharp from 'sharp';

type Rgb = readonly [number, number, number];

/** Colours of the card's corner marks and body: all palette colours, so they survive dithering. */
export const CARD = {
  body: [0, 0, 0],
  topLeft: [255, 0, 0],
  topRight: [0, 0, 255],
  bottomLeft: [255, 255, 0],
  bottomRight: [0, 255, 0],
} as const satisfies Record<string, Rgb>;

/** Side of each corner mark as a share of the card's width and height. */
export const MARK_SHARE = 0.2;

/** A PNG card: black body, a coloured square mark in each corner, so turns and crops show. */
export function cardPng(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  const mw = Math.round(width * MARK_SHARE);
  const mh = Math.round(height * MARK_SHARE);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const left = x < mw;
      const right = x >= width - mw;
      const top = y < mh;
      const bottom = y >= height - mh;
      let colour: Rgb = CARD.body;
      if (top && left) colour = CARD.topLeft;
      else if (top && right) colour = CARD.topRight;
      else if (bottom && left) colour = CARD.bottomLeft;
      else if (bottom && right) colour = CARD.bottomRight;
      raw.set(colour, (y * width + x) * 3);
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** A PNG of one colour. */
export function solidPng(width: number, height: number, colour: Rgb): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: colour[0], g: colour[1], b: colour[2] } } }).png().toBuffer();
}

export interface DecodedFrame {
  width: number;
  height: number;
  /** The PNG's IHDR colour type (3 is indexed) and bit depth. */
  colourType: number;
  bitDepth: number;
  /** The PLTE chunk's colours. */
  palette: Rgb[];
  /** RGB of every pixel, decoded by sharp (libspng), independent of our encoder. */
  rgb: Buffer;
}

/** Reads a frame PNG's header and palette from its chunks and its pixels through sharp. */
export async function decodeFrame(png: Buffer): Promise<DecodedFrame> {
  let offset = 8;
  const found: Partial<DecodedFrame> = {};
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      found.width = data.readUInt32BE(0);
      found.height = data.readUInt32BE(4);
      found.bitDepth = data[8];
      found.colourType = data[9];
    } else if (type === 'PLTE') {
      found.palette = [];
      for (let i = 0; i < data.length; i += 3) found.palette.push([data[i], data[i + 1], data[i + 2]]);
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    offset += 12 + length;
  }
  inflateSync(Buffer.concat(idat)); // throws when the compressed data is broken
  const { data } = await sharp(png).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { ...(found as DecodedFrame), rgb: data };
}

/** How many pixels have each colour, keyed "r,g,b". */
export function colourCounts(rgb: Buffer): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < rgb.length; i += 3) {
    const key = `${rgb[i]},${rgb[i + 1]},${rgb[i + 2]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The mean position (x, y) of the pixels of `colour`, or undefined when there are none. */
export function centroid(frame: DecodedFrame, colour: Rgb): { x: number; y: number; count: number } | undefined {
  let sx = 0;
  let sy = 0;
  let count = 0;
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const i = (y * frame.width + x) * 3;
      if (frame.rgb[i] === colour[0] && frame.rgb[i + 1] === colour[1] && frame.rgb[i + 2] === colour[2]) {
        sx += x;
        sy += y;
        count++;
      }
    }
  }
  return count === 0 ? undefined : { x: sx / count, y: sy / count, count };
}
