/**
 * Our own palette mapping for e-paper panels: a fixed palette, error diffusion, a saturation boost.
 *
 * sharp's palette output picks its own colours (libimagequant), so it cannot target a panel's six
 * inks; this module knows nothing of Koa or sharp and works on raw RGB bytes.
 *
 * Dithering happens in linear light, not on sRGB values: a panel's dots mix as light does when
 * seen from a metre away, so the share of white dots in an area must equal the area's linear
 * light for the tone to be kept. Diffusing sRGB values would make mid-grey (sRGB 128) half white
 * dots, which reads as sRGB 188: every mid-tone would come out visibly too light.
 */

/** An sRGB colour as three 0-255 values. */
export type Rgb = readonly [number, number, number];


import { DITHER_METHODS, MAX_PALETTE_COLOURS, PALETTES, type PaletteName } from '../display-setting';

export { DITHER_METHODS, MAX_PALETTE_COLOURS, PALETTES, type PaletteName };

/** A palette as a setting names it: one of {@link PALETTES} or a list of `#rrggbb`. */
export type PaletteSpec = PaletteName | readonly string[];


export type DitherMethod = (typeof DITHER_METHODS)[number];


const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;

/** The colour of a `#rrggbb` string, or undefined when it is not one. */
export function parseHexColour(text: unknown): Rgb | undefined {
  if (typeof text !== 'string' || !HEX_COLOUR.test(text)) return undefined;
  const value = parseInt(text.slice(1), 16);
  return [value >> 16, (value >> 8) & 0xff, value & 0xff];
}

/** True when `name` is one of {@link PALETTES}. */
export function isPaletteName(name: unknown): name is PaletteName {
  return typeof name === 'string' && Object.hasOwn(PALETTES, name);
}

/**
 * The colours of a palette, in index order.
 * @throws Error when a colour is not `#rrggbb` (profiles are validated before they get here).
 */
export function resolvePalette(spec: PaletteSpec): Rgb[] {
  const list: readonly string[] = isPaletteName(spec) ? PALETTES[spec] : (spec as readonly string[]);
  return list.map((text) => {
    const colour = parseHexColour(text);
    if (!colour) throw new Error(`not a #rrggbb colour: ${text}`);
    return colour;
  });
}

export interface DitherOptions {
  palette: readonly Rgb[];
  method: DitherMethod;
  /** Colour boost before mapping: 1 keeps colours, 0 is grey, 1.5 is 50% more saturated. @default 1 */
  saturation?: number;
  /**
   * The input is the picture before a quarter turn clockwise (`height` x `width` pixels): it is
   * turned while being read, which spares libvips a turned copy of the whole frame. @default false
   */
  turned?: boolean;
}

const TO_LINEAR = Float32Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/** Rows of error kept ahead of the current one (the kernels reach 2 rows down). */
const ERROR_ROWS = 3;
/** Columns of margin either side, so kernel writes past the edges need no bounds check. */
const MARGIN = 2;

/**
 * Maps `width` x `height` pixels of raw 3-channel sRGB to indices into `options.palette`.
 * A pixel that is exactly a palette colour leaves no error, so a field of a palette colour stays
 * uniform. Memory beyond the output is three rows of error.
 */
export function ditherImage(rgb: Uint8Array, width: number, height: number, options: DitherOptions): Uint8Array {
  const ditherer = createDitherer(rgb, width, height, options);
  ditherer.rows(height);
  return ditherer.out;
}

/** Rows dithered between two turns of the event loop: about 5-10 ms of work on a Pi 4. */
const ROWS_PER_TURN = 32;

/**
 * {@link ditherImage}, giving the event loop a turn every few rows, so that a frame of a second's
 * work on a slow Pi never stalls uploads, health checks or the live pages meanwhile.
 */
export async function ditherImageAsync(rgb: Uint8Array, width: number, height: number, options: DitherOptions): Promise<Uint8Array> {
  const ditherer = createDitherer(rgb, width, height, options);
  while (ditherer.rows(ROWS_PER_TURN)) await new Promise<void>((resolve) => setImmediate(resolve));
  return ditherer.out;
}

/** The dither's state between calls: the output and a function that does the next `count` rows. */
function createDitherer(rgb: Uint8Array, width: number, height: number, options: DitherOptions): { out: Uint8Array; rows: (count: number) => boolean } {
  if (rgb.length < width * height * 3) throw new Error('raw buffer smaller than width x height x 3');
  const pal = Float32Array.from(options.palette.flatMap((colour) => colour.map((v) => TO_LINEAR[v])));
  const colours = options.palette.length;
  const saturation = options.saturation ?? 1;
  const method = options.method;
  // Where pixel (x, y) of the output is read: origin + y * rowStep + x * colStep.
  const origin = options.turned ? (width - 1) * height * 3 : 0;
  const colStep = options.turned ? -height * 3 : 3;
  const rowStep = options.turned ? 3 : width * 3;
  const stride = (width + 2 * MARGIN) * 3;
  const errors = Array.from({ length: ERROR_ROWS }, () => new Float32Array(stride));
  const out = new Uint8Array(width * height);
  let next = 0;
  /** Dithers up to `count` more rows; true while rows remain. */
  const rows = (count: number): boolean => {
    const end = Math.min(height, next + count);
    for (let y = next; y < end; y++) {
      const here = errors[y % ERROR_ROWS];
      const below = errors[(y + 1) % ERROR_ROWS];
      const below2 = errors[(y + 2) % ERROR_ROWS];
      // Serpentine: odd rows run right to left, so error never drifts one way across the picture.
      const reverse = (y & 1) === 1;
      const step = reverse ? -3 : 3;
      for (let n = 0; n < width; n++) {
        const x = reverse ? width - 1 - n : n;
        const i = origin + y * rowStep + x * colStep;
        let r = TO_LINEAR[rgb[i]];
        let g = TO_LINEAR[rgb[i + 1]];
        let b = TO_LINEAR[rgb[i + 2]];
        if (saturation !== 1) {
          const luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
          r = luma + saturation * (r - luma);
          g = luma + saturation * (g - luma);
          b = luma + saturation * (b - luma);
        }
        const e = (x + MARGIN) * 3;
        // Clamped to the gamut, so colours no ink can reach do not pile up error that smears.
        r = clamp01(r + here[e]);
        g = clamp01(g + here[e + 1]);
        b = clamp01(b + here[e + 2]);
        let best = 0;
        let bestDistance = Infinity;
        for (let k = 0, p = 0; k < colours; k++, p += 3) {
          const dr = r - pal[p];
          const dg = g - pal[p + 1];
          const db = b - pal[p + 2];
          const distance = dr * dr + dg * dg + db * db;
          if (distance < bestDistance) {
            bestDistance = distance;
            best = k;
          }
        }
        out[y * width + x] = best;
        if (bestDistance === 0 || method === 'none') continue;
        const er = r - pal[best * 3];
        const eg = g - pal[best * 3 + 1];
        const eb = b - pal[best * 3 + 2];
        // Written out per method rather than looped over a kernel table: this is the hot loop.
        if (method === 'floyd-steinberg') {
          spread(here, e + step, er, eg, eb, 7 / 16);
          spread(below, e - step, er, eg, eb, 3 / 16);
          spread(below, e, er, eg, eb, 5 / 16);
          spread(below, e + step, er, eg, eb, 1 / 16);
        } else {
          // Atkinson spreads only 6/8 of the error: highlights and shadows clip, which keeps contrast.
          spread(here, e + step, er, eg, eb, 1 / 8);
          spread(here, e + 2 * step, er, eg, eb, 1 / 8);
          spread(below, e - step, er, eg, eb, 1 / 8);
          spread(below, e, er, eg, eb, 1 / 8);
          spread(below, e + step, er, eg, eb, 1 / 8);
          spread(below2, e, er, eg, eb, 1 / 8);
        }
      }
      // This row is done; cleared, it serves as the row two below. Its margins caught error aimed
      // past the edges, which is dropped, not carried over.
      here.fill(0);
    }
    next = end;
    return next < height;
  };
  return { out, rows };
}

function spread(row: Float32Array, at: number, er: number, eg: number, eb: number, weight: number): void {
  row[at] += er * weight;
  row[at + 1] += eg * weight;
  row[at + 2] += eb * weight;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
