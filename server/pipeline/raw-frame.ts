import { open, type FileHandle } from 'node:fs/promises';
import type sharp from 'sharp';
import { demosaicRow, swapRedBlue, yuv422ToRgb } from './pixel-rows';
import type { RawFrameLayout } from './raw-encodings';

/** A raw frame's pixels as sharp takes them: `sharp(pixels.data, { raw: pixels.raw })`. */
export interface RawPixels {
  /** Packed rows; a Uint16Array for 16-bit grey, so that sharp reads it as such. */
  data: Buffer | Uint16Array;
  raw: sharp.CreateRaw;
  /**
   * The colour space to store: grey frames stay grey (8 or 16 bits), as sharp would otherwise
   * widen them to 8-bit sRGB; null for colour frames.
   */
  colourspace: 'b-w' | 'grey16' | null;
}

/** Rows are read from disk in chunks of about this many bytes when they cannot land in place. */
const CHUNK_BYTES = 1 << 20;

/**
 * Reads a raw frame (its length already checked against the layout) from `file` at `offset` into the one
 * frame-sized buffer sharp decodes from. Frames whose pixels keep their size and have no row
 * padding are read straight into that buffer and converted in place; all others (padding, YUV,
 * Bayer) are read in chunks of rows of about 1 MB, so the file never lives twice in memory.
 */
export async function readRawFrame(file: string, layout: RawFrameLayout, offset = 0): Promise<RawPixels> {
  const { width, height, channels, bits } = layout;
  const outRowBytes = width * channels * (bits / 8);
  // Never from the shared pool: a pooled slice may start at an odd offset, and a Uint16Array cannot.
  const out = Buffer.allocUnsafeSlow(outRowBytes * height);
  const handle = await open(file, 'r');
  try {
    if (layout.conversion === 'bayer') await demosaicFrame(handle, layout, offset, out);
    else if (layout.step === layout.rowBytes && outRowBytes === layout.rowBytes) await readInPlace(handle, layout, offset, out);
    else {
      let to = 0;
      for await (const { chunk, from } of chunkRows(handle, layout, offset)) {
        convertRow(layout, chunk, from, out, to);
        to += outRowBytes;
      }
    }
  } finally {
    await handle.close();
  }
  const grey16 = bits === 16;
  return {
    data: grey16 ? new Uint16Array(out.buffer, out.byteOffset, out.length / 2) : out,
    raw: { width, height, channels },
    colourspace: grey16 ? 'grey16' : channels === 1 ? 'b-w' : null,
  };
}

async function readInPlace(handle: FileHandle, layout: RawFrameLayout, offset: number, out: Buffer): Promise<void> {
  let done = 0;
  while (done < out.length) {
    const { bytesRead } = await handle.read(out, done, out.length - done, offset + done);
    if (bytesRead === 0) throw new Error('The raw frame file ended early');
    done += bytesRead;
  }
  // One "row" spanning the whole frame: the conversions work on any run of pixels.
  convertRow({ ...layout, width: layout.width * layout.height, rowBytes: out.length }, out, 0, out, 0);
}

/**
 * Converts one row (or any run) of `layout.width` pixels. 16-bit samples are byte-swapped when
 * big-endian: sharp reads the host's order, little-endian on a Pi.
 */
function convertRow(layout: RawFrameLayout, src: Buffer, from: number, dst: Buffer, to: number): void {
  const { conversion, width, rowBytes } = layout;
  if (conversion === 'swap-rb') swapRedBlue(src, from, dst, to, width, layout.inBytes as 3 | 4);
  else if (conversion === 'yuyv' || conversion === 'uyvy') yuv422ToRgb(conversion, src, from, dst, to, width);
  else {
    if (src !== dst || from !== to) src.copy(dst, to, from, from + rowBytes);
    if (layout.bits === 16 && layout.bigEndian) dst.subarray(to, to + rowBytes).swap16();
  }
}

/**
 * Yields each row of the frame file in turn as a place in a reused chunk buffer: the row is valid
 * until the next one is asked for.
 */
async function* chunkRows(handle: FileHandle, layout: RawFrameLayout, offset: number): AsyncGenerator<{ chunk: Buffer; from: number }> {
  const { step, height } = layout;
  const rowsPerChunk = Math.max(1, Math.min(height, Math.floor(CHUNK_BYTES / step)));
  const chunk = Buffer.allocUnsafe(rowsPerChunk * step);
  for (let y = 0; y < height; y += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, height - y);
    const { bytesRead } = await handle.read(chunk, 0, rows * step, offset + y * step);
    if (bytesRead < (rows - 1) * step + layout.rowBytes) throw new Error('The raw frame file ended early');
    for (let r = 0; r < rows; r++) yield { chunk, from: r * step };
  }
}

/**
 * Demosaics a Bayer frame with three rows in hand at a time: the row above, the row and the row
 * below, copied out of the chunks as they stream by.
 */
async function demosaicFrame(handle: FileHandle, layout: RawFrameLayout, offset: number, out: Buffer): Promise<void> {
  const { width, height, pattern } = layout;
  const ring = [Buffer.alloc(width), Buffer.alloc(width), Buffer.alloc(width)];
  const at = (y: number): Buffer => ring[y % 3];
  const emit = (y: number): void => {
    // Mirrored at the top and bottom edges, as at the left and right ones.
    const above = y > 0 ? at(y - 1) : at(y + 1);
    const below = y < height - 1 ? at(y + 1) : at(y - 1);
    demosaicRow(pattern!, y, above, at(y), below, out, y * width * 3, width);
  };
  let y = 0;
  for await (const { chunk, from } of chunkRows(handle, layout, offset)) {
    chunk.copy(at(y), 0, from, from + width);
    if (y >= 1) emit(y - 1);
    y++;
  }
  emit(height - 1);
}
