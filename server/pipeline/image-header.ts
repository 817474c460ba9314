import { loadSharp } from './sharp-tuning';
import { readFileHead, sniffImageFormat, type InputFormat } from './sniff';

/** What the header says of an image: all the estimate needs. */
export interface ImageHeader {
  format: InputFormat;
  width: number;
  height: number;
}

/**
 * How much of a file's start is read for its header: a JPEG's frame header follows its EXIF
 * segment, which may hold up to 64 KiB (a camera's preview), and a PNG's IHDR is at byte 16.
 */
export const HEAD_BYTES = 128 * 1024;

/**
 * Reads the format from the magic bytes and the dimensions from the header (no pixel is
 * decoded), for the estimate before an upload is queued. JPEG and PNG, what cameras send, are read
 * here from one read of the file's start; other formats, and a JPEG whose frame header is not in
 * that start, by sharp. Null when the file is no image sharp can read: the pipeline will refuse
 * it with the right error, before decoding anything. `head`, when given, is the file's first
 * {@link HEAD_BYTES} bytes (all of it when shorter), kept by the way in as it wrote the file: the
 * file is then not read back for them. `file` may also be the encoded image itself, in memory.
 */
export async function readImageHeader(file: string | Buffer, head?: Buffer): Promise<ImageHeader | null> {
  head ??= typeof file === 'string' ? await readFileHead(file, HEAD_BYTES) : file;
  const format = sniffImageFormat(head);
  if (!format) return null;
  const size = format === 'jpeg' ? jpegSize(head) : format === 'png' ? pngSize(head) : undefined;
  if (size) return { format, ...size };
  try {
    const { width, height } = await loadSharp()(file, { limitInputPixels: false }).metadata();
    return width && height ? { format, width, height } : null;
  } catch {
    return null;
  }
}

interface Size { width: number; height: number }

/** The width and height of a PNG's IHDR chunk, when it is whole. */
function pngSize(head: Buffer): Size | undefined {
  if (head.length < 24 || head.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  const width = head.readUInt32BE(16);
  const height = head.readUInt32BE(20);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/**
 * The width and height of a JPEG's frame header (SOF0-SOF15 but DHT, JPG and DAC), found by
 * walking the segments from the start; undefined when it lies past `head`, the scan comes first,
 * or the header names no height (a DNL marker gives it later): sharp then reads the file.
 */
function jpegSize(head: Buffer): Size | undefined {
  let at = 2;
  while (at + 4 <= head.length) {
    if (head[at] !== 0xff) return undefined;
    const marker = head[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    // Markers that stand alone, with no length: TEM and the restart markers.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return undefined;
    const length = head.readUInt16BE(at + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (at + 9 > head.length || length < 8) return undefined;
      const height = head.readUInt16BE(at + 5);
      const width = head.readUInt16BE(at + 7);
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    at += 2 + length;
  }
  return undefined;
}
