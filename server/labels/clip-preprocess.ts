/**
 * CLIP's image preprocessing as a Hugging Face `preprocessor_config.json` describes it, done as
 * its CLIPImageProcessor does: resize so that the shortest edge is `size` (the longer edge
 * `floor(size × long / short)`) with the config's PIL resample filter, center crop, rescale,
 * normalise by mean and std, channels first. The resize is PIL's own algorithm (separable,
 * horizontal pass first, 8-bit fixed-point weights, rounded to bytes after each pass), so that the
 * pixels match what the model was exported and evaluated with, not an approximation by libvips.
 */

/** The parts of preprocessor_config.json read here, as Xenova's exports write them. */
export interface ClipPreprocessorConfig {
  do_resize: boolean;
  /** The shortest edge after the resize. */
  shortestEdge: number;
  /** PIL's filter number: 0 nearest, 1 Lanczos, 2 bilinear, 3 bicubic, 4 box, 5 Hamming. */
  resample: number;
  do_center_crop: boolean;
  crop: { width: number; height: number };
  do_rescale: boolean;
  rescale_factor: number;
  do_normalize: boolean;
  mean: [number, number, number];
  std: [number, number, number];
}

type Raw = Record<string, unknown>;

/** A size as the config writes it: a number, or {shortest_edge}, or {height, width}. */
function sizeOf(value: unknown, fallback: number): { width: number; height: number; shortest: number } {
  if (typeof value === 'number') return { width: value, height: value, shortest: value };
  const raw = (value ?? {}) as Raw;
  if (typeof raw.shortest_edge === 'number') return { width: raw.shortest_edge, height: raw.shortest_edge, shortest: raw.shortest_edge };
  if (typeof raw.height === 'number' && typeof raw.width === 'number') return { width: raw.width, height: raw.height, shortest: Math.min(raw.width, raw.height) };
  return { width: fallback, height: fallback, shortest: fallback };
}

function triple(value: unknown, fallback: [number, number, number]): [number, number, number] {
  if (typeof value === 'number') return [value, value, value];
  return Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number') ? value as [number, number, number] : fallback;
}

/**
 * Reads preprocessor_config.json, with CLIP's own values where it is silent.
 * @throws Error on a resample filter PIL does not have.
 */
export function parsePreprocessorConfig(json: unknown): ClipPreprocessorConfig {
  const raw = (json ?? {}) as Raw;
  const resample = typeof raw.resample === 'number' ? raw.resample : 3;
  if (!(resample in FILTERS) && resample !== 0) throw new Error(`preprocessor_config.json: resample ${resample} is not a PIL filter (0-5)`);
  const crop = sizeOf(raw.crop_size, 224);
  return {
    do_resize: raw.do_resize !== false,
    shortestEdge: sizeOf(raw.size, 224).shortest,
    resample,
    do_center_crop: raw.do_center_crop !== false,
    crop: { width: crop.width, height: crop.height },
    do_rescale: raw.do_rescale !== false,
    rescale_factor: typeof raw.rescale_factor === 'number' ? raw.rescale_factor : 1 / 255,
    do_normalize: raw.do_normalize !== false,
    mean: triple(raw.image_mean, [0.48145466, 0.4578275, 0.40821073]),
    std: triple(raw.image_std, [0.26862954, 0.26130258, 0.27577711]),
  };
}

/** PIL's filters by number: their support and kernel. */
const FILTERS: Record<number, { support: number; kernel: (x: number) => number }> = {
  1: { support: 3, kernel: (x) => (Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0) },
  2: { support: 1, kernel: (x) => Math.max(0, 1 - Math.abs(x)) },
  3: { support: 2, kernel: bicubic },
  4: { support: 0.5, kernel: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  5: { support: 1, kernel: (x) => (Math.abs(x) < 1 ? sinc(x) * (0.54 + 0.46 * Math.cos(Math.PI * x)) : 0) },
};

function sinc(x: number): number {
  return x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
}

/** PIL's bicubic, a = -0.5. */
function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** PIL's fixed-point precision of 8-bit resampling weights. */
const PRECISION_BITS = 32 - 8 - 2;

/** Each output position's first input, and its weights in PIL's fixed point. */
function coefficients(inSize: number, outSize: number, filter: { support: number; kernel: (x: number) => number }) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const bounds: number[] = [];
  const weights: number[][] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5));
    const k: number[] = [];
    let total = 0;
    for (let x = xmin; x < xmax; x++) {
      const w = filter.kernel((x - center + 0.5) / filterScale);
      k.push(w);
      total += w;
    }
    bounds.push(xmin);
    weights.push(k.map((w) => {
      const normal = total === 0 ? w : w / total;
      return Math.trunc(normal < 0 ? -0.5 + normal * (1 << PRECISION_BITS) : 0.5 + normal * (1 << PRECISION_BITS));
    }));
  }
  return { bounds, weights };
}

/** One pass of PIL's resample along x (`horizontal`) or y, RGB bytes in and out. */
function resamplePass(src: Uint8Array, width: number, height: number, outSize: number, horizontal: boolean, filter: { support: number; kernel: (x: number) => number }): Uint8Array {
  const { bounds, weights } = coefficients(horizontal ? width : height, outSize, filter);
  const outW = horizontal ? outSize : width;
  const outH = horizontal ? height : outSize;
  const out = new Uint8Array(outW * outH * 3);
  const half = 2 ** (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const along = horizontal ? x : y;
      const k = weights[along];
      for (let c = 0; c < 3; c++) {
        // In float64, exact for these integer products: PIL's 32-bit sum is the same integer.
        let sum = half;
        for (let i = 0; i < k.length; i++) {
          const at = horizontal ? (y * width + bounds[along] + i) : ((bounds[along] + i) * width + x);
          sum += src[at * 3 + c] * k[i];
        }
        out[(y * outW + x) * 3 + c] = Math.min(255, Math.max(0, Math.floor(sum / 2 ** PRECISION_BITS)));
      }
    }
  }
  return out;
}

/** PIL's nearest-neighbour resize: each output pixel takes the input pixel under its centre. */
function nearest(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(height - 1, Math.floor((y + 0.5) * height / outH));
    for (let x = 0; x < outW; x++) {
      const sx = Math.min(width - 1, Math.floor((x + 0.5) * width / outW));
      out.set(src.subarray((sy * width + sx) * 3, (sy * width + sx) * 3 + 3), (y * outW + x) * 3);
    }
  }
  return out;
}

/** RGB bytes resized to `outW`×`outH` as PIL's Image.resize does with filter `resample`. */
export function resizeLikePil(src: Uint8Array, width: number, height: number, outW: number, outH: number, resample: number): Uint8Array {
  if (resample === 0) return nearest(src, width, height, outW, outH);
  const filter = FILTERS[resample];
  let pixels = src;
  let w = width;
  if (outW !== width) {
    pixels = resamplePass(pixels, w, height, outW, true, filter);
    w = outW;
  }
  if (outH !== height) pixels = resamplePass(pixels, w, height, outH, false, filter);
  return pixels;
}

/** The size CLIP resizes a `width`×`height` image to: shortest edge `shortest`, the other cut down to an integer. */
export function resizedSize(width: number, height: number, shortest: number): { width: number; height: number } {
  return width <= height
    ? { width: shortest, height: Math.trunc((shortest * height) / width) }
    : { width: Math.trunc((shortest * width) / height), height: shortest };
}

/**
 * The vision model's `pixel_values` for an RGB image: [3, height, width] floats, channels first.
 * Outside the image (a crop larger than it) is 0 before rescaling, as CLIP's padding is.
 */
export function clipPixelValues(rgb: Uint8Array, width: number, height: number, config: ClipPreprocessorConfig): { data: Float32Array; width: number; height: number } {
  let pixels = rgb;
  let w = width;
  let h = height;
  if (config.do_resize) {
    const size = resizedSize(w, h, config.shortestEdge);
    pixels = resizeLikePil(pixels, w, h, size.width, size.height, config.resample);
    w = size.width;
    h = size.height;
  }
  const outW = config.do_center_crop ? config.crop.width : w;
  const outH = config.do_center_crop ? config.crop.height : h;
  // Floor division, as CLIP's center_crop does; negative when the crop is larger (padding).
  const top = Math.floor((h - outH) / 2);
  const left = Math.floor((w - outW) / 2);
  const data = new Float32Array(3 * outW * outH);
  for (let c = 0; c < 3; c++) {
    const scale = config.do_rescale ? config.rescale_factor : 1;
    const mean = config.do_normalize ? config.mean[c] : 0;
    const std = config.do_normalize ? config.std[c] : 1;
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const sy = y + top;
        const sx = x + left;
        const value = sy >= 0 && sy < h && sx >= 0 && sx < w ? pixels[(sy * w + sx) * 3 + c] : 0;
        data[(c * outH + y) * outW + x] = (value * scale - mean) / std;
      }
    }
  }
  return { data, width: outW, height: outH };
}
