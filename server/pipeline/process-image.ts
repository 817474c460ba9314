import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { emptyUpload, imageWithoutDimensions, notAnImage, tooManyPixels, undecodableImage, type AppError } from '../errors';
import type { Settings } from '../settings';
import { asDiskError } from '../storage/disk-errors';
import { readExif, type ExifSummary } from './exif';
import { checkFrameLength, rawFrameLayout, type RawFrameLayout } from './raw-encodings';
import { readRawFrame } from './raw-frame';
import { readFileHead, sniffImageFormat, type InputFormat } from './sniff';
import type { ImageHeader } from './image-header';
import { isEncodedBytes, type ImageInput, type RawFrameInput } from './image-input';

/** What processing learned of the upload and made of it. */
export interface ProcessedImage {
  width: number;
  height: number;
  bytes: number;
  compression_level: number;
  original: { width: number; height: number; format: InputFormat | 'raw'; bytes: number; orientation: number };
  rotated: boolean;
  resized: boolean;
  exif: Omit<ExifSummary, 'orientation'>;
}

/** The state the steps share: each step reads what earlier ones found and adds its part. */
interface PipelineContext {
  /** The encoded image's file or bytes; a raw frame's file. */
  readonly input: string | Buffer;
  readonly output: string;
  readonly settings: Settings;
  /** Set for raw frames only: the file, its description and where the frame lies in it. */
  readonly raw?: RawFrameInput;
  /** The header, when the caller has read it already (the upload flow, to weigh the image). */
  readonly header?: ImageHeader;
  rawLayout?: RawFrameLayout;
  format?: InputFormat | 'raw';
  inputBytes?: number;
  width?: number;
  height?: number;
  exif?: ExifSummary;
  image?: sharp.Sharp;
  resized?: boolean;
  result?: sharp.OutputInfo;
}

type Step = (ctx: PipelineContext) => Promise<void> | void;

/**
 * Sniffs the type, reads the header and EXIF, then decodes, resizes, orients and encodes.
 * Rejections happen in the first steps, before any pixel is decoded. Resizing comes before
 * orienting because sharp turns an image before resizing it only by giving up shrink-on-load:
 * a 12 MP JPEG turned first is decoded whole (36 MB of pixels) instead of at half size.
 */
const STEPS: Step[] = [sniff, inspect, readOrientation, decode, resize, orient, encode];

/**
 * A raw frame has no header to sniff and no EXIF: its description is checked against the file's
 * length, then its pixels are read into one frame-sized buffer that sharp decodes in place.
 */
const RAW_STEPS: Step[] = [checkRawFrame, decodeRawFrame, resize, orient, encode];

/**
 * Turns the uploaded file (or raw frame) `input` into an upright, bounded PNG at `output`.
 * `header`, when given, is what {@link readImageHeader} read of `input`: it is not read again.
 * @throws AppError unsupported_media_type, too_many_pixels or invalid_image; invalid_parameter
 *   for a raw frame whose description or length is wrong.
 */
export async function processImage(input: ImageInput, output: string, settings: Settings, header?: ImageHeader): Promise<ProcessedImage> {
  const ctx: PipelineContext = typeof input === 'string' ? { input, output, settings, header }
    : isEncodedBytes(input) ? { input: input.bytes, output, settings, header }
      : { input: input.file, raw: input, output, settings };
  for (const step of ctx.raw ? RAW_STEPS : STEPS) await step(ctx);
  const { format, inputBytes, width, height, exif, result, resized } = ctx as Required<PipelineContext>;
  const { orientation, ...camera } = exif;
  return {
    width: result.width,
    height: result.height,
    bytes: result.size,
    compression_level: settings.compression_quality,
    original: { width, height, format, bytes: inputBytes, orientation },
    rotated: orientation !== 1,
    resized,
    exif: camera,
  };
}

async function sniff(ctx: PipelineContext): Promise<void> {
  if (ctx.header) {
    ctx.format = ctx.header.format;
  } else {
    const head = typeof ctx.input === 'string' ? await readFileHead(ctx.input) : ctx.input;
    const format = sniffImageFormat(head);
    if (!format) {
      throw head.length === 0 ? emptyUpload() : notAnImage();
    }
    ctx.format = format;
  }
  // Synchronous: the pipeline runs in the image worker, whose event loop nothing else waits on,
  // and a call through the thread pool costs a wake-up of one of its threads.
  ctx.inputBytes = typeof ctx.input === 'string' ? statSync(ctx.input).size : ctx.input.length;
}

async function inspect(ctx: PipelineContext): Promise<void> {
  const { width, height } = ctx.header ?? await readDimensions(ctx);
  if (!width || !height) throw imageWithoutDimensions(ctx.format!);
  // A decompression bomb is refused from its header, before a single pixel is decoded.
  checkPixelCount(ctx, width, height);
  ctx.width = width;
  ctx.height = height;
}

async function readDimensions(ctx: PipelineContext): Promise<sharp.Metadata> {
  try {
    return await sharp(ctx.input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw imageError(ctx, 'read', err);
  }
}

function checkPixelCount(ctx: PipelineContext, width: number, height: number): void {
  if (width * height > ctx.settings.max_input_pixels) {
    throw tooManyPixels(width, height, ctx.settings.max_input_pixels);
  }
}

async function readOrientation(ctx: PipelineContext): Promise<void> {
  ctx.exif = await readExif(ctx.input, ctx.inputBytes);
}

/** The raw frame's description, its length and its pixel count, checked before reading a pixel. */
async function checkRawFrame(ctx: PipelineContext): Promise<void> {
  const { raw, file, region } = ctx.raw!;
  const layout = rawFrameLayout(raw);
  ctx.format = 'raw';
  checkPixelCount(ctx, layout.width, layout.height);
  ctx.inputBytes = region?.length ?? (await stat(file)).size;
  checkFrameLength(layout, ctx.inputBytes);
  ctx.rawLayout = layout;
  ctx.width = layout.width;
  ctx.height = layout.height;
  // Raw pixels carry no EXIF: they are stored as they come, orientation 1.
  ctx.exif = { orientation: 1 };
}

async function decodeRawFrame(ctx: PipelineContext): Promise<void> {
  const { file, region } = ctx.raw!;
  const pixels = await readRawFrame(file, ctx.rawLayout!, region?.offset ?? 0);
  const image = sharp(pixels.data, { raw: pixels.raw, limitInputPixels: ctx.settings.max_input_pixels });
  ctx.image = pixels.colourspace ? image.toColourspace(pixels.colourspace) : image;
}

/**
 * How every upload is decoded, in both modes: streaming top to bottom, so only a band of rows is
 * in memory (resize() then makes JPEG and WebP decode at 1/2, 1/4 or 1/8 scale: shrink-on-load);
 * with the pixel limit enforced by libvips too; only the first frame of an animation or a
 * multi-page file. Random access would let libvips threads share an image but measured no faster.
 */
export function decodeOptions(settings: Settings): sharp.SharpOptions {
  return { sequentialRead: true, limitInputPixels: settings.max_input_pixels, pages: 1, failOn: 'warning' };
}

/**
 * The stored PNG's options: the zlib level from the settings, and adaptive row filtering as
 * libpng and Pillow do by default; on photos it is about 1.5x smaller than unfiltered at the same
 * level (docs/benchmarks.md).
 */
export function pngOptions(settings: Settings): sharp.PngOptions {
  return { compressionLevel: settings.compression_quality, adaptiveFiltering: true };
}

function decode(ctx: PipelineContext): void {
  ctx.image = sharp(ctx.input, decodeOptions(ctx.settings));
}

/**
 * The sharp operations that undo each EXIF orientation. sharp mirrors (flip(), flop()) before it
 * rotates, whatever the call order, so each entry reads "mirror, then rotate".
 */
const ORIENTATION_OPS: Record<number, { angle: number; flip?: boolean; flop?: boolean }> = {
  1: { angle: 0 },
  2: { angle: 0, flop: true },
  3: { angle: 180 },
  4: { angle: 0, flip: true },
  5: { angle: 270, flop: true },
  6: { angle: 90 },
  7: { angle: 90, flop: true },
  8: { angle: 270 },
};

function orient(ctx: PipelineContext): void {
  const ops = ORIENTATION_OPS[ctx.exif!.orientation];
  let image = ctx.image!;
  if (ops.angle) image = image.rotate(ops.angle);
  if (ops.flip) image = image.flip();
  if (ops.flop) image = image.flop();
  ctx.image = image;
}

function resize(ctx: PipelineContext): void {
  const max = ctx.settings.max_image_dimension;
  ctx.resized = Math.max(ctx.width!, ctx.height!) > max;
  // The box is square, so bounding the stored image bounds the turned one alike; JPEG and WebP shrink on load.
  if (ctx.resized) ctx.image = ctx.image!.resize(max, max, { fit: 'inside', withoutEnlargement: true });
}

async function encode(ctx: PipelineContext): Promise<void> {
  try {
    ctx.result = await ctx.image!
      .png(pngOptions(ctx.settings))
      .toFile(ctx.output);
  } catch (err) {
    throw imageError(ctx, 'decoded', err);
  }
}

/**
 * A sharp failure as the client should see it: the disk's fault (full: 507, failing: 500) when
 * libvips says so, else the image's (422 invalid_image).
 */
function imageError(ctx: PipelineContext, verb: 'read' | 'decoded', err: unknown): AppError {
  return asDiskError(err)
    ?? undecodableImage(ctx.format!, verb, libvipsReason(err), err);
}

/** The first line of a libvips error, without the internal paths it may carry. */
function libvipsReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0].replace(/\/[^\s:]+/g, '<file>').slice(0, 200);
}
