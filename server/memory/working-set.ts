import type { Settings } from '../settings';
import { isEncodedBytes, type ImageInput } from '../pipeline/image-input';
import { rawFrameLayout, type RawFrameSpec } from '../pipeline/raw-encodings';
import { readImageHeader, type ImageHeader } from '../pipeline/image-header';
import type { InputFormat } from '../pipeline/sniff';


/**
 * MiB per megapixel as decoded (after shrink-on-load), by format, on top of {@link FIXED_MB} and
 * the output's cost. Calibrated with `npm run bench:working-set` (the table is in
 * docs/benchmarks.md) and rounded up, so that no measured case is underestimated: an estimate
 * too low lets the budget be overrun, one too high only costs some concurrency. JPEG and TIFF
 * stream rows (JPEG at 1/2, 1/4 or 1/8 scale when the resize allows); PNG streams rows at full
 * size; libwebp and GIF hold more of the image; libheif decodes HEIF and AVIF whole.
 */
export const DECODED_MB_PER_MP: Readonly<Record<InputFormat, number>> = {
  jpeg: 1, png: 0.75, tiff: 1, webp: 5.5, gif: 4, heif: 18,
};
/** The stored image, held whole while it is turned, and the PNG encoder's buffers, per output megapixel. */
const OUTPUT_MB_PER_MP = 4;
/** What a resize adds per output megapixel: the scaler's buffers beside the decoded rows. */
const RESIZE_MB_PER_MP = 5;
/** libvips' per-image structures, the decoder's and encoder's state, whatever the size. */
const FIXED_MB = 3;

/**
 * The JPEG shrink-on-load factor sharp uses for a resize by `ratio` (its fastShrinkOnLoad rule,
 * the default): the largest of 8, 4 and 2 that the ratio reaches, else 1.
 */
function jpegShrink(ratio: number): number {
  return ratio >= 8 ? 8 : ratio >= 4 ? 4 : ratio >= 2 ? 2 : 1;
}

/**
 * The memory, in MiB, that processing this image is expected to add to the daemon's RSS at its
 * peak, from its header alone: the pixels decoded after shrink-on-load (the resize to
 * max_image_dimension lets JPEG decode at 1/2, 1/4 or 1/8 and WebP at any scale) and the pixels
 * of the stored image. Used by the queue's admission under memory_budget_mb.
 */
export function estimateWorkingSetMb(header: ImageHeader, settings: Pick<Settings, 'max_image_dimension'>): number {
  const { format, width, height } = header;
  const ratio = Math.max(1, Math.max(width, height) / settings.max_image_dimension);
  const shrink = format === 'jpeg' ? jpegShrink(ratio) : format === 'webp' ? ratio : 1;
  const decodedMp = (Math.ceil(width / shrink) * Math.ceil(height / shrink)) / 1e6;
  return FIXED_MB + DECODED_MB_PER_MP[format] * decodedMp + outputMb(width, height, ratio);
}

/** What the stored image costs: held whole while it is turned, plus the scaler's buffers when resized. */
function outputMb(width: number, height: number, ratio: number): number {
  const outputMp = (Math.round(width / ratio) * Math.round(height / ratio)) / 1e6;
  return (ratio > 1 ? OUTPUT_MB_PER_MP + RESIZE_MB_PER_MP : OUTPUT_MB_PER_MP) * outputMp;
}

/**
 * A raw frame's estimate: the one frame-sized buffer sharp encodes from (docs/benchmarks.md, "Raw
 * camera frames": bare sharp peaks 5-6 MiB above it) and the stored image. 0 for a description
 * the pipeline will refuse before reading a pixel.
 */
function rawEstimateMb(spec: RawFrameSpec, settings: Pick<Settings, 'max_image_dimension'>): number {
  let layout;
  try {
    layout = rawFrameLayout(spec);
  } catch {
    return 0;
  }
  const { width, height, channels, bits } = layout;
  const ratio = Math.max(1, Math.max(width, height) / settings.max_image_dimension);
  return FIXED_MB + (width * height * channels * (bits / 8)) / (1024 * 1024) + outputMb(width, height, ratio);
}

/** What the flow learns of an input before queuing it. */
export interface InputWeight {
  /** The working-set estimate the queue admits the input by. */
  costMb: number;
  /** The encoded file's header, handed to the pipeline so that it is read once; null for a raw frame or no image. */
  header: ImageHeader | null;
}

/**
 * Weighs what the upload flow hands the pipeline, before the image is queued: from the header of
 * an encoded file or image in memory, or from a raw frame's description. 0 for a file that is no image: the pipeline
 * refuses it before decoding a pixel. `head` is the file's start when the way in kept it (readImageHeader).
 */
export async function weighInput(input: ImageInput, settings: Pick<Settings, 'max_image_dimension'>, head?: Buffer): Promise<InputWeight> {
  if (typeof input !== 'string' && !isEncodedBytes(input)) return { costMb: rawEstimateMb(input.raw, settings), header: null };
  const header = isEncodedBytes(input) ? await readImageHeader(input.bytes) : await readImageHeader(input, head);
  return { costMb: header ? estimateWorkingSetMb(header, settings) : 0, header };
}

